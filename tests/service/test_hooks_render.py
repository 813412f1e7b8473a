"""Assessment → cards: every card valid under CDS Hooks 2.0 and faithful to the assessment."""

from __future__ import annotations

import copy
from typing import Any

from cds_rules import assert_valid_card
from conftest import load

from service.assessment import Assessment
from service.cards.records import Record
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
    """One line of risk by scheme; a detail of the scheme table and the key facts in words, with
    the full assessment (references, timing definitions) kept in the extension only."""
    summary = cards(sample())["summary"]
    assert summary["summary"] == (
        "1st relapse, isolated marrow, B-ALL, COG early, BFM not determined. "
        "Risk: BFM/UK ALLR3/I-BFM not determined, COG low or intermediate")
    assert summary["extension"] == {ASSESSMENT_KEY: sample()}
    detail = summary["detail"]
    assert "| COG | low or intermediate | B-ALL, early marrow relapse; MRD after block 1 decides |" \
        in detail
    assert "- **Diagnosis** 2019-01-10, age 6" in detail
    assert "- **1st relapse** 2021-07-15, age 9: 30 months from diagnosis" in detail
    assert "Condition/" not in detail and "Observation/" not in detail
    assert "< 36 / ≥ 36 months" not in detail  # the timing definitions live in the relapse view
    assert summary["source"]["url"] == SOURCES["000"].url


def test_summary_card_names_its_records_in_words() -> None:
    records = {"Condition/relapse-1": Record("relapse", "2021-07-15"),
               "Observation/marrow-blasts": Record("marrow blasts 60%", "2021-07-14")}
    data = sample()
    data["evidence"].append({"fact": "relapse-site", "value": "isolated-marrow",
                             "from": ["Condition/relapse-1", "Observation/marrow-blasts"]})
    detail = render_cards(data, HOOK_INSTANCE, PATIENT_REF, records)[0].card["detail"]
    assert ("**From** relapse (condition, 2021-07-15); marrow blasts 60% (result, 2021-07-14)"
            in detail)


def test_summary_card_carries_the_links_it_is_given() -> None:
    link = {"label": "Relapse view", "url": "https://app.example/launch", "type": "smart"}
    summary = render_cards(sample(), HOOK_INSTANCE, PATIENT_REF, summary_links=[link])[0]
    assert summary.card["links"] == [link]
    assert_valid_card(summary.card)


def test_summary_stays_under_140_characters() -> None:
    data = sample()
    data["relapse"]["number"] = 2
    data["relapse"]["site"] = "isolated-other-extramedullary"
    data["relapse"]["timing"] = {"cog": "indeterminate", "bfm": "indeterminate"}
    for key in ("bfm", "ukall", "ibfm", "cog"):
        data["strata"][key] = {"group": "indeterminate", "risk": "indeterminate", "reason": "x"}
    line = cards(data)["summary"]["summary"]
    assert len(line) < 140 and line.startswith("2nd relapse")


def test_not_applicable_strata_say_to_whom_the_scheme_applies() -> None:
    data = sample()
    data["strata"]["bfm"] = "not-applicable"
    summary = cards(data)["summary"]
    assert summary["summary"].split("Risk: ", 1)[1] == (
        "UK ALLR3/I-BFM not determined, COG low or intermediate")
    assert ("| BFM | not applicable | only for a first relapse, under 18 at diagnosis |"
            in summary["detail"])


def test_adults_get_the_adult_approach_and_the_adult_review() -> None:
    data = sample()
    data["population"] = "adult"
    data["strata"] = {key: "not-applicable" for key in ("bfm", "ukall", "ibfm", "cog")}
    data["recommendations"][2]["sources"] = ["001", "004"]
    rendered = cards(data)
    summary = rendered["summary"]
    assert summary["summary"].endswith("Risk: poor prognosis (adult approach)")
    assert "| Adult approach | poor prognosis |" in summary["detail"]
    assert summary["source"]["url"] == SOURCES["004"].url
    assert rendered["recommendation/donor-search"]["source"]["url"] == SOURCES["004"].url
    assert rendered["recommendation/reinduction-4-drug"]["source"]["url"] == SOURCES["000"].url


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


def test_one_step_shares_one_card_with_its_orders() -> None:
    """HSCT in CR2 and the donor search are read as one step: one card, both texts, the HLA
    order, at the place of the first of them."""
    data = sample()
    data["recommendations"].insert(1, {"code": "hsct-cr2", "text": "Allogeneic HSCT in CR2.",
                                       "sources": ["000"]})
    rendered = render_cards(data, HOOK_INSTANCE, PATIENT_REF)
    assert [r.card_type for r in rendered][3:6] == [
        "recommendation/reinduction-4-drug", "recommendation/hsct-cr2+donor-search",
        "recommendation/mrd-assessment"]
    step = rendered[4].card
    assert step["summary"].startswith("Allogeneic HSCT in second remission: start HLA typing")
    assert "- Allogeneic HSCT in CR2." in step["detail"] and "Start an HLA search" in step["detail"]
    assert [s["label"] for s in step["suggestions"]] == ["Order HLA typing for donor search"]


def test_missing_mrd_offers_the_order_when_no_recommendation_does() -> None:
    data = sample()
    data["recommendations"] = [r for r in data["recommendations"]
                               if r["code"] != "mrd-assessment"]
    missing = cards(data)["missing-data"]
    codes = [s["actions"][0]["resource"]["code"]["coding"][0]["code"]
             for s in missing["suggestions"]]
    assert codes == ["lumbar-puncture-order", "mrd-assessment-order"]
    assert "| end of frontline therapy | BFM group, UK ALLR3 group, I-BFM group: " in missing["detail"]
    assert "67128-9" in missing["detail"]


def test_records_that_could_not_be_used_are_listed_on_the_last_card() -> None:
    data = sample()
    data["missing"] = []
    data["problems"] = [{"ref": "Observation/x", "problem": "marrow result without a date"}]
    card = cards(data)["missing-data"]
    assert card["summary"] == "1 record could not be used"
    assert "- result: marrow result without a date" in card["detail"]


def test_warning_cards() -> None:
    rendered = cards(sample())
    assert rendered["warning/timing-discordance"]["indicator"] == "warning"
    critical = rendered["warning/blinatumomab-cns-disease"]
    assert critical["indicator"] == "critical"
    assert all(r["display"] for r in critical["overrideReasons"])
    assert critical["summary"] == "Blinatumomab with active CNS disease: neurotoxicity risk."
    assert "neurotoxicity risk" not in critical["detail"]  # the detail adds, never repeats


def test_recommendation_card_rests_on_facts_with_their_values() -> None:
    card = cards(sample())["recommendation/reinduction-4-drug"]
    assert card["indicator"] == "info"
    assert card["source"] == {"label": SOURCES["000"].label, "url": SOURCES["000"].url,
                              "topic": card["source"]["topic"]}
    assert card["source"]["topic"]["display"] == "Recommendation"
    assert SOURCES["002"].url in card["detail"] and "Fuster 2014" in card["detail"]
    assert "**Rests on**: site of relapse; relapse timing" in card["detail"]
    assert "**From**: condition" in card["detail"] and "Condition/" not in card["detail"]
    timing = cards(sample())["warning/timing-discordance"]["detail"]
    assert "**Rests on**: date of diagnosis 2019-01-10; date of relapse 2021-07-15" in timing


def test_long_text_is_shortened_to_one_line() -> None:
    data = sample()
    data["recommendations"][0]["text"] = "Word " * 60 + ". Second sentence."
    card = cards(data)["recommendation/reinduction-4-drug"]
    assert len(card["summary"]) < 140 and card["summary"].endswith("…")
    assert "Second sentence." in card["detail"]


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
