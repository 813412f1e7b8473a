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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

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


Row = TypeVar("Row", bound=Conditional)


class Compiled(Generic[Row]):
    """Rows whose conditions are checked together: each distinct test once per situation, then
    each row by two bit masks (the tests that must hold, and those that must not).

    The same answer as ``[row for row in rows if row.holds(s)]``, in the same order: a row holds
    when each of its conditions does, ``test(s) != negated``, which is what the masks say (a test
    answering something other than True or False is compared exactly as ``holds`` compares it).
    Tests are pure questions about the situation, so asking every one (rather than stopping at a
    row's first false condition) changes no answer; it is the rows that are many, not the tests.
    Which rows hold depends on the answers alone, so it is kept for the answers seen (patients
    are alike: a few hundred patterns cover a cohort); rows are frozen, so kept answers stay true.
    (Answers equal as keys read alike: ``1 == True``, and both differ from False.)
    """

    def __init__(self, rows: Iterable[Row]) -> None:
        bits: dict[Callable[[Situation], bool], int] = {}
        masks = []
        for row in rows:
            must, must_not = 0, 0
            for c in row.when:
                bit = bits.setdefault(c.test, 1 << len(bits))
                if c.negated:
                    must_not |= bit
                else:
                    must |= bit
            masks.append((row, must, must_not))
        self.rows = tuple(row for row, _, _ in masks)
        self._masks = tuple(masks)
        self._tests = tuple(bits)
        self._held: dict[tuple[object, ...], tuple[Row, ...]] = {}

    def holding(self, s: Situation) -> tuple[Row, ...]:
        """The rows whose conditions all hold in ``s``, in their order."""
        answers = tuple([test(s) for test in self._tests])
        try:
            held = self._held.get(answers)
        except TypeError:  # an answer that cannot be a key (a test should answer True or False)
            return self._select(answers)
        if held is None:
            held = self._select(answers)
            if len(self._held) >= MOST_KEPT:
                self._held.clear()
            self._held[answers] = held
        return held

    def _select(self, answers: tuple[object, ...]) -> tuple[Row, ...]:
        true = false = 0  # tests for which an unnegated / a negated condition holds
        for i, answer in enumerate(answers):
            bit = 1 << i
            if answer != False:  # noqa: E712  (``holds``: test(s) != negated)
                true |= bit
            if answer != True:  # noqa: E712
                false |= bit
        return tuple(row for row, must, must_not in self._masks
                     if true & must == must and false & must_not == must_not)


MOST_KEPT = 1024  # answer patterns kept per set of rows (a few hundred bytes each)


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
