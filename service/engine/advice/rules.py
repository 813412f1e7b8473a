"""The grammar of the advice tables: named conditions, rules, exclusions, missing-fact requests.

A rule says *when* a code applies (a conjunction of named conditions, each one line that reads
as a sentence) and *why* (its ``because`` sentence and sources).  What the code *says* is declared
once, in ``catalogue.py``; a rule adds its reason and parameters.  Which rules hold is decided by
the conditions alone, so nothing depends on the order rules are written or evaluated in, and
precedence is data: a code's declared exclusions (``catalogue.py``) and situational
``Exclusion`` rows (in the tables).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.engine.advice.situation import Situation


@dataclass(frozen=True)
class Condition:
    """A named yes/no question about the situation (``label`` is what a clinician reads)."""

    label: str
    test: Callable[[Situation], bool]
    negated: bool = False

    def holds(self, s: Situation) -> bool:
        return self.test(s) != self.negated

    def __invert__(self) -> Condition:
        return Condition(self.label, self.test, not self.negated)

    def __str__(self) -> str:
        return f"not {self.label}" if self.negated else self.label


def condition(label: str, test: Callable[[Situation], bool]) -> Condition:
    return Condition(label, test)


@dataclass(frozen=True)
class Value:
    """A parameter read from the situation (e.g. the number of blinatumomab cycles still due)."""

    name: str


class Conditional:
    """A table row that applies when all of its conditions hold."""

    when: tuple[Condition, ...]

    def holds(self, s: Situation) -> bool:
        return all(c.holds(s) for c in self.when)


@dataclass(frozen=True)
class Rule(Conditional):
    code: str
    when: tuple[Condition, ...]
    because: str  # one sentence; may use {names} of the situation's values
    sources: tuple[str, ...]
    rests_on: tuple[str, ...]
    params: Mapping[str, object] = field(default_factory=dict)
    severity: str | None = None  # warnings: critical / warning / info
    refs: tuple[str, ...] = ()  # names of reference groups in the situation


@dataclass(frozen=True)
class Exclusion(Conditional):
    """In this situation these codes are not recommended, whatever rule proposes them."""

    when: tuple[Condition, ...]
    excludes: tuple[str, ...]
    because: str


@dataclass(frozen=True)
class Need(Conditional):
    """A missing fact the advice depends on (OUTPUT.md missing-fact codes)."""

    fact: str
    when: tuple[Condition, ...]
    affects: tuple[str, ...]
    decides: str | None = None


@dataclass(frozen=True)
class Note(Conditional):
    text: str
    when: tuple[Condition, ...]


@dataclass(frozen=True)
class Table:
    """One reviewable table: its source, what the source says, and its rows."""

    name: str
    source: str
    says: str
    rules: tuple[Rule, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    needs: tuple[Need, ...] = ()
    notes: tuple[Note, ...] = ()


def template_names(text: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
