"""One patient's facts grouped once per assessment, so that each question reads only the facts
it is about (a long record holds thousands of blood counts and hundreds of medications, and the
engine asks about a dozen kinds of result and a few agents).

Each group keeps the record's order, so anything that scans a group gives what scanning the
whole list for those facts gives, ties included (tests/test_engine_results.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

from service.engine.window import AT_RELAPSE_DAYS, closest
from service.facts import Finding, Measurement, PatientFacts, Therapy


class FactIndex:
    def __init__(self, facts: PatientFacts) -> None:
        self.measurements = _grouped(facts.measurements, lambda m: m.kind)
        self.findings = _grouped(facts.findings, lambda f: f.kind)
        self.therapies = _grouped(facts.therapies, lambda t: t.agent)  # by agent
        self.intrathecal = [t for t in facts.therapies if t.intrathecal]

    def measurement(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Measurement | None:
        """``closest(facts.measurements, kind, around, days)``."""
        return closest(self.measurements.get(kind, ()), kind, around, days)

    def finding(self, kind: str, around: date, days: int = AT_RELAPSE_DAYS) -> Finding | None:
        """``closest(facts.findings, kind, around, days)``."""
        return closest(self.findings.get(kind, ()), kind, around, days)

    def agent(self, agent: str) -> list[Therapy]:
        """The therapies with this agent, in record order."""
        return self.therapies.get(agent, [])


Fact = TypeVar("Fact")


def _grouped(facts: Iterable[Fact], key: Callable[[Fact], str]) -> dict[str, list[Fact]]:
    """The facts by ``key``, each group in record order."""
    groups: dict[str, list[Fact]] = {}
    for fact in facts:
        name = key(fact)
        if (group := groups.get(name)) is None:
            groups[name] = [fact]
        else:
            group.append(fact)
    return groups
