"""One straight line: FHIR resources → facts → assessment (the same for the service and replay)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from service.mapping import CodeMaps


def assess_resources(
    resources: Iterable[dict[str, Any]],
    *,
    patient_id: str | None = None,
    as_of: date | None = None,
    maps: CodeMaps | None = None,
) -> dict[str, Any]:
    """The assessment (OUTPUT.md §1, JSON-ready) of one patient's FHIR R4 resources."""
    raise NotImplementedError("engine under construction")


def assess_bundle(
    bundle: dict[str, Any], *, as_of: date | None = None, maps: CodeMaps | None = None
) -> dict[str, Any]:
    """The assessment of a FHIR Bundle holding one patient's record."""
    entries = bundle.get("entry") or []
    resources = [e.get("resource") for e in entries if isinstance(e, dict)]
    return assess_resources([r for r in resources if isinstance(r, dict)], as_of=as_of, maps=maps)
