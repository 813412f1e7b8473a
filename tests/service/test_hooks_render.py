"""Assessment → cards: every card valid under CDS Hooks 2.0 and faithful to the assessment."""

from __future__ import annotations

import copy
from typing import Any

from cds_rules import assert_valid_card
from conftest import load

from service.assessment import Assessment
from service.render import ASSESSMENT_KEY, render_cards
from service.sources import SOURCES

HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
PATIENT_REF = "Patient/pt-relapse-1"


def sample() -> dict[str, Any]:
    return load("assessment_sample.json")


def cards(assessment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rendered = render_cards(assessment, HOOK_INSTANCE, PATIENT_REF)
    for r in rendered:
        assert_valid_card(r.card)
        assert r.card["source"]["topic"]["code"] == r.card_type
    return {r.card_type: r.card for r in rendered}


def test_the_sample_is_a_valid_assessment() -> None:
    data = sample()
    data["schema_"] = data.pop("schema")
    data["evidence"] = [{("refs" if k == "from" else k): v for k, v in e.items()}
                        for e in data["evidence"]]
    assert Assessment.model_validate(data).to_json() == sample()


def test_card_set_and_order() -> None:
    """OUTPUT.md §2: summary, critical, warning, recommendations, missing data (the sample lists
    its warning before its critical one)."""
    rendered = render_cards(sample(), HOOK_INSTANCE, PATIENT_REF)
    assert [r.card_type for r in rendered] == [
        "summary", "warning/blinatumomab-cns-disease", "warning/timing-discordance",
        "recommendation/reinduction-4-drug", "recommendation/mrd-assessment",
        "recommendation/donor-search", "missing-data"]
    assert [r.card["indicator"] for r in rendered] == [
        "info", "critical", "warning", "info", "info", "info", "info"]
    assert len({r.card["uuid"] for r in rendered}) == len(rendered)


def test_summary_card() -> None:
    summary = cards(sample())["summary"]
    line = summary["summary"]
    assert line == ("1st relapse, isolated marrow, B-ALL, COG early, BFM indeterminate: "
                    "BFM/UK/I-BFM indeterminate, COG low-or-intermediate")
    assert summary["extension"] == {ASSESSMENT_KEY: sample()}
    detail = summary["detail"]
    assert "| Scheme | Group | Risk | Reason | Depends on |" in detail
    assert "Condition/all-dx" in detail and "Observation/marrow-blasts" in detail
    assert "COG timing early (30 months" in detail  # the discordance
    assert "< 36 / ≥ 36 months" in detail  # the timing definitions
    assert summary["source"]["url"] == SOURCES["000"].url


def test_summary_stays_under_140_characters() -> None:
    data = sample()
    data["relapse"]["number"] = 2
    data["relapse"]["site"] = "isolated-other-extramedullary"
    data["relapse"]["timing"] = {"cog": "indeterminate", "bfm": "indeterminate"}
    for key in ("bfm", "ukall", "ibfm", "cog"):
        data["strata"][key] = {"group": "indeterminate", "risk": "indeterminate", "reason": "x"}
    line = cards(data)["summary"]["summary"]
    assert len(line) < 140 and line.startswith("2nd relapse")


def test_not_applicable_strata_are_left_out_of_the_summary() -> None:
    data = sample()
    data["strata"]["bfm"] = "not-applicable"
    summary = cards(data)["summary"]
    groups = summary["summary"].split(": ", 1)[1]
    assert groups == "UK/I-BFM indeterminate, COG low-or-intermediate"
    assert "| BFM | not-applicable |" in summary["detail"]


def test_order_suggestions() -> None:
    rendered = cards(sample())
    orders = {}
    for kind, card in rendered.items():
        for suggestion in card.get("suggestions", []):
            (action,) = suggestion["actions"]
            assert action["type"] == "create" and card["selectionBehavior"] == "any"
            request = action["resource"]
            assert request["resourceType"] == "ServiceRequest"
            assert request["status"] == "draft" and request["subject"]["reference"] == PATIENT_REF
            orders[request["code"]["coding"][0]["code"]] = kind
    assert orders == {"mrd-assessment-order": "recommendation/mrd-assessment",
                      "hla-typing-order": "recommendation/donor-search",
                      "lumbar-puncture-order": "missing-data"}
    assert "suggestions" not in rendered["recommendation/reinduction-4-drug"]


def test_missing_mrd_offers_the_order_when_no_recommendation_does() -> None:
    data = sample()
    data["recommendations"] = [r for r in data["recommendations"]
                               if r["code"] != "mrd-assessment"]
    missing = cards(data)["missing-data"]
    codes = [s["actions"][0]["resource"]["code"]["coding"][0]["code"]
             for s in missing["suggestions"]]
    assert codes == ["lumbar-puncture-order", "mrd-assessment-order"]
    assert "frontline-end-date" in missing["detail"] and "67128-9" in missing["detail"]


def test_warning_cards() -> None:
    rendered = cards(sample())
    assert rendered["warning/timing-discordance"]["indicator"] == "warning"
    critical = rendered["warning/blinatumomab-cns-disease"]
    assert critical["indicator"] == "critical"
    assert all(r["display"] for r in critical["overrideReasons"])
    assert "cns_status" in critical["detail"]


def test_recommendation_card_cites_its_sources() -> None:
    card = cards(sample())["recommendation/reinduction-4-drug"]
    assert card["indicator"] == "info"
    assert card["source"] == {"label": SOURCES["000"].label, "url": SOURCES["000"].url,
                              "topic": card["source"]["topic"]}
    assert SOURCES["002"].url in card["detail"] and "Condition/relapse-1" in card["detail"]


def test_long_text_is_shortened_to_one_line() -> None:
    data = sample()
    data["recommendations"][0]["text"] = "Word " * 60 + ". Second sentence."
    summary = cards(data)["recommendation/reinduction-4-drug"]["summary"]
    assert len(summary) < 140 and summary.endswith("…")


def test_not_applicable_gives_no_cards() -> None:
    assert render_cards({"applicable": False, "as_of": "2024-01-01"}, HOOK_INSTANCE,
                        PATIENT_REF) == []


def test_minimal_applicable_assessment_renders_valid_cards() -> None:
    data = {"schema": "relapsed-all-assessment/1", "as_of": "2024-01-01", "applicable": True,
            "relapse": {"number": 1, "site": "indeterminate", "immunophenotype": "indeterminate",
                        "timing": {"cog": "indeterminate", "bfm": "indeterminate"},
                        "after_hsct": False, "after_car_t": False}}
    rendered = cards(copy.deepcopy(data))
    assert list(rendered) == ["summary"]
    assert rendered["summary"]["extension"]["relapsed-all-assessment"] == data
