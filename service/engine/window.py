"""Results "at relapse": within 14 days before or after the relapse date, closest first
(FHIR_INPUT.md "Observations")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from service.facts import Finding, Measurement, PatientFacts

AT_RELAPSE_DAYS = 14
Dated = TypeVar("Dated", Measurement, Finding)


def closest(items: Iterable[Dated], kind: str, around: date,
            days: int = AT_RELAPSE_DAYS) -> Dated | None:
    """The result of ``kind`` closest to ``around`` within ±``days`` (earlier wins a tie; of two
    on the same day, the first in the record)."""
    near = [item for item in items
            if item.kind == kind and abs((item.when - around).days) <= days]
    return min(near, key=lambda item: (abs((item.when - around).days), item.when), default=None)


class Results:
    """A record's measurements and findings grouped by kind once, each group in record order, so
    that a look-up reads its own kind only (a long record holds thousands of blood counts, and
    the engine looks up a dozen kinds).  The answers are those of ``closest`` on the whole lists:
    keeping one kind, in the record's order, is the first thing it does."""

    def __init__(self, facts: PatientFacts) -> None:
        self.measurements: dict[str, list[Measurement]] = {}
        self.findings: dict[str, list[Finding]] = {}
        for m in facts.measurements:
            self.measurements.setdefault(m.kind, []).append(m)
        for f in facts.findings:
            self.findings.setdefault(f.kind, []).append(f)

    def measurement(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Measurement | None:
        return closest(self.measurements.get(kind, ()), kind, around, days)

    def finding(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Finding | None:
        return closest(self.findings.get(kind, ()), kind, around, days)
