"""Client JWT checks over real HTTP: every failure is a plain 401; nothing secret is logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cds_harness import SandboxClient, Signer, assessed_by, serve, start_gunicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import create_engine, select
from test_hooks_protocol import full_prefetch

from service.app import ConfigurationError, create_app
from service.hooks.auth import DatabaseReplayCache, seen_tokens
from service.hooks.discovery import SERVICE_ID
from service.settings import IssuerKeys, Settings

PATIENT = "pt-relapse-1"


@pytest.fixture()
def base(app: Any) -> Iterator[str]:
    with serve(app) as url:
        yield url


def get(url: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=5)


def assert_401(response: requests.Response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["issue"][0]["diagnostics"] == "unauthorized"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_es384_token_is_accepted(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    assert get(url, signer.token(url)).status_code == 200


def test_rs384_issuer_is_accepted(tmp_path: Path, signer: Signer, settings: Settings) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "epic-1", "alg": "RS384"})
    (tmp_path / "epic.json").write_text(json.dumps({"keys": [jwk]}))
    settings.issuers["https://epic.example/oauth2"] = str(tmp_path / "epic.json")
    with serve(create_app(settings)) as base:
        url = f"{base}/cds-services"
        now = int(time.time())
        token = jwt.encode({"iss": "https://epic.example/oauth2", "aud": url, "iat": now,
                            "nbf": now, "exp": now + 60, "jti": "j1", "sub": "client"},
                           key, algorithm="RS384", headers={"kid": "epic-1"})
        assert get(url, token).status_code == 200


def test_missing_token_is_401(base: str) -> None:
    assert_401(get(f"{base}/cds-services", None))
    assert_401(requests.get(f"{base}/cds-services", timeout=5,
                            headers={"Authorization": "Basic dXNlcjpwdw=="}))


def test_forged_signature_is_401(base: str, signer: Signer, tmp_path: Path) -> None:
    forger = Signer(tmp_path / "..", kid=signer.kid)  # same kid, another key
    url = f"{base}/cds-services"
    assert_401(get(url, forger.token(url)))


def test_alg_none_is_401(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': signer.kid})}.{b64(signer.claims(url))}."
    assert_401(get(url, token))


def test_hmac_with_the_public_key_as_secret_is_401(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    public_pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64({"alg": "HS384", "typ": "JWT", "kid": signer.kid})
    payload = b64(signer.claims(url))
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha384).digest()
    token = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert_401(get(url, token))


def test_es256_is_not_allowed(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    key = ec.generate_private_key(ec.SECP256R1())
    assert_401(get(url, jwt.encode(signer.claims(url), key, algorithm="ES256",
                                   headers={"kid": signer.kid})))


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3900},  # expired
    {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3900},  # issued in the future
    {"jti": None}, {"exp": None}, {"iat": None},                          # required claims
    {"iss": "https://unknown.example"},                                   # unknown issuer
])
def test_bad_claims_are_401(base: str, signer: Signer, claims: dict[str, Any]) -> None:
    url = f"{base}/cds-services"
    assert_401(get(url, signer.token(url, **claims)))


def test_wrong_audience_is_401(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    assert_401(get(url, signer.token(f"{base}/cds-services/{SERVICE_ID}")))
    assert_401(get(url, signer.token("https://other.example/cds-services")))


def test_jku_not_allowlisted_is_401(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    assert_401(get(url, signer.token(url, headers={"jku": "https://evil.example/jwks"})))


def test_replayed_jti_is_401(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    token = signer.token(url)
    assert get(url, token).status_code == 200
    assert_401(get(url, token))


def test_new_kid_refreshes_the_jwks_file(base: str, signer: Signer, tmp_path: Path) -> None:
    url = f"{base}/cds-services"
    assert get(url, signer.token(url)).status_code == 200
    rotated = Signer(tmp_path / "..", kid="sandbox-key-2")
    signer.jwks_path.write_text(rotated.jwks_path.read_text())
    assert get(url, rotated.token(url)).status_code == 200


def test_feedback_and_service_calls_need_a_token_for_their_own_url(base: str,
                                                                   signer: Signer) -> None:
    service_url = f"{base}/cds-services/{SERVICE_ID}"
    discovery_token = signer.token(f"{base}/cds-services")
    response = requests.post(service_url, json={}, timeout=5,
                             headers={"Authorization": f"Bearer {discovery_token}"})
    assert_401(response)
    feedback_url = f"{service_url}/feedback"
    assert_401(requests.post(feedback_url, json={"feedback": []}, timeout=5,
                             headers={"Authorization": f"Bearer {signer.token(service_url)}"}))


def test_public_base_url_sets_the_audience(settings: Settings, signer: Signer) -> None:
    settings.public_base_url = "https://cds.hospital.example/relapsed"
    with serve(create_app(settings)) as base:
        expected = "https://cds.hospital.example/relapsed/cds-services"
        assert get(f"{base}/cds-services", signer.token(expected)).status_code == 200
        assert_401(get(f"{base}/cds-services", signer.token(f"{base}/cds-services")))


def test_tokens_and_patient_data_are_not_logged(base: str, signer: Signer,
                                                caplog: pytest.LogCaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assessed_by(monkeypatch, lambda r: {"applicable": False})
    caplog.set_level(logging.DEBUG)
    client = SandboxClient(base, signer, fhir_server="http://127.0.0.1:9",
                           access_token="FHIR-ACCESS-TOKEN-xyz")
    body = client.request_body(PATIENT, full_prefetch())
    url = f"{base}/cds-services/{SERVICE_ID}"
    token = signer.token(url)
    for headers in ({"Authorization": f"Bearer {token}"},  # accepted
                    {"Authorization": f"Bearer {token}"},  # replayed → 401
                    {"Authorization": f"Bearer {token[:-4]}AAAA"}):  # forged → 401
        requests.post(url, json=body, headers=headers, timeout=5)
    body["prefetch"] = {}  # forces a (failing) fallback fetch with the access token
    client.call(SERVICE_ID, body)
    for secret in (token, token.split(".")[1], "FHIR-ACCESS-TOKEN-xyz", "2012-05-02",
                   "Testchild", "Alma", "Bearer", PATIENT):
        assert secret not in caplog.text
    assert "client authentication failed" in caplog.text


@pytest.mark.parametrize("make", [
    lambda s, url: "not-a-jwt",
    lambda s, url: "a.b",
    lambda s, url: "a.b.c.d",
    lambda s, url: "%%%.@@@.!!!",
    lambda s, url: ".".join(s.token(url).split(".")[:2]) + ".",  # signature stripped
    lambda s, url: s.token(url).split(".")[0] + "." + b64({"iss": s.issuer}) + "."
                   + s.token(url).split(".")[2],                  # claims swapped under a signature
    lambda s, url: s.token(url) + "x",                            # trailing garbage
], ids=["opaque", "two-parts", "four-parts", "not-base64", "no-signature", "swapped-claims",
        "trailing-garbage"])
def test_malformed_tokens_are_401(base: str, signer: Signer, make: Any) -> None:
    url = f"{base}/cds-services"
    assert_401(get(url, make(signer, url)))


def test_unknown_kid_from_an_untrusted_key_is_401(base: str, signer: Signer,
                                                  tmp_path: Path) -> None:
    stranger = Signer(tmp_path / "..", kid="never-published")
    url = f"{base}/cds-services"
    assert_401(get(url, stranger.token(url)))
    assert get(url, signer.token(url)).status_code == 200  # the real key still works after it


# --- issue 10: jku with a file JWKS, lifetime and claim types, Bearer case, 401 reasons ---------

SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


@pytest.fixture()
def sandbox_base(settings: Settings, signer: Signer) -> Iterator[str]:
    """The issuer's keys in a file, its tokens' `jku` allowed (a site that cannot reach the
    sandbox's URL)."""
    settings.issuers[signer.issuer] = IssuerKeys(jwks=str(signer.jwks_path), jku=[SANDBOX_JKU])
    with serve(create_app(settings)) as url:
        yield url


def test_a_sandbox_shaped_token_verifies_against_the_file_keys(sandbox_base: str,
                                                               signer: Signer) -> None:
    url = f"{sandbox_base}/cds-services"
    token = signer.token(url, headers={"jku": SANDBOX_JKU})
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"], header["jku"]) == ("ES384", signer.kid, SANDBOX_JKU)
    assert get(url, token).status_code == 200
    assert get(url, signer.token(url)).status_code == 200  # no jku at all: still fine
    assert_401(get(url, signer.token(url, headers={"jku": "https://evil.example/jwks.json"})))


def test_the_string_form_refuses_a_jku_it_does_not_name(base: str, signer: Signer) -> None:
    url = f"{base}/cds-services"
    assert_401(get(url, signer.token(url, headers={"jku": SANDBOX_JKU})))


@pytest.mark.parametrize(("claims", "reason"), [
    (lambda now: {"iat": now, "exp": now + 3601 + 60}, "lifetime"),
    (lambda now: {"exp": str(now + 60)}, "exp and iat must be numbers"),
    (lambda now: {"iat": str(now)}, "token refused|must be numbers|malformed"),
    (lambda now: {"jti": ""}, "jti must be a string"),
    (lambda now: {"jti": 12345}, "jti must be a string"),
    (lambda now: {"exp": now - 120}, "token expired"),
], ids=["lifetime-over-1h", "exp-string", "iat-string", "jti-empty", "jti-number", "expired"])
def test_bad_lifetimes_and_claim_types_are_401_and_logged_with_the_reason(
        base: str, signer: Signer, claims: Any, reason: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    url = f"{base}/cds-services"
    token = signer.token(url, **claims(int(time.time())))
    assert_401(get(url, token))
    failures = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert failures and re.search(reason, failures[-1]), failures
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(base: str, signer: Signer, scheme: str) -> None:
    url = f"{base}/cds-services"
    response = requests.get(url, timeout=5,
                            headers={"Authorization": f"{scheme} {signer.token(url)}"})
    assert response.status_code == 200


def test_a_forged_host_header_does_not_change_the_audience(base: str, signer: Signer) -> None:
    forged = "http://evil.example/cds-services"
    response = requests.get(f"{base}/cds-services", timeout=5, headers={
        "Host": "evil.example", "Authorization": f"Bearer {signer.token(forged)}"})
    assert_401(response)


def test_auth_on_without_public_base_url_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL"):
        create_app(settings.model_copy(update={"public_base_url": None}))


def test_gunicorn_refuses_to_start_without_public_base_url(tmp_path: Path,
                                                           signer: Signer) -> None:
    env = {"RELAPSED_ALL_CDS_AUTH_ENABLED": "true",
           "RELAPSED_ALL_CDS_ISSUERS": json.dumps({signer.issuer: str(signer.jwks_path)}),
           "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite3'}"}
    with pytest.raises(RuntimeError, match=r"(?s)PUBLIC_BASE_URL is not set.*failed to boot"), \
            start_gunicorn(env, workers=1):
        pass


def test_replay_cache_rows_expire(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    cache = DatabaseReplayCache(engine)
    assert cache.first_use("iss", "old", time.time() - 1)
    assert cache.first_use("iss", "new", time.time() + 60)
    assert not cache.first_use("iss", "new", time.time() + 60)  # replay refused
    with engine.connect() as conn:
        left = {row.jti for row in conn.execute(select(seen_tokens.c.jti))}
    assert left == {"new"}  # the expired row is gone
    assert cache.first_use("iss", "old", time.time() + 60)  # its jti may be seen again
