"""One reading of a Bundle's entries for replay, prefetch and fetched pages."""

from __future__ import annotations

import pytest

from service.fhir.bundle import bundle_resources


@pytest.mark.parametrize("entry", [5, "text", {"resource": {}}, None])
def test_an_entry_field_that_is_not_a_list_gives_no_resources(entry: object) -> None:
    assert bundle_resources({"resourceType": "Bundle", "entry": entry}) == []


def test_search_outcome_entries_and_non_objects_are_skipped() -> None:
    patient = {"resourceType": "Patient", "id": "p"}
    outcome = {"resourceType": "OperationOutcome"}
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": patient, "search": {"mode": "match"}},
        {"resource": outcome, "search": {"mode": "outcome"}},
        "junk", {"resource": "junk"}]}
    assert bundle_resources(bundle) == [patient]
