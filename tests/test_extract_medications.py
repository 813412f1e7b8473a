"""Medication resources as EHRs, pharmacies and order systems write them (FHIR_INPUT.md
"Medications", "Patterns real records use"): what each status means, which orders count, how
the drug is found, when the therapy ran, and cancer drugs that cannot be read."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
import pytest

from service.extract import extract_facts
from service.facts import PatientFacts
from service.mapping import default_code_maps
from service.pipeline import assess_bundle

AS_OF = date(2020, 7, 30)
DIAGNOSIS, RELAPSE = "2018-01-15", "2020-07-20"
VINCRISTINE = {"coding": [{"system": b.RXNORM, "code": "11202"}]}
ATC = "http://www.whocc.no/atc"


def _facts(*resources: dict[str, Any]) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF)


def _res(kind: str, status: str, **fields: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": kind, "id": b._id("med"), "status": status,
                           "subject": b.ref()}
    if "medicationReference" not in fields:
        res["medicationCodeableConcept"] = VINCRISTINE
    if kind == "MedicationRequest":
        res.setdefault("intent", "order")
    return {**res, **fields}


def _therapies(facts: PatientFacts) -> list[tuple[str, str, date | None, date | None]]:
    return [(t.agent, t.status, t.start, t.end) for t in facts.therapies]


def _problems(facts: PatientFacts) -> dict[str, str]:
    return {p.ref: p.problem for p in facts.problems}


def _relapse(*therapy: dict[str, Any], relapse: str = RELAPSE) -> dict[str, Any]:
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS, "B"), b.relapse(relapse),
                      b.marrow(relapse, 60), b.csf(relapse, 1, 0, False), *therapy)
    return assess_bundle(bundle, as_of=date.fromisoformat(relapse).replace(day=30))


# -- status --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "meaning"), [
    ("MedicationStatement", "active", "current"), ("MedicationStatement", "intended", "planned"),
    ("MedicationStatement", "on-hold", "current"), ("MedicationStatement", "completed", "given"),
    ("MedicationStatement", "stopped", "given"),
    ("MedicationRequest", "active", "planned"), ("MedicationRequest", "draft", "planned"),
    ("MedicationRequest", "on-hold", "planned"), ("MedicationRequest", "completed", "given"),
    ("MedicationRequest", "stopped", "given"),
    ("MedicationAdministration", "completed", "given"),
    ("MedicationAdministration", "in-progress", "current"),
    ("MedicationAdministration", "on-hold", "current"),
    ("MedicationAdministration", "stopped", "given"),
])
def test_each_status_means_what_fhir_input_says(kind: str, status: str, meaning: str) -> None:
    when = {"MedicationStatement": {"effectivePeriod": {"start": "2020-01-06"}},
            "MedicationRequest": {"authoredOn": "2020-01-06"},
            "MedicationAdministration": {"effectivePeriod": {"start": "2020-01-06"}}}[kind]
    facts = _facts(_res(kind, status, **when))
    assert [t.status for t in facts.therapies] == [meaning]
    assert not facts.problems


@pytest.mark.parametrize(("kind", "status"), [
    ("MedicationStatement", "entered-in-error"), ("MedicationStatement", "not-taken"),
    ("MedicationRequest", "cancelled"), ("MedicationRequest", "revoked"),
    ("MedicationRequest", "entered-in-error"), ("MedicationAdministration", "not-done"),
    ("MedicationAdministration", "entered-in-error"),
])
def test_a_withdrawn_resource_is_left_out_without_a_word(kind: str, status: str) -> None:
    facts = _facts(_res(kind, status, authoredOn="2020-01-06") if kind == "MedicationRequest"
                   else _res(kind, status, effectiveDateTime="2020-01-06"))
    assert not facts.therapies and not facts.problems


def test_a_stopped_statement_ends_frontline_and_an_on_hold_one_is_still_running() -> None:
    stopped = _res("MedicationStatement", "stopped",
                   effectivePeriod={"start": "2018-09-03", "end": "2020-03-16"})
    assessment = _relapse(stopped, relapse="2021-05-17")
    assert assessment["relapse"]["relapse_on_therapy"] is False
    assert assessment["relapse"]["months_after_frontline_end"] == 14
    on_hold = _res("MedicationStatement", "on-hold", effectivePeriod={"start": "2018-09-03"})
    assert _relapse(on_hold, relapse="2021-05-17")["relapse"]["relapse_on_therapy"] is True


def test_an_administration_in_progress_at_the_relapse_is_a_relapse_on_therapy() -> None:
    running = _res("MedicationAdministration", "in-progress",
                   effectivePeriod={"start": "2018-09-03"})
    assert _relapse(running)["relapse"]["relapse_on_therapy"] is True


def test_a_completed_statement_dated_by_one_day_was_taken_that_day() -> None:
    """A completed statement with an effectiveDateTime ends on that day (an active one does
    not end there: test_real_records)."""
    last = _res("MedicationStatement", "completed", effectiveDateTime="2020-03-16")
    assert _therapies(_facts(last)) == [("vincristine", "given", date(2020, 3, 16),
                                         date(2020, 3, 16))]
    assessment = _relapse(last, relapse="2021-05-17")
    assert assessment["relapse"]["months_after_frontline_end"] == 14


def test_a_completed_order_ends_on_its_date_and_an_active_one_has_no_end() -> None:
    done = _res("MedicationRequest", "completed", authoredOn="2020-03-16")
    active = _res("MedicationRequest", "active", authoredOn="2020-03-16")
    assert _therapies(_facts(done, active)) == [
        ("vincristine", "given", date(2020, 3, 16), date(2020, 3, 16)),
        ("vincristine", "planned", date(2020, 3, 16), None)]
    assert _relapse(done, relapse="2021-05-17")["relapse"]["months_after_frontline_end"] == 14


def test_a_status_outside_fhir_is_said_for_every_kind_of_resource() -> None:
    for kind in ("MedicationStatement", "MedicationRequest", "MedicationAdministration"):
        res = _res(kind, "final", effectiveDateTime="2020-01-06")
        facts = _facts(res)
        assert not facts.therapies
        assert "status 'final'" in _problems(facts)[f"{kind}/{res['id']}"], kind


# -- which orders count --------------------------------------------------------------------

def test_orders_and_plans_count_and_an_option_does_not() -> None:
    for intent in ("plan", "order", "original-order", "reflex-order", "filler-order",
                   "instance-order", "proposal"):
        facts = _facts(_res("MedicationRequest", "active", intent=intent, authoredOn="2020-07-24"))
        assert [t.status for t in facts.therapies] == ["planned"], intent
    facts = _facts(_res("MedicationRequest", "active", intent="option", authoredOn="2020-07-24"))
    assert not facts.therapies and not facts.problems


# -- when -----------------------------------------------------------------------------------

def test_an_order_without_authored_on_is_dated_by_its_first_dosage_period_start() -> None:
    def line(start: str, end: str) -> dict[str, Any]:
        return {"timing": {"repeat": {"boundsPeriod": {"start": start, "end": end}}}}
    order = _res("MedicationRequest", "active",
                 dosageInstruction=[{"text": "see protocol"}, line("2020-07-24", "2020-08-20"),
                                    line("2020-09-01", "2020-09-28")])
    facts = _facts(order)
    assert _therapies(facts) == [("vincristine", "planned", date(2020, 7, 24), None)]
    assert not facts.problems


def test_an_undated_order_is_said_and_an_undated_withdrawn_or_odd_one_is_not_twice() -> None:
    undated = _res("MedicationRequest", "active")
    facts = _facts(undated)
    assert _therapies(facts) == [("vincristine", "planned", None, None)]
    assert "ordered without a date" in _problems(facts)[f"MedicationRequest/{undated['id']}"]
    odd = _res("MedicationRequest", "final")
    assert [p.problem for p in _facts(odd).problems] == [
        "vincristine with status 'final' that is not understood; not counted as therapy"]


def test_plans_may_be_dated_ahead_and_are_planned() -> None:
    """A statement intended from next month, an order whose dosage starts next week, an active
    course due to end next month: no problem, and nothing there is given yet."""
    intended = _res("MedicationStatement", "intended", effectiveDateTime="2020-08-10")
    course = _res("MedicationStatement", "active",
                  effectivePeriod={"start": "2020-07-24", "end": "2020-08-20"})
    order = _res("MedicationRequest", "active", dosageInstruction=[
        {"timing": {"repeat": {"boundsPeriod": {"start": "2020-08-03"}}}}])
    running = _res("MedicationStatement", "active", effectivePeriod={"start": "2020-08-03"})
    facts = _facts(intended, course, order, running)
    assert _therapies(facts) == [
        ("vincristine", "planned", date(2020, 8, 10), None),
        ("vincristine", "current", date(2020, 7, 24), date(2020, 8, 20)),
        ("vincristine", "planned", date(2020, 8, 3), None),
        ("vincristine", "planned", date(2020, 8, 3), None)]
    assert not facts.problems


def test_a_dose_recorded_as_given_after_the_assessment_date_is_ignored_and_said() -> None:
    future = _res("MedicationAdministration", "completed", effectiveDateTime="2020-07-31")
    today = _res("MedicationAdministration", "completed", effectiveDateTime="2020-07-30")
    facts = _facts(future, today)
    assert _therapies(facts) == [("vincristine", "given", AS_OF, AS_OF)]
    assert [p.ref for p in facts.problems] == [f"MedicationAdministration/{future['id']}"]
    assert "after the assessment date" in facts.problems[0].problem


def test_an_administration_over_a_period_runs_from_its_start_to_its_end() -> None:
    infusion = _res("MedicationAdministration", "completed",
                    effectivePeriod={"start": "2020-07-21", "end": "2020-07-24"})
    assert _therapies(_facts(infusion)) == [("vincristine", "given", date(2020, 7, 21),
                                             date(2020, 7, 24))]


def test_mapped_drugs_are_antileukemic_unless_the_map_says_otherwise() -> None:
    assert [t.antileukemic for t in _facts(_res("MedicationStatement", "completed",
                                                effectiveDateTime="2020-01-06")).therapies] == [True]


# -- intrathecal -----------------------------------------------------------------------------

def test_intrathecal_route_on_every_kind_of_resource() -> None:
    it = {"route": {"coding": [{"system": b.SCT, "code": "72607000"}]}}
    iv = {"route": {"coding": [{"system": b.SCT, "code": "47625008"}]}}
    for route, expected in ((it, True), (iv, False)):
        facts = _facts(
            _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21", dosage=[route]),
            _res("MedicationRequest", "active", authoredOn="2020-07-21", dosageInstruction=[route]),
            _res("MedicationAdministration", "completed", effectiveDateTime="2020-07-21",
                 dosage=route),
            _res("MedicationAdministration", "completed", effectiveDateTime="2020-07-21"))
        assert [t.intrathecal for t in facts.therapies] == [expected, expected, expected, False]


# -- how the drug is found -------------------------------------------------------------------

def _medication(mid: str = "m1", **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": mid, **fields}


def test_the_drug_is_found_through_every_kind_of_reference() -> None:
    blina = {"coding": [{"system": b.RXNORM, "code": "1597258"}]}
    contained = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                     medicationReference={"reference": "#m1"},
                     contained=[_medication("other", code=VINCRISTINE), _medication(code=blina)])
    relative = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                    medicationReference={"reference": "Medication/m1"})
    absolute = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                    medicationReference={"reference": "https://fhir.example.org/r4/Medication/m1"})
    versioned = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                     medicationReference={"reference": "Medication/m1/_history/3"})
    facts = _facts(_medication(code=blina), contained, relative, absolute, versioned)
    assert [t.agent for t in facts.therapies] == ["blinatumomab"] * 4
    assert not facts.problems


def test_a_reference_to_a_missing_medication_is_not_a_drug() -> None:
    missing = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                   medicationReference={"reference": "#nowhere"},
                   contained=[_medication(code=VINCRISTINE)])
    empty = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                 medicationReference={"display": "vincristine"})
    facts = _facts(missing, empty)
    assert not facts.therapies and not facts.problems


def test_a_medication_without_a_code_is_read_by_its_ingredient() -> None:
    ingredient = _medication(ingredient=[{"itemReference": {"reference": "Substance/x"}},
                                         {"itemCodeableConcept": VINCRISTINE}])
    statement = _res("MedicationStatement", "completed", effectiveDateTime="2020-07-21",
                     medicationReference={"reference": "Medication/m1"})
    assert [t.agent for t in _facts(ingredient, statement).therapies] == ["vincristine"]


# -- cancer drugs that cannot be read -----------------------------------------------------------

def test_an_unknown_cancer_drug_is_said_however_it_shows_it_is_one() -> None:
    unknown = {"coding": [{"system": "urn:oid:1.2.3", "code": "X1"}]}
    all_dx = b.diagnosis(DIAGNOSIS, "B")
    profiles = [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-related-medication",
        "https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/StructureDefinition/"
        "mii-pr-onko-systemische-therapie-medikation",
        "http://fhir.nmdp.org/ig/cibmtr-reporting/StructureDefinition/cibmtr-medication-request"]
    said = [_res("MedicationStatement", "completed", medicationCodeableConcept={
                "coding": [{"system": system, "code": "L01XX27"}]})
            for system in (ATC, "http://fhir.de/CodeSystem/bfarm/atc")]
    said += [_res("MedicationStatement", "completed", medicationCodeableConcept=unknown,
                  meta={"profile": [p]}) for p in profiles]
    said.append(_res("MedicationStatement", "completed", medicationCodeableConcept=unknown,
                     reasonReference=[{"display": "ALL"},
                                      {"reference": f"Condition/{all_dx['id']}"}]))
    silent = [
        _res("MedicationStatement", "completed", medicationCodeableConcept={
            "coding": [{"system": ATC, "code": "A04AA01"}]}),                  # ondansetron
        _res("MedicationStatement", "completed", medicationCodeableConcept={
            "coding": [{"system": "urn:oid:1.2.3", "code": "L01XX27"}]}),      # not ATC
        _res("MedicationStatement", "completed", medicationCodeableConcept=unknown,
             reasonReference=[{"reference": "Condition/other"}]),
        _res("MedicationStatement", "entered-in-error", medicationCodeableConcept={
            "coding": [{"system": ATC, "code": "L01XX27"}]}),
    ]
    facts = _facts(all_dx, *said, *silent)
    assert set(_problems(facts)) == {f"MedicationStatement/{r['id']}" for r in said}
    assert not facts.therapies
