"""Observations that describe the disease (FHIR_INPUT.md; docs/TERMINOLOGY.md): histology and
immunophenotype give lineage and genetics; a cancer disease status is never a relapse date."""

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
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
MII_STATUS = ("https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/CodeSystem/"
              "mii-cs-onko-verlauf-gesamtbeurteilung")


def _read(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _obs(code: str, system: str = b.LOINC, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": b._id("obs"), "status": "final",
            "subject": b.ref(), "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": DIAGNOSIS, **value}


def _histology(*codes: tuple[str, str]) -> dict[str, Any]:
    return _obs("59847-4", valueCodeableConcept={"coding": [{"system": s, "code": c}
                                                            for s, c in codes]})


def test_histology_gives_lineage_and_genetics_but_no_date() -> None:
    facts = _read(_histology((ICDO3, "9812/3")))
    assert [(d.lineage, d.ph_positive, d.genetics, d.onset) for d in facts.diagnoses] == [
        ("B", True, ("BCR-ABL1",), None)]
    facts = _read(_histology((ICDO3, "9837/3")))
    assert [(d.lineage, d.ph_positive, d.genetics) for d in facts.diagnoses] == [("T", False, ())]


def test_histology_coding_both_lineages_gives_none() -> None:
    facts = _read(_histology((ICDO3, "9811/3"), (ICDO3, "9837/3")))
    assert [d.lineage for d in facts.diagnoses] == [None]
    facts = _read(_histology((ICDO3, "9835/3")))  # precursor lymphoblastic, lineage not said
    assert [d.lineage for d in facts.diagnoses] == [None]


def test_a_ph_positive_histology_adds_a_tyrosine_kinase_inhibitor() -> None:
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, None), _histology((ICDO3, "9812/3")),
                      b.relapse(RELAPSE), b.marrow(RELAPSE, 60), b.csf(RELAPSE, 1, 0, False))
    assessment = assess_bundle(bundle, as_of=AS_OF)
    assert assessment["relapse"]["immunophenotype"] == "B"
    assert "tki" in {r["code"] for r in assessment["recommendations"]}


def test_an_unmapped_all_morphology_is_said_and_another_morphology_is_not() -> None:
    unmapped = _histology((ICDO3, "9820/3"))
    aml = _histology((ICDO3, "9861/3"))
    relapse_code = _histology((b.SCT, "12301000132103"))  # a relapse code is not a histology
    facts = _read(unmapped, aml, relapse_code)
    assert not facts.diagnoses
    assert [p.ref for p in facts.problems] == [f"Observation/{unmapped['id']}"]
    assert "ALL morphology not in the code maps" in facts.problems[0].problem


def test_an_immunophenotype_that_is_not_an_all_code_is_said_with_its_coding() -> None:
    other = _obs("101119-6", valueCodeableConcept={"coding": [{"system": b.SCT,
                                                               "code": "12301000132103"}]})
    facts = _read(other)
    assert not facts.diagnoses
    assert "coded http://snomed.info/sct|12301000132103" in facts.problems[0].problem


def _status(code: str, system: str = MII_STATUS) -> dict[str, Any]:
    return _obs("396432002", b.SCT, effectiveDateTime=RELAPSE,
                valueCodeableConcept={"coding": [{"system": system, "code": code}]})


def test_a_disease_status_in_remission_says_nothing_and_an_unknown_one_is_said() -> None:
    remission, unknown = _status("V"), _status("Q")
    facts = _read(b.diagnosis(DIAGNOSIS, "B"), remission, unknown)
    assert not facts.relapses
    assert [p.ref for p in facts.problems] == [f"Observation/{unknown['id']}"]
    assert "not understood" in facts.problems[0].problem


def test_a_disease_status_relapse_is_an_undated_relapse_said_only_without_a_dated_one() -> None:
    status = _status("Y")
    facts = _read(b.diagnosis(DIAGNOSIS, "B"), status)
    assert [(r.refs, r.onset) for r in facts.relapses] == [((f"Observation/{status['id']}",), None)]
    assert "cancer disease status 'relapse' on 2020-07-20" in facts.problems[0].problem
    facts = _read(b.diagnosis(DIAGNOSIS, "B"), b.relapse(RELAPSE), _status("Y"))
    assert not facts.problems
