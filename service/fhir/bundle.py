"""Reading a FHIR Bundle's entries, for replay, prefetch and fetched search pages alike."""

from __future__ import annotations

from typing import Any


def is_search_outcome(search: Any) -> bool:
    """Whether an entry's ``search`` marks an entry a search adds to say how it went (an
    OperationOutcome), not a match."""
    return isinstance(search, dict) and search.get("mode") == "outcome"


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a Bundle's entries, without search outcome entries; entries that are not
    objects (or an ``entry`` that is not a list) are skipped."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or is_search_outcome(entry.get("search")):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict):
            found.append(resource)
    return found
