"""Every statement traces back to the record (issue 16, engine assembly): the evidence the
assessment cites, the data problems it reports, and the warnings about the record itself."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
from scenarios import first_relapse, iso

from service.pipeline import assess_bundle

RELAPSE_STATUS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                              "code": "relapse"}]}


def evidence(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fact"]: e for e in result.get("evidence", [])}


def assess(bundle: dict[str, Any], months: int) -> dict[str, Any]:
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(months)))


def test_each_deciding_fact_is_cited_with_its_value_and_its_resource() -> None:
    extra = (b.procedure("234336002", iso(30)), b.procedure("car-t-infusion", iso(36), system=b.LOCAL),
             b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), 0.05))
    bundle = first_relapse("B", "BM", 40, 26, extra=extra)
    cited = evidence(assess(bundle, 42))
    resources = {e["resource"]["resourceType"] + "/" + e["resource"]["id"]: e["resource"]
                 for e in bundle["entry"]}
    assert cited["diagnosis-date"]["value"] == iso(0)
    assert cited["birth-date"]["value"] == "2010-05-05" and cited["birth-date"]["from"] == ["Patient/pt"]
    assert cited["immunophenotype"]["value"] == "B"
    assert cited["relapse-date"]["value"] == iso(40) and cited["relapse-date"]["note"] == "relapse number 1"
    assert cited["relapse-site"]["value"] == "isolated-marrow"
    assert cited["hsct"]["value"] == iso(30) and cited["car-t"]["value"] == iso(36)
    assert cited["frontline-end-date"]["value"] == iso(26)
    assert cited["mrd-end-of-reinduction"]["value"].startswith("0.05%")
    assert "PCR" in cited["mrd-end-of-reinduction"]["note"]  # BFM/UK cut-offs set with PCR
    for fact in ("diagnosis-date", "relapse-date", "hsct", "car-t", "mrd-end-of-reinduction"):
        assert cited[fact]["from"] and all(ref in resources for ref in cited[fact]["from"]), fact


def test_a_diagnosis_known_only_from_its_recorded_date_says_so() -> None:
    dx = b.diagnosis(None, "B", recordedDate=iso(0))
    result = assess(b.bundle(b.patient("2010-05-05"), dx, b.relapse(iso(24)), b.marrow(iso(24), 60)), 25)
    assert evidence(result)["diagnosis-date"]["note"] == "from recordedDate (no onset recorded)"


def test_a_diagnosis_dated_after_the_relapse_is_a_problem_and_the_date_is_missing() -> None:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(30), "B"), b.relapse(iso(24)),
                      b.marrow(iso(24), 60))
    result = assess(bundle, 31)
    assert any("dated after the relapse" in p["problem"] for p in result["problems"])
    assert "diagnosis-date" in {m["fact"] for m in result["missing"]}
    assert "diagnosis-date" not in evidence(result)


def test_a_birth_date_after_the_diagnosis_is_a_problem_and_the_population_is_open() -> None:
    bundle = first_relapse("B", "BM", 24, None, birth=iso(1))
    result = assess(bundle, 25)
    assert any("birth date is after" in p["problem"] for p in result["problems"])
    assert result["population"] == "indeterminate"
    birth = next(m for m in result["missing"] if m["fact"] == "birth-date")
    assert "population" in birth["affects"]


def test_no_birth_date_no_diagnosis_no_lineage_are_each_asked_for() -> None:
    bundle = b.bundle(b.patient(None), b.relapse(iso(24)), b.marrow(iso(24), 60))
    result = assess(bundle, 25)
    missing = {m["fact"]: m for m in result["missing"]}
    assert {"birth-date", "diagnosis-date", "immunophenotype"} <= set(missing)
    assert "bfm" in missing["diagnosis-date"]["affects"]


def test_b_and_t_coded_at_diagnosis_is_a_data_conflict_and_the_lineage_unknown() -> None:
    extra = (b.diagnosis(iso(0), "T"),)
    result = assess(first_relapse("B", "BM", 24, None, extra=extra), 25)
    conflict = next(w for w in result["warnings"] if w["code"] == "data-conflict")
    assert "both B- and T-lineage" in conflict["text"]
    assert result["relapse"]["immunophenotype"] == "indeterminate"


def test_a_t_lineage_relapse_after_b_all_is_a_lineage_switch() -> None:
    switched = b.diagnosis(iso(24), "T", clinicalStatus=RELAPSE_STATUS)
    result = assess(first_relapse("B", "BM", 24, None, extra=(switched,)), 25)
    assert result["relapse"]["immunophenotype"] == "T"
    switch = next(w for w in result["warnings"] if w["code"] == "lineage-switch")
    assert "(T) differs from diagnosis (B)" in switch["text"]
    assert result["strata"]["bfm"]["group"] == "S4"  # T-lineage marrow relapse (§2.1)


def test_a_coded_site_the_results_contradict_is_a_data_conflict_warning() -> None:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"),
                      b.relapse(iso(24), ("cns",)), b.marrow(iso(24), 60), *b.csf(iso(24), 1, 0, False),
                      b.medication("103", iso(6), status="active"))
    result = assess(bundle, 25)
    conflict = next(w for w in result["warnings"] if w["code"] == "data-conflict")
    assert "Coded site and results disagree" in conflict["text"] and conflict["refs"]
    assert result["relapse"]["site"] == "isolated-marrow"  # the results decide (§1.3)
