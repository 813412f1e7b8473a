"""Prefetched resources kept once each and only when they name no other patient
(service/hooks/prefetch.py), without a FHIR server."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.hooks.prefetch import PATIENT_REFERENCE, _unique, of_patient

# Pieces references are made of, the tricky ones included: a patient id with a slash, a
# history tail, an absolute URL, a line end (``$`` matches before it).
PIECES = st.sampled_from(["Patient/", "pt-1", "pt", "/", "_history/", "2", "http://x/fhir/",
                          "\n", "Group/", ""])
texts = st.lists(PIECES, max_size=6).map("".join)


def _named_by_search(reference: str, patient_id: str) -> bool:
    """The verdict as the search reads it, every time."""
    named = PATIENT_REFERENCE.search(reference)
    return named is None or named.group(1) == patient_id


@given(reference=texts, patient_id=st.one_of(st.sampled_from(["pt-1", "pt"]), texts))
def test_a_reference_is_read_alike_with_or_without_the_shortcut(reference: str,
                                                                patient_id: str) -> None:
    for field in ("subject", "patient"):
        resource = {"resourceType": "Observation", field: {"reference": reference}}
        assert of_patient(resource, patient_id) is _named_by_search(reference, patient_id)
    usual = {"resourceType": "Observation", "subject": {"reference": f"Patient/{patient_id}"}}
    assert of_patient(usual, patient_id) is _named_by_search(f"Patient/{patient_id}", patient_id)


def test_each_type_and_id_is_kept_once_and_resources_without_a_usable_id_always() -> None:
    first = {"resourceType": "Observation", "id": "1", "n": 1}
    again = {"resourceType": "Observation", "id": "1", "n": 2}
    other_type = {"resourceType": "Condition", "id": "1"}
    no_id: dict[str, Any] = {"resourceType": "Observation"}
    list_id = {"resourceType": "Observation", "id": ["1"]}
    resources = [first, again, other_type, no_id, no_id, list_id, list_id]
    assert _unique(resources) == [first, other_type, no_id, no_id, list_id, list_id]
