"""Results "at relapse": within 14 days before or after the relapse date, closest first
(FHIR_INPUT.md "Observations")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TypeVar

from service.facts import Finding, Measurement

AT_RELAPSE_DAYS = 14
Dated = TypeVar("Dated", Measurement, Finding)


def closest(items: Iterable[Dated], kind: str, around: date,
            days: int = AT_RELAPSE_DAYS) -> Dated | None:
    """The result of ``kind`` closest to ``around`` within ±``days`` (earlier wins a tie; of two
    on the same day, the first in the record). One pass: the window is two dates to compare
    with (|when − around| ≤ days, in whole days, is low ≤ when ≤ high), and a best result is
    replaced only by a strictly better one, as ``min`` keeps the first of equals."""
    low, high = _window(around, days)
    best, best_key = None, None
    for item in items:
        when = item.when
        if low <= when <= high and item.kind == kind:
            key = (abs((when - around).days), when)
            if best_key is None or key < best_key:
                best, best_key = item, key
    return best


def _window(around: date, days: int) -> tuple[date, date]:
    """The first and last day within ``days`` of ``around``, held to the calendar's ends (a
    relapse dated in year 1 or 9999 is a typing slip, not a reason to fail)."""
    try:
        low = around - timedelta(days=days)
    except OverflowError:
        low = date.min
    try:
        high = around + timedelta(days=days)
    except OverflowError:
        high = date.max
    return low, high
