"""The CDS Hooks protocol over real HTTP: discovery, CORS, request validation, error bodies.

Regression tests for what peers got wrong are marked "peer:".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cds_harness import SandboxClient, Signer, assessed_by, serve
from conftest import load

from service.hooks.discovery import SERVICE_ID
from service.mapping import default_code_maps

PATIENT = "pt-relapse-1"


@pytest.fixture()
def client(app: Any, signer: Signer) -> Iterator[SandboxClient]:
    with serve(app) as base:
        yield SandboxClient(base, signer)


def full_prefetch() -> dict[str, Any]:
    """Every prefetch key filled from the test bundle."""
    resources = [e["resource"] for e in load("relapse_bundle.json")["entry"]]

    def search(kind: str) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for r in resources if r["resourceType"] == kind]}

    return {"patient": resources[0], "conditions": search("Condition"),
            "observations": search("Observation"), "medications": search("MedicationStatement"),
            "medicationRequests": search("MedicationRequest"), "procedures": search("Procedure")}


def assert_outcome(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert "Traceback" not in response.text
    return body


def test_discovery_lists_the_patient_view_service_first(client: SandboxClient) -> None:
    response = client.discovery()
    assert response.status_code == 200
    service, *orders = response.json()["services"]
    assert [s["hook"] for s in orders] == ["order-select", "order-sign"]  # test_hooks_orders.py
    assert service["hook"] == "patient-view" and service["id"] == SERVICE_ID
    assert service["title"] and service["description"] and service["usageRequirements"]
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
    assert prefetch["procedures"] == "Procedure?patient={{context.patientId}}"
    for key, kind in (("medications", "MedicationStatement"), ("medicationRequests", "MedicationRequest"),
                      ("medicationAdministrations", "MedicationAdministration")):
        # the Medication each references comes along, so its ingredients can be read
        assert prefetch[key] == (f"{kind}?patient={{{{context.patientId}}}}"
                                 f"&_include={kind}:medication")
    for template in prefetch.values():
        assert template.replace("{{context.patientId}}", "") .count("{{") == 0
    codes = prefetch["observations"].split("&code=")[1].split(",")
    expected = {f"{s}|{c}" for s, c in default_code_maps().codes_for("observation")}
    assert set(codes) == expected and "http://loinc.org|11150-0" in codes


def test_cors_preflight_allows_authorization_and_content_type(client: SandboxClient) -> None:
    response = requests.options(f"{client.base_url}/cds-services/{SERVICE_ID}", timeout=5,
                                headers={"Origin": "https://sandbox.cds-hooks.org",
                                         "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers":
                                             "authorization,content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*",
                                                               "https://sandbox.cds-hooks.org")
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    methods = response.headers["Access-Control-Allow-Methods"]
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in methods.split(",")}


def test_peer_extension_in_request_is_accepted(client: SandboxClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """peer: HAPI FHIR answered 400 to a request carrying an `extension`."""
    assessed_by(monkeypatch, lambda r: {"applicable": False})
    body = client.request_body(PATIENT, full_prefetch(),
                               extension={"com.example.ehr": {"tenant": "a"}})
    body["context"]["extension"] = {"com.example.context": True}
    response = client.call(SERVICE_ID, body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


@pytest.mark.parametrize("context", [{}, None, "missing", [], {"userId": "Practitioner/1"},
                                     {"patientId": ""}, {"patientId": "a/../b"}])
def test_peer_empty_or_missing_context_is_400(client: SandboxClient, context: Any) -> None:
    """peer: HAPI FHIR answered 500 to an empty context."""
    body = client.request_body(PATIENT, full_prefetch())
    if context == "missing":
        del body["context"]
    else:
        body["context"] = context
    assert_outcome(client.call(SERVICE_ID, body), 400)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b"\xff\xfe", b"null", b"[]"])
def test_peer_malformed_body_is_400_not_404_or_500(client: SandboxClient, raw: bytes) -> None:
    """peer: cqf-ruler answered 404 to a malformed request."""
    assert_outcome(client.call(SERVICE_ID, None, raw=raw), 400)


@pytest.mark.parametrize("change", [
    {"hook": "order-select"}, {"hook": None}, {"hookInstance": ""}, {"prefetch": ["x"]},
    {"fhirServer": "ftp://ehr.example/fhir"},
    {"fhirAuthorization": {"token_type": "Bearer"}, "fhirServer": "https://ehr.example/fhir"},
])
def test_invalid_fields_are_400(client: SandboxClient, change: dict[str, Any]) -> None:
    body = client.request_body(PATIENT, full_prefetch())
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    assert_outcome(client.call(SERVICE_ID, body), 400)


def test_fhir_authorization_without_fhir_server_is_400(client: SandboxClient) -> None:
    body = client.request_body(PATIENT, full_prefetch(),
                               fhirAuthorization={"access_token": "x", "token_type": "Bearer"})
    assert_outcome(client.call(SERVICE_ID, body), 400)


def test_unknown_service_is_404(client: SandboxClient) -> None:
    assert_outcome(client.call("no-such-service", client.request_body(PATIENT, {})), 404)


def test_body_over_the_limit_is_413(client: SandboxClient) -> None:
    body = client.request_body(PATIENT, full_prefetch(), padding="x" * 300_000)
    assert_outcome(client.call(SERVICE_ID, body), 413)


def test_wrong_method_is_an_operation_outcome(client: SandboxClient) -> None:
    url = f"{client.base_url}/cds-services/{SERVICE_ID}"
    headers = {"Authorization": f"Bearer {client.signer.token(url)}"} if client.signer else {}
    assert_outcome(requests.delete(url, headers=headers, timeout=5), 405)


def test_no_prefetch_and_no_fhir_server_is_412(client: SandboxClient) -> None:
    response = client.call(SERVICE_ID, client.request_body(PATIENT))
    body = assert_outcome(response, 412)
    assert "patient" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("key", ["patient", "conditions"])
def test_required_key_null_or_outcome_without_fhir_server_is_412(client: SandboxClient,
                                                                 key: str) -> None:
    for value in (None, {"resourceType": "OperationOutcome", "issue": [{"severity": "error",
                                                                        "code": "forbidden"}]}):
        prefetch = full_prefetch()
        prefetch[key] = value
        assert_outcome(client.call(SERVICE_ID, client.request_body(PATIENT, prefetch)), 412)


def test_prefetch_patient_of_another_id_is_not_used(client: SandboxClient) -> None:
    prefetch = full_prefetch()
    prefetch["patient"] = dict(prefetch["patient"], id="someone-else")
    assert_outcome(client.call(SERVICE_ID, client.request_body(PATIENT, prefetch)), 412)


def test_engine_failure_is_a_card_saying_so_without_details_never_empty_cards(
        client: SandboxClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """peer: a framework swallowed handler errors into `cards: []`. A failure on the record is
    not a 5xx either (any input gets a 4xx or an answer): the clinician sees a warning card."""
    def broken(resources: list[dict[str, Any]]) -> dict[str, Any]:
        raise ValueError(f"cannot read {resources[0]['birthDate']}")

    assessed_by(monkeypatch, broken)
    response = client.call(SERVICE_ID, client.request_body(PATIENT, full_prefetch()))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert card["indicator"] == "warning" and "could not assess" in card["summary"]
    assert card["source"]["topic"]["code"] == "assessment-failed"
    body = response.text
    assert "birthDate" not in body and "2012-05-02" not in body
    assert "ValueError" in caplog.text and "2012-05-02" not in caplog.text


def test_optional_keys_may_be_absent_null_or_outcomes(client: SandboxClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """peer: cqf-ruler assumed prefetch was complete; HAPI broke on an OperationOutcome."""
    seen: list[list[dict[str, Any]]] = []

    def capture(resources: list[dict[str, Any]]) -> dict[str, Any]:
        seen.append(list(resources))
        return {"applicable": False}

    assessed_by(monkeypatch, capture)
    prefetch = full_prefetch()
    prefetch["observations"] = {"resourceType": "OperationOutcome",
                                "issue": [{"severity": "error", "code": "too-costly"}]}
    prefetch["medications"] = None
    del prefetch["procedures"]
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200 and response.json() == {"cards": []}
    kinds = sorted(r["resourceType"] for r in seen[0])
    assert kinds == ["Condition", "Condition", "Patient"]


def test_resources_of_another_patient_are_dropped(client: SandboxClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def capture(resources: list[dict[str, Any]]) -> dict[str, Any]:
        seen.append(sorted(r["id"] for r in resources))
        return {"applicable": False}

    assessed_by(monkeypatch, capture)
    prefetch = full_prefetch()
    prefetch["conditions"]["entry"].append({"resource": {
        "resourceType": "Condition", "id": "theirs", "subject": {"reference": "Patient/other"}}})
    prefetch["conditions"]["entry"].append({"resource": {
        "resourceType": "Condition", "id": "urn-ref", "subject": {"reference": "urn:uuid:1"}}})
    assert client.call(SERVICE_ID, client.request_body(PATIENT, prefetch)).status_code == 200
    assert "theirs" not in seen[0] and "urn-ref" in seen[0] and "all-dx" in seen[0]
