"""Trusting the CDS client: the JWT it sends on every call (CDS Hooks 2.0 "Trusting CDS Clients").

Checks, in order: ``alg`` ES384 or RS384 only (so no ``none``, no HMAC); ``iss`` in the
allowlist; ``jku``, if sent, equal to that issuer's configured JWKS URL; signature against the
issuer's JWKS (file or URL; cached, refreshed on an unknown ``kid``); ``aud`` equal to the URL
called; ``exp``/``iat`` with a small leeway; ``jti`` not seen before within the token's life.
Failures raise :class:`Unauthorized` carrying only the check's name; the token is never logged.
The service keeps seen ``(iss, jti)`` pairs in its database, shared by all workers; a
process-local cache remains for embedding the verifier elsewhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import jwt
from sqlalchemy import Column, Float, MetaData, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

ALGORITHMS = ("ES384", "RS384")
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]


class Unauthorized(Exception):
    """The call is not trusted; the message names the failed check, never the token."""


class KeySource(Protocol):
    url: str | None

    def key(self, kid: str) -> jwt.PyJWK: ...


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
                jwks = jwt.PyJWKSet.from_dict(json.loads(self._path.read_text("utf-8")))
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
        _tokens_metadata.create_all(engine)

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
    def __init__(self, issuers: Mapping[str, KeySource], *, leeway_seconds: int = 30,
                 replays: ReplayCache | None = None) -> None:
        self._issuers = dict(issuers)
        self._leeway = leeway_seconds
        self._replays = replays or MemoryReplayCache()

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The claims of the Bearer token in an ``Authorization`` header value."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        token = authorization.removeprefix("Bearer ").strip()
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
        source = self._issuers[issuer]
        if "jku" in header and header["jku"] != source.url:
            raise Unauthorized("jku not allowed")
        if not isinstance(kid, str):
            raise Unauthorized("no kid")
        try:
            verified: dict[str, Any] = jwt.decode(
                token, source.key(kid), algorithms=[alg], audience=audience, issuer=issuer,
                leeway=self._leeway, options={"require": REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(type(exc).__name__) from exc
        if not self._replays.first_use(issuer, str(verified["jti"]),
                                       float(verified["exp"]) + self._leeway):
            raise Unauthorized("jti replayed")
        return verified


def verifier_from_settings(issuers: Mapping[str, str], leeway_seconds: int,
                           jwks_cache_seconds: int, replays: ReplayCache | None = None) -> JwtVerifier:
    return JwtVerifier({iss: key_source(loc, jwks_cache_seconds) for iss, loc in issuers.items()},
                       leeway_seconds=leeway_seconds, replays=replays)
