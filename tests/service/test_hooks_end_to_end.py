"""The whole path with the real engine: sandbox-like client → service → FHIR server → cards.

The client signs ES384 JWTs, resolves the prefetch templates against the Node FHIR server (or
leaves them to the service's fallback fetch), validates every card, then posts feedback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cds_harness import SandboxClient, Signer, serve
from cds_rules import assert_valid_response
from conftest import FHIR_TOKEN

from service.hooks.discovery import SERVICE_ID
from service.hooks.feedback import FeedbackStore
from service.render import ASSESSMENT_KEY
from service.settings import Settings

PATIENT = "pt-relapse-1"


@pytest.fixture()
def client(app: Any, signer: Signer, fhir_server: str) -> Iterator[SandboxClient]:
    with serve(app) as base:
        yield SandboxClient(base, signer, fhir_server=fhir_server, access_token=FHIR_TOKEN)


def call(client: SandboxClient, patient: str, prefetch: dict[str, Any] | None) -> list[Any]:
    response = client.call(SERVICE_ID, client.request_body(patient, prefetch))
    assert response.status_code == 200, response.text
    return assert_valid_response(response.json())


def test_relapse_patient_with_prefetch_then_feedback(client: SandboxClient,
                                                     settings: Settings) -> None:
    templates = client.discovery().json()["services"][0]["prefetch"]
    cards = call(client, PATIENT, client.resolve_prefetch(templates, PATIENT))
    summary = cards[0]
    assessment = summary["extension"][ASSESSMENT_KEY]
    assert summary["source"]["topic"]["code"] == "summary"
    assert assessment["applicable"] is True
    assert assessment["relapse"]["number"] == 1
    assert assessment["relapse"]["date"] == "2021-07-15"
    assert assessment["relapse"]["immunophenotype"] == "B"
    assert "1st relapse" in summary["summary"] and "B-ALL" in summary["summary"]

    feedback = [{"card": c["uuid"], "outcome": "overridden",
                 "outcomeTimestamp": "2024-03-01T10:00:00Z",
                 "overrideReason": {"reason": c["overrideReasons"][0]}}
                for c in cards if "overrideReasons" in c]
    feedback.append({"card": summary["uuid"], "outcome": "overridden",
                     "outcomeTimestamp": "2024-03-01T10:00:00Z"})
    assert client.feedback(SERVICE_ID, feedback).status_code == 200
    assert FeedbackStore(settings.database_url).report()["summary"]["overridden"] == 1


def test_fallback_fetch_gives_the_same_assessment(client: SandboxClient) -> None:
    templates = client.discovery().json()["services"][0]["prefetch"]
    prefetched = call(client, PATIENT, client.resolve_prefetch(templates, PATIENT))
    fetched = call(client, PATIENT, None)
    assert fetched[0]["extension"] == prefetched[0]["extension"]
    assert [c["summary"] for c in fetched] == [c["summary"] for c in prefetched]


def test_patient_without_relapse_gets_no_cards(client: SandboxClient) -> None:
    assert call(client, "pt-no-relapse", None) == []
