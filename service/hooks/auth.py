"""Trusting the CDS client: the JWT it sends on every call (CDS Hooks 2.0 "Trusting CDS Clients").

Checks, in order: the ``Bearer`` scheme (any case); ``alg`` ES384 or RS384 only (so no
``none``, no HMAC); ``iss`` in the allowlist; ``jku``, if sent, one the issuer's entry allows
(its JWKS URL, or a URL listed under ``jku``: the keys still come from the configured file or
URL, never from the URL the token names); signature against the issuer's JWKS (file or URL;
cached, refreshed on an unknown ``kid``); ``aud`` equal to the URL called (built from the
configured public base URL); ``exp``/``iat`` numbers, with a small leeway, at most an hour
apart; ``jti`` a non-empty string not seen before within the token's life.
Failures raise :class:`Unauthorized` whose message says which check failed (it is logged),
never the token. The service keeps seen ``(iss, jti)`` pairs in its database, shared by all
workers, and deletes them once their token has expired; a process-local cache remains for
embedding the verifier elsewhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import jwt
from sqlalchemy import Column, Float, MetaData, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from service.hooks.tables import create_missing_tables

ALGORITHMS = ("ES384", "RS384")
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
MAX_JTI = 255
# What each PyJWT failure means, for the log line of a 401.
JWT_FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not valid yet (iat or nbf in the future)"),
    (jwt.InvalidAudienceError, "aud is not the URL called"),
    (jwt.InvalidIssuerError, "iss does not match"),
    (jwt.InvalidSignatureError, "signature does not verify"),
    (jwt.MissingRequiredClaimError, "a required claim is missing"),
    (jwt.exceptions.InvalidJTIError, "jti must be a string"),
    (jwt.PyJWKClientError, "the issuer's JWKS could not be had"),
    (jwt.DecodeError, "malformed token"),
)


class Unauthorized(Exception):
    """The call is not trusted; the message names the failed check, never the token."""


class KeySource(Protocol):
    url: str | None

    def key(self, kid: str) -> jwt.PyJWK: ...


class IssuerTrust:
    """An issuer's keys and the ``jku`` values its tokens may carry."""

    def __init__(self, keys: KeySource, jku: Iterable[str] = ()) -> None:
        self.keys = keys
        self.jku = frozenset([*jku, *([keys.url] if keys.url else [])])


class UrlKeys:
    """A JWKS at an URL: PyJWKClient caches it and refetches it on an unknown ``kid``."""

    def __init__(self, url: str, lifespan_seconds: float) -> None:
        self.url: str | None = url
        self._client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=lifespan_seconds,
                                       timeout=2)

    def key(self, kid: str) -> jwt.PyJWK:
        return self._client.get_signing_key(kid)


class FileKeys:
    """A JWKS in a file, read again when a ``kid`` is not in the copy held."""

    url: str | None = None

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys:
                try:
                    jwks = jwt.PyJWKSet.from_dict(json.loads(self._path.read_text("utf-8")))
                except (OSError, ValueError, jwt.PyJWTError) as exc:
                    raise Unauthorized(f"the JWKS file cannot be read ({type(exc).__name__})") \
                        from None
                self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
            if kid not in self._keys:
                raise Unauthorized("unknown kid")
            return self._keys[kid]


def key_source(location: str, lifespan_seconds: float) -> KeySource:
    """A JWKS given as an http(s) URL or a file path."""
    if location.startswith(("https://", "http://")):
        return UrlKeys(location, lifespan_seconds)
    return FileKeys(location)


class ReplayCache(Protocol):
    def first_use(self, issuer: str, jti: str, expires: float) -> bool: ...


class MemoryReplayCache:
    """``(iss, jti)`` pairs seen by this process, kept until their token expires."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, issuer: str, jti: str, expires: float) -> bool:
        now = time.time()
        with self._lock:
            self._seen = {k: exp for k, exp in self._seen.items() if exp >= now}
            if (issuer, jti) in self._seen:
                return False
            self._seen[(issuer, jti)] = expires
            return True


_tokens_metadata = MetaData()
seen_tokens = Table(
    "seen_tokens", _tokens_metadata,
    Column("issuer", String(255), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires", Float, nullable=False, index=True),
)


class DatabaseReplayCache:
    """``(iss, jti)`` pairs seen by every worker sharing the database (gunicorn runs several
    processes: a per-process cache would let a token be replayed against another worker)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        create_missing_tables(_tokens_metadata, engine)

    def first_use(self, issuer: str, jti: str, expires: float) -> bool:
        row = {"issuer": issuer[:255], "jti": jti[:255], "expires": expires}
        with self._engine.begin() as conn:
            conn.execute(delete(seen_tokens).where(seen_tokens.c.expires < time.time()))
            statement = _insert_ignoring_duplicates(conn.dialect.name).values(**row)
            # RETURNING tells a new row from a duplicate on both databases (psycopg reports no
            # rowcount for ON CONFLICT DO NOTHING)
            return conn.execute(statement.returning(seen_tokens.c.jti)).first() is not None


def _insert_ignoring_duplicates(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(seen_tokens).on_conflict_do_nothing()
    return sqlite.insert(seen_tokens).on_conflict_do_nothing()


class JwtVerifier:
    def __init__(self, issuers: Mapping[str, IssuerTrust | KeySource], *,
                 leeway_seconds: int = 30, max_lifetime_seconds: int = 3600,
                 replays: ReplayCache | None = None) -> None:
        self._issuers = {iss: t if isinstance(t, IssuerTrust) else IssuerTrust(t)
                         for iss, t in issuers.items()}
        self._leeway = leeway_seconds
        self._max_lifetime = max_lifetime_seconds
        self._replays = replays or MemoryReplayCache()

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The claims of the Bearer token in an ``Authorization`` header value."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        alg, kid, issuer = header.get("alg"), header.get("kid"), claims.get("iss")
        if alg not in ALGORITHMS:
            raise Unauthorized("algorithm not allowed")
        if header.get("typ", "JWT") != "JWT":
            raise Unauthorized("typ not JWT")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise Unauthorized("issuer not allowed")
        trust = self._issuers[issuer]
        if "jku" in header and header["jku"] not in trust.jku:
            raise Unauthorized("jku not allowed for this issuer")
        if not isinstance(kid, str):
            raise Unauthorized("no kid")
        try:
            verified: dict[str, Any] = jwt.decode(
                token, trust.keys.key(kid), algorithms=[alg], audience=audience, issuer=issuer,
                leeway=self._leeway, options={"require": REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(_failure(exc)) from exc
        exp, jti = self._checked_claims(verified)
        if not self._replays.first_use(issuer, jti, exp + self._leeway):
            raise Unauthorized("jti replayed")
        return verified

    def _checked_claims(self, claims: dict[str, Any]) -> tuple[float, str]:
        """``exp`` and ``jti`` once their types and the token's lifetime are checked."""
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not (_number(exp) and _number(iat)):
            raise Unauthorized("exp and iat must be numbers")
        if exp - iat > self._max_lifetime:
            raise Unauthorized(f"token lifetime (exp - iat) over {self._max_lifetime} s")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI or "\x00" in jti:
            raise Unauthorized(f"jti must be a string of 1 to {MAX_JTI} characters")
        return float(exp), jti


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _failure(exc: Exception) -> str:
    for kind, meaning in JWT_FAILURES:
        if isinstance(exc, kind):
            return meaning
    return f"token refused ({type(exc).__name__})"


def verifier_from_settings(issuers: Mapping[str, Any], leeway_seconds: int,
                           jwks_cache_seconds: int, max_lifetime_seconds: int = 3600,
                           replays: ReplayCache | None = None) -> JwtVerifier:
    """``issuers``: ``iss`` → a JWKS location (URL or file), or an object with ``jwks`` and
    ``jku`` (:class:`service.settings.IssuerKeys`)."""
    trusts = {}
    for issuer, entry in issuers.items():
        location = entry if isinstance(entry, str) else entry.jwks
        allowed_jku = () if isinstance(entry, str) else entry.jku
        trusts[issuer] = IssuerTrust(key_source(location, jwks_cache_seconds), allowed_jku)
    return JwtVerifier(trusts, leeway_seconds=leeway_seconds,
                       max_lifetime_seconds=max_lifetime_seconds, replays=replays)
