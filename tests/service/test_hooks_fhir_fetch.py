"""Prefetch resolution and fallback fetch against a real FHIR server (Node, in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cds_harness import SandboxClient, Signer, assessed_by, serve
from conftest import FHIR_TOKEN

from service.fhir.client import FhirClient, FhirFetchError, peer_allowed
from service.hooks.discovery import SERVICE_ID

PATIENT = "pt-relapse-1"
EXPECTED = ["Condition/all-dx", "Condition/relapse-1", "Observation/csf-blasts",
            "Observation/csf-rbc", "Observation/csf-wbc", "Observation/marrow-blasts",
            f"Patient/{PATIENT}"]


@pytest.fixture()
def client(app: Any, signer: Signer, fhir_server: str) -> Iterator[SandboxClient]:
    with serve(app) as base:
        yield SandboxClient(base, signer, fhir_server=fhir_server, access_token=FHIR_TOKEN)


@pytest.fixture()
def engine_input(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What the service hands the engine, as sorted references (the engine answers 'not
    applicable', so these tests check prefetch resolution only)."""
    seen: list[list[str]] = []

    def capture(resources: list[dict[str, Any]]) -> dict[str, Any]:
        seen.append(sorted(f"{r['resourceType']}/{r['id']}" for r in resources))
        return {"applicable": False}

    assessed_by(monkeypatch, capture)
    return seen


def templates(client: SandboxClient) -> dict[str, str]:
    prefetch: dict[str, str] = client.discovery().json()["services"][0]["prefetch"]
    return prefetch


def test_sandbox_resolved_prefetch_is_used(client: SandboxClient,
                                           engine_input: list[list[str]]) -> None:
    prefetch = client.resolve_prefetch(templates(client), PATIENT)
    assert prefetch["observations"]["resourceType"] == "Bundle"
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200, response.text
    assert engine_input == [EXPECTED]


def test_no_prefetch_is_fetched_from_fhir_server(client: SandboxClient,
                                                 engine_input: list[list[str]]) -> None:
    response = client.call(SERVICE_ID, client.request_body(PATIENT))
    assert response.status_code == 200, response.text
    assert engine_input == [EXPECTED]


@pytest.mark.parametrize("damage", ["absent", "null", "outcome", "not-a-bundle"])
def test_damaged_keys_are_fetched(client: SandboxClient, engine_input: list[list[str]],
                                  damage: str) -> None:
    """peer: partial prefetch, null keys, an OperationOutcome inside prefetch."""
    prefetch = client.resolve_prefetch(templates(client), PATIENT)
    for key in ("patient", "conditions", "observations"):
        if damage == "absent":
            del prefetch[key]
        elif damage == "null":
            prefetch[key] = None
        elif damage == "outcome":
            prefetch[key] = {"resourceType": "OperationOutcome",
                             "issue": [{"severity": "error", "code": "timeout"}]}
        else:
            prefetch[key] = "garbage"
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200, response.text
    assert engine_input == [EXPECTED]


def test_paged_prefetch_is_followed(client: SandboxClient, fhir_server: str,
                                    engine_input: list[list[str]]) -> None:
    prefetch = client.resolve_prefetch(templates(client), PATIENT)
    first_page = client.http.get(f"{fhir_server}/Observation?patient={PATIENT}&_count=1",
                                 headers={"Authorization": f"Bearer {FHIR_TOKEN}"}, timeout=5)
    prefetch["observations"] = first_page.json()
    assert prefetch["observations"]["link"][0]["relation"] == "next"
    response = client.call(SERVICE_ID, client.request_body(PATIENT, prefetch))
    assert response.status_code == 200, response.text
    assert engine_input == [EXPECTED]


def test_wrong_access_token_gives_412(client: SandboxClient) -> None:
    client.access_token = "not-the-token"
    response = client.call(SERVICE_ID, client.request_body(PATIENT))
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unknown_patient_gives_412(client: SandboxClient) -> None:
    response = client.call(SERVICE_ID, client.request_body("nobody-here"))
    assert response.status_code == 412


def test_client_follows_pages(fhir_server: str) -> None:
    client = FhirClient(fhir_server, FHIR_TOKEN,
                        peer_policy=lambda ip: peer_allowed(ip, allow_loopback=True))
    found = client.search(f"Observation?patient={PATIENT}&_count=1")
    assert sorted(r["id"] for r in found) == ["csf-blasts", "csf-rbc", "csf-wbc",
                                              "marrow-blasts"]
    assert client.read(f"Patient/{PATIENT}")["id"] == PATIENT
    with pytest.raises(FhirFetchError, match="HTTP 404"):
        client.read("Patient/nobody-here")


def test_administration_only_history_and_its_medication_are_fetched(client: SandboxClient) -> None:
    """An EHR whose only record of blinatumomab is its medication administration record, for a
    pharmacy product the maps do not know: fetched with no prefetch, the administration and its
    Medication (by _include) come from the FHIR server, the ingredient is read, and the critical
    CNS warning is on the card (CLINICAL_RULES §6; FHIR_INPUT.md "Patterns real records use")."""
    response = client.call(SERVICE_ID, client.request_body("pt-mar-1"))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert critical and "Blinatumomab" in critical[0]["summary"], [c["summary"] for c in cards]
