"""Observations as results arrive from the lab (FHIR_INPUT.md "Observations"): which statuses
count, positive/negative findings, the CD19/CD22 cut-off, MRD values, and results whose code is
not mapped but that look relevant ("Relevant but unreadable")."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b

from service.extract import extract_facts
from service.facts import PatientFacts
from service.mapping import default_code_maps
from service.pipeline import assess_bundle

AS_OF = date(2020, 7, 30)
DIAGNOSIS, RELAPSE = "2018-01-15", "2020-07-20"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _facts(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _obs(code: str, system: str = b.LOINC, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": b._id("obs"), "status": "final",
            "subject": b.ref(), "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": RELAPSE, **value}


def _assess(*extra: Any, csf: Any = None) -> dict[str, Any]:
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), b.relapse(RELAPSE),
                      b.marrow(RELAPSE, 60), csf if csf is not None else b.csf(RELAPSE, 1, 0, False),
                      *extra)
    return assess_bundle(bundle, as_of=AS_OF)


def _codes(assessment: dict[str, Any]) -> set[str]:
    return {r["code"] for r in assessment["recommendations"]}


def _problems(facts: PatientFacts) -> dict[str, str]:
    return {p.ref: p.problem for p in facts.problems}


# -- status and date ------------------------------------------------------------------------

def test_final_amended_and_corrected_results_count_and_preliminary_ones_do_not() -> None:
    for status in ("final", "amended", "corrected"):
        facts = _facts(b.quantity_obs("11150-0", RELAPSE, 60, "%", status=status))
        assert [m.value for m in facts.measurements] == [60.0], status
    for status in ("preliminary", "registered", "cancelled", "entered-in-error"):
        facts = _facts(b.quantity_obs("11150-0", RELAPSE, 60, "%", status=status))
        assert not facts.measurements and not facts.problems, status


def test_an_amended_marrow_result_gives_the_marrow_status() -> None:
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), b.relapse(RELAPSE),
                      b.quantity_obs("11150-0", RELAPSE, 60, "%", status="amended"),
                      b.csf(RELAPSE, 1, 0, False))
    assert assess_bundle(bundle, as_of=AS_OF)["relapse"]["marrow_status"] == "M3 (60% blasts)"


def test_a_result_dated_by_its_period_start_is_read() -> None:
    marrow = _obs("11150-0", effectivePeriod={"start": RELAPSE, "end": "2020-07-21"},
                  valueQuantity={"value": 60, "unit": "%"})
    del marrow["effectiveDateTime"]
    facts = _facts(marrow)
    assert [(m.when, m.value) for m in facts.measurements] == [(date(2020, 7, 20), 60.0)]


def test_a_field_no_rule_reads_does_not_make_a_result_unusable() -> None:
    """Only the fields read are type-checked: a lab system's odd ``issued`` (when the report
    was released) must not cost the clinician the marrow result."""
    marrow = _obs("11150-0", valueQuantity={"value": 60, "unit": "%"}, issued=20200721)
    facts = _facts(marrow)
    assert [m.value for m in facts.measurements] == [60.0] and not facts.problems


def test_a_result_without_a_date_or_with_a_bad_one_is_said_once() -> None:
    undated = _obs("11150-0", valueQuantity={"value": 60, "unit": "%"})
    del undated["effectiveDateTime"]
    bad = _obs("11150-0", valueQuantity={"value": 60, "unit": "%"}, effectiveDateTime="20-07-2020")
    facts = _facts(undated, bad)
    assert not facts.measurements
    assert "without an effective date" in _problems(facts)[f"Observation/{undated['id']}"]
    assert [p.problem for p in facts.problems if p.ref == f"Observation/{bad['id']}"] == [
        "effective date is not a valid date; ignored"]


def test_a_marrow_result_given_as_text_is_a_problem() -> None:
    marrow = _obs("11150-0", valueString="about 60%")
    facts = _facts(marrow)
    assert not facts.measurements
    assert "without a quantity" in _problems(facts)[f"Observation/{marrow['id']}"]


# -- positive / negative findings ----------------------------------------------------------

def test_every_positive_negative_kind_is_read_as_a_finding() -> None:
    for code, kind in (("cns-clinical-involvement", "cns-clinical-involvement"),
                       ("testicular-biopsy-leukemia", "testicular-biopsy"),
                       ("cd19-blasts", "cd19"), ("cd22-blasts", "cd22"),
                       ("b-cell-recovery", "b-cell-recovery"), ("csf-blasts-present", "csf-blasts")):
        for positive in (True, False):
            facts = _facts(b.coded_obs(code, RELAPSE, positive))
            assert [(f.kind, f.positive) for f in facts.findings] == [(kind, positive)], code
            assert not facts.measurements and not facts.problems, code


def test_a_result_given_only_by_its_interpretation_is_read() -> None:
    """A testicular biopsy reported as narrative with interpretation POS is a testicular
    relapse; with NEG it is not."""
    def biopsy(flag: str) -> dict[str, Any]:
        return _obs("testicular-biopsy-leukemia", b.LOCAL, valueString="see report",
                    interpretation=[{"coding": [{"system": V3, "code": "H"}]},
                                    {"coding": [{"system": V3, "code": flag}]}])
    assert _assess(biopsy("POS"))["relapse"]["extramedullary_sites"] == ["testis"]
    assert _assess(biopsy("NEG"))["relapse"]["site"] == "isolated-marrow"


def test_csf_blast_counts_one_is_present_zero_is_absent() -> None:
    for count, status in ((1, "CNS2"), (0.5, "CNS2"), (0, "CNS1")):
        csf = [b.quantity_obs("26465-5", RELAPSE, 1, "/uL"),
               b.quantity_obs("26454-9", RELAPSE, 0, "/uL"),
               b.quantity_obs("35068-6", RELAPSE, count, "/uL")]
        assert _assess(csf=csf)["relapse"]["cns_status"] == status, count


def test_a_csf_blast_count_without_a_value_is_not_a_negative_cytospin() -> None:
    """Bug: a CSF blast result whose quantity carries no value was read as "no blasts" (CNS1)."""
    blasts = b.quantity_obs("35068-6", RELAPSE, None, "/uL")
    csf = [b.quantity_obs("26465-5", RELAPSE, 40, "/uL"),
           b.quantity_obs("26454-9", RELAPSE, 0, "/uL"), blasts]
    assessment = _assess(csf=csf)
    assert assessment["relapse"]["cns_status"] != "CNS1"
    problems = {p["ref"]: p["problem"] for p in assessment["problems"]}
    assert "neither a known positive/negative code nor a usable quantity" in problems[
        f"Observation/{blasts['id']}"]


def test_cd19_and_cd22_are_positive_from_20_percent_of_blasts() -> None:
    """CD19 on 19.9% of blasts is negative: no blinatumomab; CD22 on exactly 20% is positive:
    inotuzumab is an option."""
    def antigens(cd19: float, cd22: float) -> set[str]:
        return _codes(_assess(b.quantity_obs("cd19-blasts", RELAPSE, cd19, "%", system=b.LOCAL),
                              b.quantity_obs("cd22-blasts", RELAPSE, cd22, "%", system=b.LOCAL)))
    low = antigens(19.9, 20)
    assert "blinatumomab-consolidation" not in low and "inotuzumab" in low
    high = antigens(20, 19.9)
    assert "blinatumomab-consolidation" in high and "inotuzumab" not in high
    facts = _facts(b.quantity_obs("cd19-blasts", RELAPSE, 0.2, "1", system=b.LOCAL))
    assert [(f.positive, f.percent) for f in facts.findings] == [(True, 20.0)]


def test_an_antigen_result_given_as_text_is_a_problem() -> None:
    cd19 = _obs("cd19-blasts", b.LOCAL, valueString="dim")
    facts = _facts(cd19)
    assert not facts.findings
    assert "neither a known positive/negative code" in _problems(facts)[f"Observation/{cd19['id']}"]


# -- MRD -----------------------------------------------------------------------------------

def test_a_coded_negative_mrd_is_below_one_in_ten_thousand() -> None:
    negative = b.coded_obs("mrd-flow", RELAPSE, False)
    facts = _facts(negative)
    assert [(m.fraction, m.comparator, m.method) for m in facts.mrd] == [(1e-4, "<", "flow")]
    assert not facts.problems


def test_a_coded_positive_mrd_has_no_level_and_is_said() -> None:
    positive = b.coded_obs("mrd-pcr", RELAPSE, True)
    facts = _facts(positive)
    assert not facts.mrd
    assert "coded positive has no level" in _problems(facts)[f"Observation/{positive['id']}"]


def test_mrd_comparators_are_kept_and_one_not_understood_is_said() -> None:
    for comparator in ("<", "<=", ">", ">="):
        facts = _facts(b.mrd(RELAPSE, 0.01, comparator=comparator))
        assert [(m.fraction, m.comparator) for m in facts.mrd] == [(1e-4, comparator)]
    facts = _facts(b.mrd(RELAPSE, 0.01))
    assert [m.comparator for m in facts.mrd] == ["="]
    odd = b.mrd(RELAPSE, 0.01, comparator="ad")
    facts = _facts(odd)
    assert not facts.mrd
    assert "comparator not understood" in _problems(facts)[f"Observation/{odd['id']}"]


# -- relevant but unreadable ----------------------------------------------------------------

def test_an_unmapped_gene_study_is_said() -> None:
    study = _obs("81247-9", component=[{"code": {"coding": [{"system": b.LOINC, "code": "48018-6"}]},
                                        "valueCodeableConcept": {"text": "BCR"}}])
    facts = _facts(study)
    assert "genetic result" in _problems(facts)[f"Observation/{study['id']}"]
    other_component = _obs("81247-9", component=[
        {"code": {"coding": [{"system": "urn:oid:1.2", "code": "48018-6"}]},
         "valueCodeableConcept": {"text": "BCR"}},
        {"code": {"coding": [{"system": b.LOINC, "code": "48019-4"}]},
         "valueCodeableConcept": {"text": "fusion"}}])
    assert not _facts(other_component).problems


def test_an_unmapped_marrow_or_csf_result_is_said_by_its_name_when_it_has_a_value() -> None:
    def local(text: str | None = None, display: str | None = None, **value: Any) -> dict[str, Any]:
        coding: dict[str, Any] = {"system": "urn:oid:1.2.3", "code": "LAB77"}
        if display:
            coding["display"] = display
        res = _obs("LAB77", **value)
        res["code"] = {"coding": [coding], **({"text": text} if text else {})}
        return res
    said = [local("Knochenmark Blasten", valueQuantity={"value": 60, "unit": "%"}),
            local(display="CSF cell count", valueString="12 cells"),
            local(display="MRD flow", valueCodeableConcept={"text": "negative"})]
    silent = [local("Bone marrow aspirate"),  # no value: nothing is lost
              local("Haemoglobin", valueQuantity={"value": 11, "unit": "g/dL"}),
              local(display="Discussed with parents", valueString="yes")]
    facts = _facts(*said, *silent)
    assert set(_problems(facts)) == {f"Observation/{r['id']}" for r in said}
    assert all("by its name" in p for p in _problems(facts).values())
