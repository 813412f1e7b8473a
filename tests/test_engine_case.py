"""What the engine's case records about a relapse (issue 16, engine assembly): which diagnosis,
relapse and transplant it reads when the record holds several, the boundaries of impossible
dates, the facts it asks for and what each would settle, and one warning per code."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
from scenarios import iso

from service.pipeline import assess_bundle

SCHEMES = ["bfm", "ukall", "ibfm", "cog"]
RELAPSE_STATUS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                              "code": "relapse"}]}


def assess(*resources: Any, months: int = 41) -> dict[str, Any]:
    return assess_bundle(b.bundle(*resources), as_of=date.fromisoformat(iso(months)))


def marrow_relapse(day: str) -> list[dict[str, Any]]:
    return [b.relapse(day), b.marrow(day, 60), *b.csf(day, 1, 0, False)]


def missing(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["fact"]: m for m in result.get("missing", [])}


def test_the_earliest_of_two_diagnoses_is_the_diagnosis_date() -> None:
    later, earlier = b.diagnosis(iso(3), "B"), b.diagnosis(iso(0), "B")
    result = assess(b.patient("2010-05-05"), later, earlier, *marrow_relapse(iso(40)))
    [cited] = [e for e in result["evidence"] if e["fact"] == "diagnosis-date"]
    assert cited["value"] == iso(0) and cited["from"] == [f"Condition/{earlier['id']}"]
    assert result["relapse"]["months_from_diagnosis"] == 40


def test_a_diagnosis_on_the_relapse_day_is_possible_and_a_day_later_is_not() -> None:
    same_day = assess(b.patient("2010-05-05"), b.diagnosis(iso(40), "B"), *marrow_relapse(iso(40)))
    assert not same_day.get("problems") and same_day["relapse"]["months_from_diagnosis"] == 0
    dx = b.diagnosis(iso(40, 1), "B")
    after = assess(b.patient("2010-05-05"), dx, *marrow_relapse(iso(40)))
    assert after["problems"] == [{"ref": f"Condition/{dx['id']}", "problem": (
        "the ALL diagnosis is dated after the relapse; the diagnosis date is treated as missing")}]


def test_a_diagnosis_after_the_first_of_two_relapses_is_a_problem() -> None:
    dx = b.diagnosis(iso(15), "B")
    result = assess(b.patient("2010-05-05"), dx, b.relapse(iso(10)), *marrow_relapse(iso(40)))
    assert [p["ref"] for p in result["problems"]] == [f"Condition/{dx['id']}"]
    assert "diagnosis-date" in missing(result)


def test_born_on_the_day_of_diagnosis_is_possible_and_a_day_later_is_not() -> None:
    newborn = assess(b.patient(iso(0)), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)))
    assert not newborn.get("problems") and newborn["age_at_diagnosis_years"] == 0
    late = assess(b.patient(iso(0, 1)), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)))
    assert [p["ref"] for p in late["problems"]] == ["Patient/pt"]
    assert late["population"] == "indeterminate"


def test_a_relapse_without_a_date_beside_a_dated_one_does_not_make_the_schemes_indeterminate() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)),
                    b.relapse(None))
    assert result["relapse"]["number"] == 1
    assert result["strata"]["cog"]["group"] == "low-or-intermediate"


def test_primary_refractory_disease_has_no_relapse_number() -> None:
    refractory = b.diagnosis(iso(1), "B", code={"coding": [{"system": b.SCT,
                                                            "code": "12311000132101"}]})
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), refractory, months=3)
    assert result["relapse"]["refractory"] is True and result["relapse"]["number"] == 0


def test_months_after_hsct_count_from_the_latest_transplant() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)),
                    b.procedure("234336002", iso(20)), b.procedure("234336002", iso(30)))
    assert result["relapse"]["after_hsct"] is True and result["relapse"]["months_after_hsct"] == 10
    [cited] = [e for e in result["evidence"] if e["fact"] == "hsct"]
    assert cited["value"] == iso(30)


def test_a_third_relapse_reports_the_first_relapse_and_the_interval_since_the_second() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"),
                    b.relapse(iso(10)), b.marrow(iso(10), 60), b.relapse(iso(25)),
                    b.marrow(iso(25), 60), *marrow_relapse(iso(40)))
    relapse = result["relapse"]
    assert relapse["number"] == 3 and relapse["date"] == iso(40)
    assert relapse["first_relapse"]["date"] == iso(10)
    assert relapse["first_relapse"]["months_from_diagnosis"] == 10
    assert relapse["months_since_previous_relapse"] == 15


def test_a_lineage_known_only_at_relapse_is_cited_from_the_relapse_record() -> None:
    at_relapse = b.diagnosis(iso(40), "T", clinicalStatus=RELAPSE_STATUS)
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), None), at_relapse,
                    b.marrow(iso(40), 60), *b.csf(iso(40), 1, 0, False))
    [cited] = [e for e in result["evidence"] if e["fact"] == "immunophenotype"]
    assert cited["value"] == "T" and cited["from"] == [f"Condition/{at_relapse['id']}"]


def test_a_diagnosis_known_to_the_month_gives_the_months_as_a_range() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0)[:7], "B"),
                    *marrow_relapse(iso(24)), b.medication("103", iso(6), status="active"),
                    months=25)
    assert result["relapse"].get("months_from_diagnosis") is None  # not one number
    assert "23–24 months from diagnosis" in result["strata"]["bfm"]["reason"]


def test_the_provisional_bfm_reading_is_noted_where_a_bfm_family_scheme_applies() -> None:
    child = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)))
    assert child["relapse"]["timing"]["bfm_provisional"] == "late"
    assert any("provisional reading: late" in n for n in child["notes"])
    aya = assess(b.patient("1995-01-01"), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)))
    assert aya["population"] == "aya" and aya["strata"]["bfm"] == "not-applicable"
    assert not any("provisional" in n for n in aya.get("notes", []))  # COG alone applies
    adult = assess(b.patient("1980-01-01"), b.diagnosis(iso(0), "B"), *marrow_relapse(iso(40)))
    assert adult["population"] == "adult"
    assert not any("provisional" in n for n in adult.get("notes", []))


def test_a_fact_missing_for_the_site_names_the_schemes_it_would_settle() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(24)),
                    b.marrow(iso(24), 60), b.medication("103", iso(6), status="active"), months=25)
    assert missing(result)["csf-findings"]["affects"] == SCHEMES


def test_results_that_may_not_meet_relapse_criteria_ask_for_the_site_for_every_scheme() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(24)),
                    b.marrow(iso(24), 10), *b.csf(iso(24), 1, 0, False),
                    b.medication("103", iso(6), status="active"), months=25)
    site = missing(result)["relapse-site"]
    assert site["affects"] == SCHEMES
    assert site["decides"] == "the relapse is not confirmed by the results at relapse"


def test_no_result_at_relapse_leaves_the_site_indeterminate_for_every_scheme() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(24)),
                    b.medication("103", iso(6), status="active"), months=25)
    assert result["relapse"]["site"] == "indeterminate"
    assert missing(result)["relapse-site"]["affects"] == SCHEMES
    assert missing(result)["marrow-blasts"]["affects"] == SCHEMES


def test_a_second_relapse_without_results_asks_for_the_site() -> None:
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(20)),
                    b.relapse(iso(40)))
    assert result["relapse"]["site"] == "indeterminate"
    assert "relapse-site" in missing(result)


def test_a_second_relapse_asks_for_what_it_lacks_for_the_population() -> None:
    result = assess(b.patient(None), b.relapse(iso(20)), *marrow_relapse(iso(40)))
    asked = missing(result)
    for fact in ("birth-date", "diagnosis-date", "immunophenotype"):
        assert asked[fact]["affects"][0] == "population", fact


def test_the_birth_date_is_not_asked_for_when_the_age_at_relapse_is_known() -> None:
    result = assess(b.patient("2010-05-05"), *marrow_relapse(iso(40)))
    assert result["age_at_relapse_years"] is not None
    assert "birth-date" not in missing(result) and "diagnosis-date" in missing(result)


def test_two_warnings_of_one_code_are_one_warning_with_both_texts() -> None:
    """Both lineages coded at diagnosis, and a coded CNS site the CSF contradicts: two data
    conflicts, one warning that says both and rests on both facts."""
    result = assess(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.diagnosis(iso(0), "T"),
                    b.relapse(iso(24), ("cns",)), b.marrow(iso(24), 60),
                    *b.csf(iso(24), 1, 0, False), b.medication("103", iso(6), status="active"),
                    months=25)
    [conflict] = [w for w in result["warnings"] if w["code"] == "data-conflict"]
    assert "both B- and T-lineage" in conflict["text"]
    assert "Coded site and results disagree" in conflict["text"]
    assert conflict["rests_on"] == ["immunophenotype", "relapse-site"]
    assert conflict["severity"] == "warning"
