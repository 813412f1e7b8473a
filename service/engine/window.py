"""Results "at relapse": within 14 days before or after the relapse date, closest first
(FHIR_INPUT.md "Observations")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from service.facts import Finding, Measurement

AT_RELAPSE_DAYS = 14
Dated = TypeVar("Dated", Measurement, Finding)


def closest(items: Iterable[Dated], kind: str, around: date,
            days: int = AT_RELAPSE_DAYS) -> Dated | None:
    """The result of ``kind`` closest to ``around`` within ±``days`` (earlier wins a tie; of two
    on the same day, the first in the record)."""
    near = [item for item in items
            if item.kind == kind and abs((item.when - around).days) <= days]
    return min(near, key=lambda item: (abs((item.when - around).days), item.when), default=None)

