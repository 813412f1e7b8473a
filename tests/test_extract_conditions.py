"""Conditions as problem lists and registries write them (FHIR_INPUT.md "Conditions", "Patterns
real records use"): verification status, dates, lineage, the flipped diagnosis, CNS leukaemia,
refractory disease, and ALL-looking Conditions whose code is not mapped."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import builders as b

from service.extract import extract_facts
from service.facts import PatientFacts
from service.mapping import default_code_maps
from service.pipeline import assess_bundle

AS_OF = date(2020, 7, 30)
DIAGNOSIS, RELAPSE = "2018-01-15", "2020-07-20"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = {"who": "http://hl7.org/fhir/sid/icd-10", "cm": "http://hl7.org/fhir/sid/icd-10-cm",
         "gm": "http://fhir.de/CodeSystem/bfarm/icd-10-gm"}
MCODE_MORPHOLOGY = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                    "mcode-histology-morphology-behavior")
DIAGNOSESICHERHEIT = "http://fhir.de/StructureDefinition/icd-10-gm-diagnosesicherheit"


def _read(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _condition(*codings: dict[str, Any], onset: str | None = DIAGNOSIS, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Condition", "id": b._id("cond"), "subject": b.ref(),
                           "code": {"coding": list(codings)}, **extra}
    if onset:
        res["onsetDateTime"] = onset
    return res


def _assess(*resources: Any) -> dict[str, Any]:
    return assess_bundle(b.bundle(b.patient(), *resources), as_of=AS_OF)


def _verified(status: str, system: str = VERIFICATION) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": status}]}


# -- verification status ----------------------------------------------------------------------

def test_a_refuted_or_mistaken_relapse_is_ignored_everywhere() -> None:
    for status in ("refuted", "entered-in-error"):
        facts = _read(b.diagnosis(DIAGNOSIS), b.relapse(RELAPSE, verificationStatus=_verified(status)))
        assert not facts.relapses and not facts.problems, status
        assert len(facts.diagnoses) == 1
    for status in (_verified("confirmed"), _verified("refuted", "urn:oid:1.2.3")):
        facts = _read(b.relapse(RELAPSE, verificationStatus=status))
        assert len(facts.relapses) == 1


# -- dates ------------------------------------------------------------------------------------

def test_onset_period_start_dates_a_diagnosis_and_a_relapse() -> None:
    dx = b.diagnosis(None, onsetPeriod={"start": DIAGNOSIS}, recordedDate="2018-02-01")
    relapse = b.relapse(None, onsetPeriod={"start": RELAPSE, "end": "2020-07-25"})
    facts = _read(dx, relapse)
    assert [(d.onset.text if d.onset else None, d.date_from_recorded) for d in facts.diagnoses] == [
        (DIAGNOSIS, False)]
    assert [r.onset.text if r.onset else None for r in facts.relapses] == [RELAPSE]
    assert not facts.problems


def test_recorded_date_dates_the_diagnosis_only_when_no_onset_is_recorded() -> None:
    facts = _read(b.diagnosis(None, recordedDate=DIAGNOSIS))
    assert [(d.onset.text if d.onset else None, d.date_from_recorded) for d in facts.diagnoses] == [
        (DIAGNOSIS, True)]
    assessment = _assess(b.diagnosis(None, recordedDate=DIAGNOSIS), b.relapse(RELAPSE),
                         b.marrow(RELAPSE, 60), b.csf(RELAPSE, 1, 0, False))
    [evidence] = [e for e in assessment["evidence"] if e["fact"] == "diagnosis-date"]
    assert evidence["value"] == DIAGNOSIS and "recordedDate" in evidence["note"]
    # an onset that cannot be read is not replaced by the recorded date
    bad = b.diagnosis("15.01.2018", recordedDate="2018-02-01")
    facts = _read(bad)
    assert [d.onset for d in facts.diagnoses] == [None]
    assert [p.problem for p in facts.problems] == ["onset is not a valid date; ignored"]
    facts = _read(b.diagnosis(DIAGNOSIS, recordedDate="2018-02-01"))
    assert [(d.onset.text if d.onset else None, d.date_from_recorded) for d in facts.diagnoses] == [
        (DIAGNOSIS, False)]


def test_a_relapse_dated_after_the_assessment_date_is_left_out_and_said() -> None:
    later = b.relapse("2020-08-02")
    facts = _read(b.diagnosis(DIAGNOSIS), later)
    assert not facts.relapses
    assert "after the assessment date" in facts.problems[0].problem


def test_a_relapse_without_an_onset_is_said() -> None:
    undated = b.relapse(None)
    facts = _read(b.diagnosis(DIAGNOSIS), undated)
    assert [r.onset for r in facts.relapses] == [None]
    assert "relapse without an onset date" in facts.problems[0].problem


# -- lineage and genetics ---------------------------------------------------------------------------

def test_a_condition_coding_both_lineages_gives_none_and_is_said() -> None:
    both = _condition({"system": b.SCT, "code": "277572006"}, {"system": b.SCT, "code": "277575008"})
    facts = _read(both)
    assert [d.lineage for d in facts.diagnoses] == [None]
    assert "both B- and T-lineage" in facts.problems[0].problem
    one = _read(_condition({"system": b.SCT, "code": "277575008"},
                           {"system": b.SCT, "code": "91857003"}))
    assert [d.lineage for d in one.diagnoses] == ["T"] and not one.problems


def test_ph_positive_all_is_ph_positive() -> None:
    facts = _read(_condition({"system": b.SCT, "code": "425688002"}))
    assert [(d.lineage, d.ph_positive) for d in facts.diagnoses] == [("B", True)]
    facts = _read(_condition({"system": b.SCT, "code": "277572006"}))
    assert [(d.lineage, d.ph_positive) for d in facts.diagnoses] == [("B", False)]


def test_only_the_morphology_extensions_give_a_morphology() -> None:
    other = _condition({"system": b.SCT, "code": "91857003"}, extension=[
        {"url": "http://example.org/previous-diagnosis",
         "valueCodeableConcept": {"coding": [{"system": ICDO3, "code": "9837/3"}]}},
        {"url": MCODE_MORPHOLOGY}])
    assert [d.lineage for d in _read(other).diagnoses] == [None]


# -- excluded (Diagnosesicherheit) ----------------------------------------------------------------

def test_only_diagnosesicherheit_a_excludes_a_coding() -> None:
    def coding(url: str, code: str | None) -> dict[str, Any]:
        ext: dict[str, Any] = {"url": url}
        ext["valueCoding" if code else "valueString"] = {"code": code} if code else "A"
        return {"system": ICD10["gm"], "code": "C91.00", "extension": [ext]}
    for kept in (coding(DIAGNOSESICHERHEIT, "G"), coding(DIAGNOSESICHERHEIT, None),
                 coding("http://example.org/certainty", "A")):
        facts = _read(_condition(kept))
        assert len(facts.diagnoses) == 1 and not facts.problems, kept
    assert not _read(_condition(coding(DIAGNOSESICHERHEIT, "A"))).diagnoses


# -- ALL-looking but unmapped ------------------------------------------------------------------

def test_unmapped_codes_that_look_like_all_are_said() -> None:
    said = [_condition({"system": ICD10[k], "code": "C91.0A"}) for k in ("who", "cm", "gm")]
    said += [_condition({"system": ICD10["cm"], "code": "c91.0z"})]
    said += [_condition({"system": ICDO3, "code": code}) for code in ("9811", "9837", "9820/3")]
    said += [_condition({"system": "urn:oid:1.2.3", "code": "X", "display": display})
             for display in ("Precursor B lymphoblastic leukaemia", "akute lymphatische Leukämie",
                             "T-ALL")]
    silent = [_condition({"system": ICD10["cm"], "code": "C92.00"}),            # AML
              _condition({"system": "urn:oid:1.2.3", "code": "C91.0A"}),        # not ICD-10
              _condition({"system": ICDO3, "code": "9810/3"}),
              _condition({"system": ICDO3, "code": "9838/3"}),
              _condition({"system": ICDO3, "code": "M-9811"}),
              _condition({"system": ICDO3, "code": "981/3"}),                   # a typo: no crash
              _condition({"system": ICDO3}),
              _condition({"system": "urn:oid:1.2.3", "code": "X", "display": "all fingers"})]
    facts = _read(*said, *silent)
    assert [p.ref for p in facts.problems] == [f"Condition/{c['id']}" for c in said]
    assert not facts.diagnoses


# -- the flipped diagnosis -----------------------------------------------------------------------

def _flipped(onset: str | None) -> dict[str, Any]:
    return b.diagnosis(onset, "B", clinicalStatus={"coding": [
        {"system": "urn:oid:1.2.3", "code": "active"}, {"system": CLINICAL, "code": "relapse"}]})


def test_a_flipped_diagnosis_more_than_28_days_after_another_is_a_dated_relapse() -> None:
    start = date(2018, 1, 15)
    for days, dated in ((28, False), (29, True)):
        onset = (start + timedelta(days=days)).isoformat()
        facts = _read(b.diagnosis(DIAGNOSIS, "T"), _flipped(onset))
        assert [r.onset is not None for r in facts.relapses] == [dated], days
        assert [r.lineage for r in facts.relapses] == ["B"]
        assert len(facts.diagnoses) == (1 if dated else 2), days
        assert bool(facts.problems) is not dated, days


def test_a_flipped_diagnosis_after_a_separate_relapse_of_its_own_is_dated() -> None:
    assessment = _assess(b.diagnosis(DIAGNOSIS, "B"), _flipped(RELAPSE), b.marrow(RELAPSE, 60),
                         b.csf(RELAPSE, 1, 0, False))
    assert assessment["relapse"]["date"] == RELAPSE


def test_a_diagnosis_flipped_to_recurrence_is_a_relapse_like_one_flipped_to_relapse() -> None:
    for status in ("relapse", "recurrence"):
        flipped = b.diagnosis(DIAGNOSIS, "B", clinicalStatus={"coding": [{"system": CLINICAL,
                                                                           "code": status}]})
        assessment = _assess(flipped, b.marrow(RELAPSE, 60))
        assert assessment["applicable"] is True, status
        assert "relapse-date" in {m["fact"] for m in assessment["missing"]}, status
    active = b.diagnosis(DIAGNOSIS, "B", clinicalStatus={"coding": [{"system": CLINICAL,
                                                                      "code": "active"}]})
    assert _assess(active, b.marrow(RELAPSE, 60))["applicable"] is False


def test_a_flipped_diagnosis_without_onset_is_an_undated_relapse() -> None:
    facts = _read(b.diagnosis(DIAGNOSIS, "B"), _flipped(None))
    assert [r.onset for r in facts.relapses] == [None]
    assert any("relapse date is not recorded" in p.problem for p in facts.problems)
    facts = _read(b.diagnosis(None, "B"), _flipped("2019-01-15"))
    assert [r.onset for r in facts.relapses] == [None]


# -- CNS leukaemia, refractory, coded sites ------------------------------------------------------

def test_a_meningeal_leukaemia_condition_at_relapse_is_cns_disease() -> None:
    meningeal = _condition({"system": b.SCT, "code": "722795004"}, onset="2020-07-22")
    assessment = _assess(b.diagnosis(DIAGNOSIS), b.relapse(RELAPSE), b.marrow(RELAPSE, 60),
                         meningeal)
    assert assessment["relapse"]["cns_status"] == "CNS3 (CNS leukaemia condition)"
    assert assessment["relapse"]["site"] == "combined"
    undated = _condition({"system": b.SCT, "code": "61301000119102"}, onset=None)
    facts = _read(undated)
    assert not facts.cns_conditions and not facts.diagnoses


def test_refractory_disease_is_refractory_not_a_relapse() -> None:
    refractory = _condition({"system": b.SCT, "code": "12311000132101"}, onset="2018-03-01")
    facts = _read(b.diagnosis(DIAGNOSIS), refractory)
    assert [r.recorded.text if r.recorded else None for r in facts.refractory] == ["2018-03-01"]
    assert not facts.relapses and len(facts.diagnoses) == 1


def test_coded_relapse_sites_and_any_other_site_is_other() -> None:
    relapse = b.relapse(RELAPSE, ("marrow", "testis", "skin"))
    relapse["bodySite"].append({"coding": [{"system": b.SCT, "code": "12738006"}]})
    assert [r.coded_sites for r in _read(relapse).relapses] == [
        frozenset({"marrow", "testis", "other", "cns"})]
