"""One patient's record as a whole (service/extract/__init__.py, context.py): invalid resources
are named without their values and the rest is kept; Medications are found by id or fullUrl;
the patient; dates on the assessment day; which coding names a concept."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import builders as b
import pytest

from service.extract import extract_facts
from service.facts import Measurement, PatientFacts, Therapy
from service.mapping import DEFAULT_MAPPINGS_DIR, default_code_maps, load_code_maps
from service.pipeline import assess_bundle

AS_OF = date(2020, 7, 30)
DIAGNOSIS, RELAPSE = "2018-01-15", "2020-07-20"
VINCRISTINE = {"coding": [{"system": b.RXNORM, "code": "11202"}]}


def _read(*resources: Any, **kw: Any) -> PatientFacts:
    return extract_facts(list(resources), default_code_maps(), AS_OF, **kw)


def test_an_invalid_resource_is_named_with_where_and_what_and_the_rest_is_kept() -> None:
    one = b.quantity_obs("11150-0", RELAPSE, 60, "%")
    one["status"] = 7
    two = b.quantity_obs("11150-0", RELAPSE, 60, "%")
    two.update(status=7, effectiveDateTime=8)
    whole = {"resourceType": "Condition", "id": "c1", "code": "Max Mustermann"}
    facts = _read(one, two, whole, b.relapse(RELAPSE), "not a resource", {"resourceType": 3},
                  {"resourceType": "Basic", "id": "x"})
    assert len(facts.relapses) == 1
    assert [(p.ref, p.problem) for p in facts.problems] == [
        (f"Observation/{one['id']}", "not valid FHIR, ignored: status: Input should be a valid string"),
        (f"Observation/{two['id']}",
         "not valid FHIR, ignored: status: Input should be a valid string (+1 more)"),
        ("Condition/c1", "not valid FHIR, ignored: code: Input should be a valid dictionary or "
                         "instance of CodeableConcept")]
    assert "Mustermann" not in str(facts.problems)


@pytest.mark.parametrize(("kind", "fields", "where", "shape"), [
    ("Observation", {"code": {"coding": ["x"]}}, "code.coding.0", "Coding"),
    ("Condition", {"extension": [{"url": "u", "valueCoding": 1}]}, "extension.0.valueCoding",
     "Coding"),
    ("Condition", {"code": {"coding": [{"extension": [{"extension": [[]]}]}]}},
     "code.coding.0.extension.0.extension.0", "Extension"),
    ("Observation", {"component": [3]}, "component.0", "ObservationComponent"),
    ("Patient", {"meta": "x"}, "meta", "Meta"),
    ("Observation", {"valueQuantity": True}, "valueQuantity", "Quantity"),
    ("MedicationStatement", {"contained": [5]}, "contained.0", None),  # any object: no shape
])
def test_a_non_object_where_an_object_belongs_is_named_by_what_belongs_there(
        kind: str, fields: dict[str, Any], where: str, shape: str | None) -> None:
    """The wording the reports have always had (the lean shapes were pydantic models then)."""
    facts = _read({"resourceType": kind, "id": "r1", **fields})
    named = f" or instance of {shape}" if shape else ""
    assert [p.problem for p in facts.problems] == [
        f"not valid FHIR, ignored: {where}: Input should be a valid dictionary{named}"]


def test_an_invalid_resource_without_an_id_or_with_a_long_one_is_named_shortly() -> None:
    no_id = {"resourceType": "Observation", "status": 1}
    long_id = {"resourceType": "Observation", "id": "x" * 300, "status": 1}
    facts = _read(no_id, long_id)
    assert [p.ref for p in facts.problems] == ["Observation/(no id)", "Observation/" + "x" * 108]


def test_a_medication_is_found_by_its_id_even_when_another_resource_has_the_same_id() -> None:
    """FHIR ids are unique per resource type: servers number each type from 1."""
    medication = {"resourceType": "Medication", "id": "1", "code": VINCRISTINE}
    statement = {"resourceType": "MedicationStatement", "id": "1", "status": "completed",
                 "subject": b.ref(), "effectiveDateTime": "2020-07-21",
                 "medicationReference": {"reference": "Medication/1"}}
    observation = b.quantity_obs("11150-0", RELAPSE, 60, "%")
    observation["id"] = "1"
    anonymous = {"resourceType": "Medication", "code": {"coding": [{"system": b.RXNORM,
                                                                    "code": "1597258"}]}}
    facts = _read(medication, anonymous, statement, observation)
    assert [t.agent for t in facts.therapies] == ["vincristine"]


def test_a_medication_referenced_by_its_bundle_full_url_is_read() -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": VINCRISTINE}
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "active",
                 "subject": b.ref(), "effectiveDateTime": "2018-09-03",
                 "medicationReference": {"reference": "urn:uuid:0a1b"}}
    bundle = b.bundle(b.patient(), b.diagnosis(DIAGNOSIS), b.relapse(RELAPSE), b.marrow(RELAPSE, 60),
                      b.csf(RELAPSE, 1, 0, False), statement)
    bundle["entry"].append({"fullUrl": "urn:uuid:0a1b", "resource": medication})
    bundle["entry"].append({"fullUrl": "urn:uuid:0a1c", "resource": {"resourceType": "Medication",
                                                                      "code": "not a concept"}})
    bundle["entry"].append({"fullUrl": "urn:uuid:0a1d", "resource": b.patient(pid="other")})
    assert assess_bundle(bundle, as_of=AS_OF)["relapse"]["relapse_on_therapy"] is True
    facts = _read(statement, full_urls={"urn:uuid:0a1b": medication})
    assert [t.agent for t in facts.therapies] == ["vincristine"]


def test_the_patient_is_the_one_asked_about_else_the_patient_resource() -> None:
    assert _read(b.patient(pid="p7")).patient == "Patient/p7"
    assert _read(b.patient(pid="p7"), patient_id="abc").patient == "Patient/abc"
    facts = _read(b.patient("2012-03-01", pid="p7"))
    assert (facts.birth_date.text if facts.birth_date else None, facts.gender) == ("2012-03-01", "male")


def test_a_result_on_the_assessment_day_is_read() -> None:
    facts = _read(b.relapse("2020-07-30"), b.marrow("2020-07-30", 60))
    assert [r.onset.text if r.onset else None for r in facts.relapses] == ["2020-07-30"]
    assert [m.value for m in facts.measurements] == [60.0]
    assert not facts.problems


def test_the_first_known_coding_names_the_drug() -> None:
    """Liposomal vincristine sent with its ingredient as a second coding is liposomal."""
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "completed",
                 "subject": b.ref(), "effectiveDateTime": "2020-07-21",
                 "medicationCodeableConcept": {"coding": [
                     {"system": "urn:oid:1.2.3", "code": "LOCAL-VCR-LIPO"},
                     {"system": b.LOCAL, "code": "vincristine-liposomal"},
                     {"system": b.RXNORM, "code": "11202"}]}}
    assert [t.agent for t in _read(statement).therapies] == ["vincristine-liposomal"]


def test_an_unreadable_drug_is_named_by_at_most_four_codings() -> None:
    codings = [{"code": "X1"}, {"system": "urn:oid:1.2.3"},
               *({"system": "urn:oid:1.2.3", "code": f"Y{i}"} for i in range(4))]
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "completed",
                 "subject": b.ref(), "effectiveDateTime": "2020-07-21",
                 "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                      "mcode-cancer-related-medication"]},
                 "medicationCodeableConcept": {"coding": codings}}
    [problem] = _read(statement).problems
    assert "((no system)|X1, urn:oid:1.2.3|(no code), urn:oid:1.2.3|Y0, urn:oid:1.2.3|Y1)" in (
        problem.problem)
    statement["medicationCodeableConcept"] = {"text": "trial drug"}
    [problem] = _read(statement).problems
    assert "(no coding)" in problem.problem


def test_facts_made_together_when_the_record_is_read_keep_every_field(tmp_path: Path) -> None:
    """Measurements and therapies are kept as their fields and made together at the end (one
    validation for the lot): a misspelt field would be dropped without a word, so every one is
    given here a value other than its default."""
    (tmp_path / "supportive.yaml").write_text(
        '- {system: rxnorm, code: "26225", fact: medication, agent: ondansetron, '
        "antileukemic: false}\n")
    maps = load_code_maps([DEFAULT_MAPPINGS_DIR, tmp_path])
    marrow = b.quantity_obs("11150-0", RELAPSE, 0.5, "%", comparator="<")
    methotrexate = b.medication("6851", DIAGNOSIS, "2018-06-30", intrathecal=True)
    ondansetron = b.medication("26225", DIAGNOSIS)
    facts = extract_facts([marrow, methotrexate, ondansetron], maps, AS_OF)
    assert facts.measurements == [Measurement(
        refs=(f"Observation/{marrow['id']}",), kind="marrow-blasts", when=date(2020, 7, 20),
        value=0.5, comparator="<")]
    assert facts.therapies == [
        Therapy(refs=(f"MedicationStatement/{methotrexate['id']}",), agent="methotrexate",
                status="given", start=date(2018, 1, 15), end=date(2018, 6, 30), intrathecal=True),
        Therapy(refs=(f"MedicationStatement/{ondansetron['id']}",), agent="ondansetron",
                status="given", start=date(2018, 1, 15), antileukemic=False)]
