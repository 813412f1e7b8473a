"""The OAuth side of the EHR launch (SMART App Launch 2.0), with authlib: discovery at
``{iss}/.well-known/smart-configuration``, the authorization URL (code flow, PKCE S256, ``aud``
= ``iss``, ``launch`` echoed) and the code exchange, whose answer must carry the ``patient``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from service.hooks.json_input import InvalidJson, loads_strict

CONFIG_PATH = "/.well-known/smart-configuration"
CONFIG_MAX_BYTES = 64 * 1024


class LaunchError(Exception):
    """The launch cannot go on; the message says why, without tokens or patient data."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str


@dataclass(frozen=True)
class Grant:
    access_token: str
    patient: str


def endpoints(iss: str, timeout: float) -> Endpoints:
    """The authorization and token endpoints the FHIR server ``iss`` names."""
    try:
        with requests.get(iss.rstrip("/") + CONFIG_PATH, timeout=timeout, stream=True,
                          allow_redirects=False, headers={"Accept": "application/json"}) as r:
            if r.status_code != 200:
                raise LaunchError(f"the FHIR server's SMART configuration answered {r.status_code}")
            body = r.raw.read(CONFIG_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise LaunchError(f"the FHIR server's SMART configuration could not be read "
                          f"({type(exc).__name__})") from None
    if len(body) > CONFIG_MAX_BYTES:
        raise LaunchError("the FHIR server's SMART configuration is too large")
    try:
        config = loads_strict(body)
    except InvalidJson:
        raise LaunchError("the FHIR server's SMART configuration is not JSON") from None
    urls = [config.get(key) if isinstance(config, dict) else None
            for key in ("authorization_endpoint", "token_endpoint")]
    if not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in urls):
        raise LaunchError("the FHIR server's SMART configuration names no authorization and "
                          "token endpoints")
    return Endpoints(str(urls[0]), str(urls[1]))


def new_verifier() -> str:
    return str(generate_token(64))


def authorization_url(session: OAuth2Session, endpoint: str, *, iss: str, launch: str,
                      state: str, verifier: str) -> str:
    url, _ = session.create_authorization_url(endpoint, state=state, code_verifier=verifier,
                                              aud=iss, launch=launch)
    return str(url)


def exchange(session: OAuth2Session, token_endpoint: str, *, code: str, verifier: str,
             timeout: float) -> Grant:
    """The access token and patient for ``code``."""
    try:
        token: dict[str, Any] = session.fetch_token(token_endpoint, code=code,
                                                    code_verifier=verifier, timeout=timeout)
    except Exception as exc:  # authlib raises OAuthError, requests its own, on a bad answer
        raise LaunchError(f"the authorization server refused the code ({type(exc).__name__})") \
            from None
    access, patient = token.get("access_token"), token.get("patient")
    if not isinstance(access, str) or not access:
        raise LaunchError("the authorization server gave no access token")
    if not isinstance(patient, str) or not patient or "/" in patient:
        raise LaunchError("the launch gave no patient context (the token answer has no patient)")
    return Grant(access, patient)
