"""The causes of the 5xx found from outside, each as a regression test over real HTTP: a
resource ``id`` that is a list or an object, NaN/Infinity and out-of-range numbers, a lone
surrogate in a string, an access token that cannot go into a header, oversized headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cds_harness import SandboxClient, Signer, serve
from test_hooks_protocol import assert_outcome, full_prefetch

from service.hooks.discovery import SERVICE_ID

PATIENT = "pt-relapse-1"


@pytest.fixture()
def client(app: Any, signer: Signer) -> Iterator[SandboxClient]:
    with serve(app) as base:
        yield SandboxClient(base, signer)


def _first(prefetch: dict[str, Any], key: str) -> dict[str, Any]:
    resource: dict[str, Any] = prefetch[key]["entry"][0]["resource"]
    return resource


@pytest.mark.parametrize("value", [["a", "b"], {"id": "x"}, 12, None, True])
@pytest.mark.parametrize("field", ["id", "resourceType"])
def test_a_resource_id_or_type_of_any_json_type_is_handled(client: SandboxClient, field: str,
                                                           value: Any) -> None:
    prefetch = full_prefetch()
    _first(prefetch, "conditions")[field] = value
    _first(prefetch, "observations")[field] = value
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" * 5000])
def test_numbers_json_does_not_have_are_400(client: SandboxClient, number: str) -> None:
    body = json.dumps(client.request_body(PATIENT, full_prefetch()))
    body = body.replace('"value": 60', f'"value": {number}', 1)
    assert number in body
    assert_outcome(client.call(SERVICE_ID, None, raw=body.encode()), 400)


@pytest.mark.parametrize("where", ["id", "unit", "hookInstance", "feedback"])
def test_a_lone_surrogate_is_400(client: SandboxClient, where: str) -> None:
    if where == "feedback":
        url = f"{client.base_url}/cds-services/{SERVICE_ID}/feedback"
        body = json.dumps({"feedback": [{"card": "c", "outcome": "overridden",
                                         "outcomeTimestamp": "2024-03-01T10:00:00Z",
                                         "overrideReason": {"reason": {"code": "\ud800"}}}]})
        headers = {"Authorization": f"Bearer {client.signer.token(url)}"} if client.signer else {}
        response = requests.post(url, data=body.encode(), headers=headers, timeout=10)
        assert_outcome(response, 400)
        return
    prefetch = full_prefetch()
    observation = _first(prefetch, "observations")
    if where == "id":
        observation["id"] = "obs-\udfff"
    elif where == "unit":
        observation["valueQuantity"] = {"value": 1, "unit": "\ud83d"}
    extra = {"hookInstance": "\ud800"} if where == "hookInstance" else {}
    body = json.dumps(client.request_body(PATIENT, prefetch, **extra))  # escaped as \\udxxx
    assert_outcome(client.call(SERVICE_ID, None, raw=body.encode()), 400)


def test_an_escaped_surrogate_pair_is_fine(client: SandboxClient) -> None:
    prefetch = full_prefetch()
    _first(prefetch, "conditions")["id"] = "emoji-😀"  # json.dumps writes \\ud83d\\ude00
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["tökén", "токен", "tok en", "tok\nen", "", "x" * 9000])
def test_an_access_token_that_cannot_be_a_header_is_400(client: SandboxClient,
                                                        token: str) -> None:
    client.fhir_server, client.access_token = "http://127.0.0.1:9/fhir", "placeholder"
    body = client.request_body(PATIENT)
    body["fhirAuthorization"]["access_token"] = token
    response = assert_outcome(client.call(SERVICE_ID, body), 400)
    assert "access_token" in response["issue"][0]["diagnostics"]


def test_oversized_headers_are_a_json_431(client: SandboxClient) -> None:
    url = f"{client.base_url}/cds-services"
    headers = {f"X-Pad-{n}": "x" * 4000 for n in range(10)}
    response = requests.get(url, headers=headers, timeout=10)
    body = assert_outcome(response, 431)
    assert body["issue"][0]["code"] == "too-costly"
