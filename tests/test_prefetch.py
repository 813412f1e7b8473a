"""Prefetched resources kept once each and only when they name no other patient
(service/hooks/prefetch.py), without a FHIR server."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from service.hooks.prefetch import PATIENT_REFERENCE, _type_and_id, of_patient, unique

# Pieces references are made of, the tricky ones included: a patient id with a slash, a
# history tail, an absolute URL, a line end (``$`` matches before it).
PIECES = st.sampled_from(["Patient/", "pt-1", "pt", "/", "_history/", "2", "http://x/fhir/",
                          "\n", "Group/", ""])
texts = st.lists(PIECES, max_size=6).map("".join)
references = st.one_of(st.fixed_dictionaries({"reference": texts}), st.none(), st.just("x"),
                       st.fixed_dictionaries({"display": texts}),
                       st.fixed_dictionaries({"reference": st.integers()}))


@st.composite
def resources(draw: st.DrawFn, patient_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": draw(st.sampled_from(["Observation", "Patient"])),
                                "id": draw(st.sampled_from([patient_id, "other", None]))}
    usual = {"reference": f"Patient/{patient_id}"}
    for field in ("subject", "patient"):
        if draw(st.booleans()):
            resource[field] = draw(st.one_of(st.just(usual), references))
    return resource


@example(("pt/Patient/pt-1",  # the search reads the last "Patient/pt-1": another patient
          [{"resourceType": "Observation", "subject": {"reference": "Patient/pt/Patient/pt-1"}}]))
@example(("pt-1", [  # this patient named otherwise than usually: found by the search
    {"resourceType": "Observation", "subject": {"reference": "http://x/fhir/Patient/pt-1"}},
    {"resourceType": "Observation", "patient": {"reference": "Patient/pt-1/_history/2"}},
    {"resourceType": "Observation", "subject": {"reference": "http://x/fhir/Patient/pt"}}]))
@given(st.one_of(st.sampled_from(["pt-1", "pt"]), texts).flatmap(
    lambda pid: st.tuples(st.just(pid), st.lists(resources(pid), max_size=6))))
def test_the_usual_subject_is_kept_as_the_search_keeps_it(case: tuple[str, list[dict[str, Any]]]
                                                           ) -> None:
    patient_id, drawn = case
    kept = [r for r in drawn if of_patient(r, patient_id)]
    assert kept == [r for r in drawn if of_patient_by_search(r, patient_id)]


def of_patient_by_search(resource: dict[str, Any], patient_id: str) -> bool:
    """``of_patient`` without its shortcut for the usual reference: every reference searched."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    for field in ("subject", "patient"):
        reference = resource.get(field)
        if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
            named = PATIENT_REFERENCE.search(reference["reference"])
            return named is None or named.group(1) == patient_id
    return True


def test_each_type_and_id_is_kept_once_and_resources_without_a_usable_id_always() -> None:
    first = {"resourceType": "Observation", "id": "1", "n": 1}
    again = {"resourceType": "Observation", "id": "1", "n": 2}
    other_type = {"resourceType": "Condition", "id": "1"}
    no_id: dict[str, Any] = {"resourceType": "Observation"}
    list_id = {"resourceType": "Observation", "id": ["1"]}
    resources = [first, again, other_type, no_id, no_id, list_id, list_id]
    assert unique(resources, _type_and_id) == [first, other_type, no_id, no_id, list_id, list_id]
