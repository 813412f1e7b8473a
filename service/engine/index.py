"""One patient's facts grouped once per assessment, so that each question reads only the facts
it is about (a long record holds thousands of blood counts and hundreds of medications, and the
engine asks about a dozen kinds of result and a few agents).

Each group keeps the record's order, so anything that scans a group gives what scanning the
whole list for those facts gives, ties included (tests/test_engine_results.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from service.engine.window import AT_RELAPSE_DAYS, Dated, closest
from service.facts import Finding, Measurement, PatientFacts, Therapy


class FactIndex:
    def __init__(self, facts: PatientFacts) -> None:
        self.measurements: dict[str, list[Measurement]] = {}
        self.findings: dict[str, list[Finding]] = {}
        self.therapies: dict[str, list[Therapy]] = {}  # by agent
        for m in facts.measurements:
            if (same := self.measurements.get(m.kind)) is None:
                self.measurements[m.kind] = [m]
            else:
                same.append(m)
        for f in facts.findings:
            if (found := self.findings.get(f.kind)) is None:
                self.findings[f.kind] = [f]
            else:
                found.append(f)
        for t in facts.therapies:
            if (given := self.therapies.get(t.agent)) is None:
                self.therapies[t.agent] = [t]
            else:
                given.append(t)
        self.intrathecal = [t for t in facts.therapies if t.intrathecal]

    def measurement(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Measurement | None:
        """``closest(facts.measurements, kind, around, days)``."""
        return _closest(self.measurements.get(kind, ()), kind, around, days)

    def finding(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Finding | None:
        """``closest(facts.findings, kind, around, days)``."""
        return _closest(self.findings.get(kind, ()), kind, around, days)

    def agent(self, agent: str) -> list[Therapy]:
        """The therapies with this agent, in record order."""
        return self.therapies.get(agent, [])


def _closest(items: Sequence[Dated], kind: str, around: date, days: int) -> Dated | None:
    """``closest`` on results all of ``kind``, in one pass: the window is two dates to compare
    with (|when − around| ≤ days, in whole days, is low ≤ when ≤ high), and of equal distances
    and dates the first in the record is kept, as ``min`` keeps it."""
    try:
        low, high = around - timedelta(days=days), around + timedelta(days=days)
    except OverflowError:  # a window reaching past year 1 or 9999
        return closest(items, kind, around, days)
    best, best_key = None, None
    for item in items:
        when = item.when
        if low <= when <= high:
            key = (abs((when - around).days), when)
            if best_key is None or key < best_key:
                best, best_key = item, key
    return best
