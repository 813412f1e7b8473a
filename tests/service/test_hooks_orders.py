"""order-select and order-sign over real HTTP: gunicorn (as shipped, JWT auth on), a sandbox-like
client (ES384 tokens, prefetch resolved against the Node FHIR server, or left to the service's
fallback fetch), draft orders as Bundles.  One case per CLINICAL_RULES §6 check an order can
trigger; ``{"cards": []}`` for safe orders; feedback on the cards in the report."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import order_patients as op
import pytest
import requests
from cds_harness import SandboxClient, Signer, free_port, start_fhir_server, start_gunicorn
from cds_rules import assert_valid_response
from conftest import FHIR_TOKEN

from service.hooks.feedback import FeedbackStore

SIGN, SELECT = "relapsed-all-order-sign", "relapsed-all-order-select"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("orders")


@pytest.fixture(scope="module")
def signer(folder: Path) -> Signer:
    return Signer(folder)


@pytest.fixture(scope="module")
def fhir(folder: Path) -> Iterator[str]:
    files = []
    for pid, bundle in op.PATIENTS.items():
        path = folder / f"{pid}.json"
        path.write_text(json.dumps(bundle))
        files.append(path)
    with start_fhir_server(files, token=FHIR_TOKEN) as url:
        yield url


@pytest.fixture(scope="module")
def service(folder: Path, signer: Signer, fhir: str) -> Iterator[str]:
    port = free_port()
    env = {"RELAPSED_ALL_CDS_AUTH_ENABLED": "true",
           "RELAPSED_ALL_CDS_ISSUERS": json.dumps({signer.issuer: str(signer.jwks_path)}),
           "RELAPSED_ALL_CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "RELAPSED_ALL_CDS_FHIR_ALLOW_LOOPBACK": "true",
           "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{folder / 'feedback.sqlite3'}"}
    with start_gunicorn(env, workers=2, port=port) as (base, _):
        yield base


@pytest.fixture(scope="module")
def client(service: str, signer: Signer, fhir: str) -> SandboxClient:
    return SandboxClient(service, signer, fhir_server=fhir, access_token=FHIR_TOKEN)


@pytest.fixture(scope="module")
def templates(client: SandboxClient) -> dict[str, str]:
    services = client.discovery().json()["services"]
    prefetch: dict[str, str] = next(s for s in services if s["id"] == SIGN)["prefetch"]
    return prefetch


def order_call(client: SandboxClient, service_id: str, pid: str, drafts: list[dict[str, Any]],
               prefetch: dict[str, Any] | None, selections: list[str] | None = None
               ) -> requests.Response:
    hook = "order-select" if service_id == SELECT else "order-sign"
    body = client.request_body(pid, prefetch, hook=hook)
    body["context"]["draftOrders"] = op.draft_bundle(*drafts)
    if selections is not None:
        body["context"]["selections"] = selections
    return client.call(service_id, body)


def cards_of(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return assert_valid_response(response.json())


def deletes(card: dict[str, Any]) -> list[str]:
    return [a["resourceId"] for s in card.get("suggestions", []) for a in s["actions"]
            if a["type"] == "delete"]


def reasons(card: dict[str, Any]) -> set[str]:
    return {r["code"] for r in card["overrideReasons"]}


# (patient, the drafts that raise the problem, §6 code, indicator, words of the summary,
#  an override reason offered)
ROWS: list[tuple[str, Callable[[str], list[dict[str, Any]]], str, str, str, str]] = [
    ("ord-cns", lambda p: [op.blinatumomab(p)], "blinatumomab-cns-disease", "critical",
     "Blinatumomab draft order: contraindicated with active CNS disease", "cns-cleared"),
    ("ord-cd19neg", lambda p: [op.blinatumomab(p), op.car_t(p)], "cd19-negative", "critical",
     "Blinatumomab and CD19 CAR-T draft orders: target absent", "cd19-retested-positive"),
    ("ord-vod", lambda p: [op.hsct(p)], "inotuzumab-vod-risk", "warning",
     "Allogeneic HSCT draft order: veno-occlusive disease risk", "hsct-not-planned"),
    ("ord-nelarabine", lambda p: [op.nelarabine(p)], "nelarabine-intrathecal-neurotoxicity",
     "warning", "Nelarabine draft order: neurotoxicity with concomitant intrathecal",
     "not-concomitant"),
    ("ord-cranial", lambda p: [op.cranial_radiation(p, 1800)],
     "cranial-radiation-dose-reduction", "warning",
     "Radiotherapy (cranial) draft order: prior cranial irradiation over 20 Gy, reduce to 15 Gy",
     "dose-already-reduced"),
    ("ord-car-t", lambda p: [op.car_t(p)], "prior-blinatumomab-before-car-t", "warning",
     "CD19 CAR-T draft order: prior blinatumomab may raise non-response",
     "benefit-outweighs-risk"),
    # beside §6: the deciding result is missing, so the order is said to be unchecked
    ("ord-no-csf", lambda p: [op.blinatumomab(p)], "blinatumomab-cns-status-unknown", "warning",
     "Blinatumomab draft order: CNS status at this relapse not known", "csf-read-elsewhere"),
    ("ord-cd19-untested", lambda p: [op.car_t(p)], "cd19-status-unknown", "warning",
     "CD19 CAR-T draft order: CD19 on the relapse blasts not known", "cd19-tested-elsewhere"),
]


def test_discovery_lists_the_order_services_with_the_shared_prefetch(client: SandboxClient) -> None:
    services = {s["id"]: s for s in client.discovery().json()["services"]}
    assert services[SIGN]["hook"] == "order-sign" and services[SELECT]["hook"] == "order-select"
    assert services[SIGN]["prefetch"] == services["relapsed-all"]["prefetch"]
    assert services[SELECT]["prefetch"] == services["relapsed-all"]["prefetch"]


@pytest.mark.parametrize(("pid", "drafts", "code", "indicator", "summary", "reason"), ROWS,
                         ids=[r[2] for r in ROWS])
def test_each_section_6_check_fires_on_order_sign(
        client: SandboxClient, templates: dict[str, str], pid: str,
        drafts: Callable[[str], list[dict[str, Any]]], code: str, indicator: str, summary: str,
        reason: str) -> None:
    unsafe = drafts(pid)
    safe = op.vincristine(pid)
    prefetch = client.resolve_prefetch(templates, pid)
    cards = cards_of(order_call(client, SIGN, pid, [*unsafe, safe], prefetch))
    assert len(cards) == 1, [c["summary"] for c in cards]
    card = cards[0]
    assert card["source"]["topic"]["code"] == f"order-check/{code}"
    assert card["indicator"] == indicator
    assert card["summary"].startswith(summary)
    assert {reason, "record-incorrect"} <= reasons(card)
    drafted = [f"MedicationRequest/{d['id']}" if d["resourceType"] == "MedicationRequest"
               else f"ServiceRequest/{d['id']}" for d in unsafe]
    assert deletes(card) == drafted  # every unsafe draft can be removed; the safe one is not named
    assert all(d in card["detail"] for d in drafted)
    assert "CLINICAL_RULES §6" in card["detail"] and "doi.org" in card["source"]["url"]


def test_fallback_fetch_from_the_fhir_server_gives_the_same_cards(
        client: SandboxClient, templates: dict[str, str]) -> None:
    drafts = [op.blinatumomab("ord-cns")]
    prefetched = cards_of(order_call(client, SIGN, "ord-cns", drafts,
                                     client.resolve_prefetch(templates, "ord-cns")))
    fetched = cards_of(order_call(client, SIGN, "ord-cns", drafts, None))
    assert [c["summary"] for c in fetched] == [c["summary"] for c in prefetched]
    assert [c["uuid"] for c in fetched] != [] and deletes(fetched[0]) == deletes(prefetched[0])


def test_safe_orders_get_no_card(client: SandboxClient) -> None:
    response = order_call(client, SIGN, "ord-cns", [op.vincristine("ord-cns")], None)
    assert response.status_code == 200 and response.json() == {"cards": []}
    nothing = order_call(client, SIGN, "ord-cns", [], None)
    assert nothing.status_code == 200 and nothing.json() == {"cards": []}


def test_order_select_answers_for_the_selected_orders_only(client: SandboxClient) -> None:
    blinatumomab, vincristine = op.blinatumomab("ord-cns"), op.vincristine("ord-cns")
    drafts = [blinatumomab, vincristine]
    chose_safe = order_call(client, SELECT, "ord-cns", drafts, None,
                            [f"MedicationRequest/{vincristine['id']}"])
    assert chose_safe.status_code == 200 and chose_safe.json() == {"cards": []}
    chose_unsafe = cards_of(order_call(client, SELECT, "ord-cns", drafts, None,
                                       [f"MedicationRequest/{blinatumomab['id']}"]))
    assert [c["indicator"] for c in chose_unsafe] == ["critical"]
    assert deletes(chose_unsafe[0]) == [f"MedicationRequest/{blinatumomab['id']}"]


def test_two_drafts_that_clash_with_each_other(client: SandboxClient) -> None:
    """Nelarabine and an intrathecal methotrexate written together (a T-ALL patient with no
    recent intrathecal dose in the record): selecting the intrathecal draft names both."""
    pid = "ord-cd19neg"  # B-lineage, but the clash is between the drafts: it does not matter
    nelarabine = op.nelarabine(pid)
    intrathecal = op.medication_draft("6851", "Methotrexate 12 mg intrathecal", pid=pid,
                                      intrathecal=True)
    cards = cards_of(order_call(client, SELECT, pid, [nelarabine, intrathecal], None,
                                [f"MedicationRequest/{intrathecal['id']}"]))
    [card] = cards
    assert card["summary"].startswith("Intrathecal methotrexate draft order: neurotoxicity")
    assert deletes(card) == [f"MedicationRequest/{intrathecal['id']}"]


def test_cd19_negative_offers_the_cd22_directed_alternatives(client: SandboxClient) -> None:
    [card] = cards_of(order_call(client, SIGN, "ord-cd19neg", [op.blinatumomab("ord-cd19neg")],
                                 None))
    created = [a["resource"] for s in card["suggestions"] for a in s["actions"]
               if a["type"] == "create"]
    drug = created[0]["medicationCodeableConcept"]["coding"][0]
    assert (created[0]["resourceType"], drug["code"]) == ("MedicationRequest", "1942950")
    assert created[1]["resourceType"] == "ServiceRequest" and "CD22" in created[1]["code"]["text"]
    assert all(r["status"] == "draft" and r["subject"] == {"reference": "Patient/ord-cd19neg"}
               for r in created)


def test_cranial_radiation_offers_the_reduced_dose(client: SandboxClient) -> None:
    draft = op.cranial_radiation("ord-cranial", 1800)
    [card] = cards_of(order_call(client, SIGN, "ord-cranial", [draft], None))
    [update] = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "update"]
    assert update["resource"]["id"] == draft["id"]
    dose = update["resource"]["extension"][0]["extension"][1]["valueQuantity"]
    assert (dose["value"], dose["code"]) == (1500, "cGy")


def test_a_drug_the_maps_do_not_know_is_said_to_be_unchecked(client: SandboxClient) -> None:
    unknown = op.medication_draft("55513-0160-01", "Blincyto 35 mcg vial",
                                  system="http://hl7.org/fhir/sid/ndc", pid="ord-cns")
    [card] = cards_of(order_call(client, SIGN, "ord-cns", [unknown], None))
    assert card["indicator"] == "info" and card["summary"].startswith("Not checked: 1 draft")
    assert f"MedicationRequest/{unknown['id']}" in card["detail"]


def test_feedback_report_counts_removals_and_override_reasons(
        client: SandboxClient, folder: Path) -> None:
    [cns] = cards_of(order_call(client, SIGN, "ord-cns", [op.blinatumomab("ord-cns")], None))
    [car_t] = cards_of(order_call(client, SIGN, "ord-car-t", [op.car_t("ord-car-t")], None))
    stamp = "2024-03-01T10:00:00Z"
    accepted = {"card": cns["uuid"], "outcome": "accepted", "outcomeTimestamp": stamp,
                "acceptedSuggestions": [{"id": cns["suggestions"][0]["uuid"]}]}
    overridden = {"card": car_t["uuid"], "outcome": "overridden", "outcomeTimestamp": stamp,
                  "overrideReason": {"reason": car_t["overrideReasons"][0]}}
    assert client.feedback(SIGN, [accepted, overridden]).status_code == 200
    report = FeedbackStore(f"sqlite:///{folder / 'feedback.sqlite3'}").report()
    removed = report["order-check/blinatumomab-cns-disease"]
    assert removed["accepted"] == 1 and removed["accepted_suggestions"] == {"delete": 1}
    kept = report["order-check/prior-blinatumomab-before-car-t"]
    assert kept["overridden"] == 1
    assert kept["override_reasons"][0]["code"] == "benefit-outweighs-risk"


@pytest.mark.parametrize(("context", "message"), [
    ({}, "draftOrders"),
    ({"draftOrders": []}, "draftOrders"),
    ({"draftOrders": {"resourceType": "Bundle", "entry": {}}}, "entry"),
    ({"draftOrders": {"resourceType": "Bundle", "entry": [{"resource": 7}]}}, "resource"),
    ({"draftOrders": {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": ["x"]}}]}}, "id"),
    ({"draftOrders": op.draft_bundle(op.blinatumomab("someone-else"))}, "another patient"),
])
def test_malformed_draft_orders_get_a_400(client: SandboxClient, context: dict[str, Any],
                                          message: str) -> None:
    body = client.request_body("ord-cns", None, hook="order-sign")
    body["context"].update(context)
    response = client.call(SIGN, body)
    assert response.status_code == 400 and message in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("selections", [None, [], "MedicationRequest/1", [3]])
def test_order_select_needs_its_selections(client: SandboxClient, selections: Any) -> None:
    body = client.request_body("ord-cns", None, hook="order-select")
    body["context"]["draftOrders"] = op.draft_bundle(op.blinatumomab("ord-cns"))
    if selections is not None:
        body["context"]["selections"] = selections
    response = client.call(SELECT, body)
    assert response.status_code == 400 and "selections" in response.text


def test_the_wrong_hook_for_the_service_is_refused(client: SandboxClient) -> None:
    body = client.request_body("ord-cns", None)  # patient-view
    body["context"]["draftOrders"] = op.draft_bundle(op.blinatumomab("ord-cns"))
    response = client.call(SIGN, body)
    assert response.status_code == 400 and "order-sign" in response.text
    assert str(uuid.UUID(body["hookInstance"])) not in response.text
