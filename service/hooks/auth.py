"""Trusting the CDS client: the JWT it sends on every call (CDS Hooks 2.0 "Trusting CDS Clients").

Checks, in order: ``alg`` ES384 or RS384 only (so no ``none``, no HMAC); ``iss`` in the
allowlist; ``jku``, if sent, equal to that issuer's configured JWKS URL; signature against the
issuer's JWKS (file or URL; cached, refreshed on an unknown ``kid``); ``aud`` equal to the URL
called; ``exp``/``iat`` with a small leeway; ``jti`` not seen before within the token's life.
Failures raise :class:`Unauthorized` carrying only the check's name; the token is never logged.
The replay cache is per process: behind several workers a replay that lands on another worker
is caught only by the token's short lifetime.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import jwt

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


class ReplayCache:
    """``(iss, jti)`` pairs seen, kept until their token expires."""

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


class JwtVerifier:
    def __init__(self, issuers: Mapping[str, KeySource], *, leeway_seconds: int = 30) -> None:
        self._issuers = dict(issuers)
        self._leeway = leeway_seconds
        self._replays = ReplayCache()

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
                           jwks_cache_seconds: int) -> JwtVerifier:
    return JwtVerifier({iss: key_source(loc, jwks_cache_seconds) for iss, loc in issuers.items()},
                       leeway_seconds=leeway_seconds)
