"""Procedures (FHIR_INPUT.md "Procedures"): only completed counts as done, preparation /
in-progress as planned; radiotherapy regions and dose (cGy or Gy); dates."""

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
HSCT, RADIOTHERAPY, BRAIN = "234336002", "108290001", "12738006"
DOSE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume"


def _facts(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _after_hsct(hsct: dict[str, Any]) -> bool:
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), b.relapse(RELAPSE),
                      b.marrow(RELAPSE, 60), b.csf(RELAPSE, 1, 0, False), hsct)
    return bool(assess_bundle(bundle, as_of=AS_OF)["relapse"]["after_hsct"])


def test_only_a_completed_transplant_is_a_relapse_after_hsct() -> None:
    assert _after_hsct(b.procedure(HSCT, "2019-03-01")) is True
    for status in ("preparation", "in-progress", "not-done", "entered-in-error"):
        assert _after_hsct(b.procedure(HSCT, "2019-03-01", status=status)) is False, status


def test_each_status_means_done_planned_or_nothing() -> None:
    for status, meaning in (("completed", "done"), ("preparation", "planned"),
                            ("in-progress", "planned")):
        facts = _facts(b.procedure(HSCT, "2020-07-01", status=status))
        assert [(p.kind, p.status) for p in facts.procedures] == [("hsct-allogeneic", meaning)]
        assert not facts.problems
    for status in ("not-done", "entered-in-error"):
        facts = _facts(b.procedure(HSCT, "2020-07-01", status=status))
        assert not facts.procedures and not facts.problems, status
    odd = b.procedure(HSCT, "2020-07-01", status="unknown")
    facts = _facts(odd)
    assert not facts.procedures
    assert "status 'unknown'" in facts.problems[0].problem


def test_a_planned_transplant_may_be_dated_ahead_and_a_done_one_may_not() -> None:
    planned = b.procedure(HSCT, "2020-09-01", status="preparation")
    done = b.procedure(HSCT, "2020-09-01")
    facts = _facts(planned, done)
    assert [(p.status, p.when) for p in facts.procedures] == [("planned", date(2020, 9, 1)),
                                                               ("done", None)]
    assert [p.ref for p in facts.problems] == [f"Procedure/{done['id']}"]


def test_a_procedure_dated_by_its_period_start() -> None:
    hsct = b.procedure(HSCT, "2019-03-01")
    del hsct["performedDateTime"]
    hsct["performedPeriod"] = {"start": "2019-03-01", "end": "2019-04-10"}
    assert [p.when for p in _facts(hsct).procedures] == [date(2019, 3, 1)]


def _dose(value: float, unit: str | None = None, code: str | None = None,
          url: str = "totalDoseDelivered") -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit:
        quantity["unit"] = unit
    if code:
        quantity.update({"system": b.UCUM, "code": code})
    return {"url": url, "valueQuantity": quantity}


def _radiotherapy(*extensions: dict[str, Any], code: str = RADIOTHERAPY) -> dict[str, Any]:
    res = b.procedure(code, "2019-03-01", body_sites=(BRAIN, "2748008"))
    res["extension"] = list(extensions)
    return res


def test_radiation_dose_in_cgy_or_gy() -> None:
    for sub, gy in ((_dose(1800, "cGy", "cGy"), 18.0), (_dose(18, "Gy", "Gy"), 18.0),
                    (_dose(24, "Gy"), 24.0), (_dose(1200, "centigray", "cGy"), 12.0)):
        facts = _facts(_radiotherapy({"url": DOSE, "extension": [sub]}))
        assert [(p.dose_gy, p.regions) for p in facts.procedures] == [
            (gy, frozenset({"cranial", "spinal"}))], sub
        assert not facts.problems


def test_only_the_total_dose_delivered_of_the_mcode_extension_is_the_dose() -> None:
    other = {"url": "http://example.org/fraction-dose", "extension": [_dose(180, "cGy", "cGy")]}
    fractions = _dose(10, "1", "1", url="fractionsDelivered")
    no_value = {"url": "totalDoseDelivered", "valueQuantity": {"unit": "cGy"}}
    facts = _facts(_radiotherapy(other, {"url": DOSE, "extension": [fractions, no_value,
                                                                   _dose(1800, "cGy", "cGy")]}))
    assert [p.dose_gy for p in facts.procedures] == [18.0]
    assert not _facts(_radiotherapy(other)).procedures[0].dose_gy


def test_a_dose_unit_not_understood_is_said() -> None:
    rt = _radiotherapy({"url": DOSE, "extension": [_dose(1800, "rad")]})
    facts = _facts(rt)
    assert [p.dose_gy for p in facts.procedures] == [None]
    assert "'rad'" in facts.problems[0].problem


def test_a_dose_extension_on_another_procedure_is_not_a_radiation_dose() -> None:
    hsct = _radiotherapy({"url": DOSE, "extension": [_dose(1200, "cGy", "cGy")]}, code=HSCT)
    assert [p.dose_gy for p in _facts(hsct).procedures] == [None]
