"""Evaluating the advice tables: which rules hold, what exclusions remove, one item per code.

Every rule whose conditions hold is a candidate.  Exclusions are applied as data: situational
``Exclusion`` rows first, then each surviving code's declared exclusions (``catalogue.py``) in
the order of the exclusion graph, which the load check proves has no cycle.  Several rules for one
code make one item: the code's text once, with every rule's reason; parameters must agree, and
a code whose rules ask for different parameters is withheld (``Outcome.conflicts``), never sent
with one of them chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from service.engine.advice.catalogue import CATALOGUE, Entry
from service.engine.advice.rules import Compiled, Exclusion, Rule, Table, Value, template_names
from service.engine.advice.situation import Situation
from service.vocabulary import Severity


@dataclass
class Item:
    """One code's advice: its parameters and the reasons of every rule that gave it."""

    code: str
    params: dict[str, object]
    reasons: list[str]
    sources: list[str]
    rests_on: list[str]
    refs: list[str]
    severity: str | None

    @property
    def text(self) -> str:
        return " ".join([CATALOGUE[self.code].text.format(**self.params), *self.reasons])


@dataclass
class Outcome:
    items: dict[str, Item] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # code → why
    conflicts: list[str] = field(default_factory=list)  # codes whose rules disagree on parameters


def exclusion_order(catalogue: Mapping[str, Entry]) -> list[str]:
    """Codes in an order where each code's exclusions are settled before it is read; a cycle of
    exclusions (A excludes B excludes A) raises ``graphlib.CycleError`` at start-up."""
    graph: dict[str, set[str]] = {e.code: set() for e in catalogue.values()}
    for entry in catalogue.values():
        for excluded in entry.excludes:
            graph.setdefault(excluded, set()).add(entry.code)
    return list(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle


ORDER = exclusion_order(CATALOGUE)
RANK = {code: i for i, code in enumerate(ORDER)}


def evaluate(tables: Iterable[Table], s: Situation, kind: str,
             exclusion_tables: Iterable[Table]) -> Outcome:
    """The items of ``kind`` the rules of ``tables`` give, after the exclusions of
    ``exclusion_tables`` and of the catalogue."""
    outcome = Outcome()
    held: list[Rule] = []
    for row in _plan(tables, kind, exclusion_tables).rows.holding(s):
        if isinstance(row, Rule):
            held.append(row)
        else:  # the plan's rows are its rules, then its exclusions
            for code in row.excludes:
                outcome.excluded.setdefault(code, row.because)
    proposed = {r.code for r in held}
    # the proposed codes in ORDER (the others would be passed over)
    for code in sorted(proposed & RANK.keys(), key=RANK.__getitem__):
        if code in outcome.excluded:
            continue
        for excluded in CATALOGUE[code].excludes:
            outcome.excluded.setdefault(excluded, f"{code} is recommended")
    for rule in held:
        if rule.code in outcome.excluded:
            continue
        _add(outcome, rule, s)
    for code in outcome.conflicts:
        outcome.items.pop(code, None)
    return outcome


@dataclass(frozen=True)
class _Plan:
    """The rules of one kind in some tables, then the exclusions of others, compiled once.  It
    holds the tables themselves, so that the ids it is filed under stay theirs while it is kept."""

    tables: tuple[Table, ...]
    exclusion_tables: tuple[Table, ...]
    rows: Compiled[Rule | Exclusion]


_PLANS: dict[tuple[object, str, object], _Plan] = {}
_MOST_PLANS = 64  # the shipped stages need 3; tables built elsewhere (tests) come and go


def _plan(tables: Iterable[Table], kind: str, exclusion_tables: Iterable[Table]) -> _Plan:
    """The compiled plan of these tables (tables are frozen: compiling them again would give the
    same plan).  A tuple of tables is filed under its own id (it cannot change), any other
    collection under the ids of the tables in it."""
    if type(tables) is tuple and type(exclusion_tables) is tuple:
        key: tuple[object, str, object] = (id(tables), kind, id(exclusion_tables))
    else:
        tables, exclusion_tables = tuple(tables), tuple(exclusion_tables)
        key = (tuple(map(id, tables)), kind, tuple(map(id, exclusion_tables)))
    plan = _PLANS.get(key)
    if plan is None:
        tables, exclusion_tables = tuple(tables), tuple(exclusion_tables)  # (a tuple stays itself)
        rules = (r for t in tables for r in t.rules if CATALOGUE[r.code].kind == kind)
        exclusions = (e for t in exclusion_tables for e in t.exclusions)
        if len(_PLANS) >= _MOST_PLANS:
            _PLANS.clear()
        plan = _PLANS[key] = _Plan(tables, exclusion_tables, Compiled([*rules, *exclusions]))
    return plan


def resolve(params: Mapping[str, object], s: Situation) -> dict[str, object]:
    return {k: s.values[v.name] if isinstance(v, Value) else v for k, v in params.items()}


def _add(outcome: Outcome, rule: Rule, s: Situation) -> None:
    params = {**CATALOGUE[rule.code].params, **resolve(rule.params, s)}
    reason = rule.because.format_map(s.values)
    refs = [r for name in rule.refs for r in s.refs.get(name, ())]
    item = outcome.items.get(rule.code)
    if item is None:
        outcome.items[rule.code] = Item(rule.code, params, [reason], list(rule.sources),
                                        list(rule.rests_on), refs, rule.severity)
        return
    if any(item.params.get(k, v) != v for k, v in params.items()):
        if rule.code not in outcome.conflicts:
            outcome.conflicts.append(rule.code)
        return
    item.params.update(params)
    _extend(item.reasons, [reason])
    _extend(item.sources, rule.sources)
    _extend(item.rests_on, rule.rests_on)
    _extend(item.refs, refs)
    # the higher severity wins (``>=`` would only re-assign an equal one)
    if rule.severity and (item.severity is None
                          or Severity(rule.severity).rank > Severity(item.severity).rank):
        item.severity = rule.severity


def _extend(target: list[str], more: Iterable[str]) -> None:
    target.extend(m for m in more if m not in target)


def check_tables(tables: Iterable[Table], values: Iterable[str], refs: Iterable[str]) -> list[str]:
    """What is wrong with the tables, said with the rule it is in (empty when all is well).
    Run at import: a wrong table stops the service from starting."""
    known_values, known_refs = set(values), set(refs)
    problems = []
    for table in tables:
        for rule in table.rules:
            entry = CATALOGUE.get(rule.code)
            where = f"{table.name}: {rule.code} when {', '.join(map(str, rule.when))}"
            if entry is None:
                problems.append(f"{where}: no such code in the catalogue")
                continue
            if (entry.kind == "warning") != (rule.severity is not None):
                problems.append(f"{where}: a warning needs a severity, a recommendation none")
            params = {**entry.params, **rule.params}
            missing = template_names(entry.text) - set(params)
            if missing:
                problems.append(f"{where}: the text needs parameters {sorted(missing)}")
            unknown = (template_names(rule.because) | {v.name for v in rule.params.values()
                                                       if isinstance(v, Value)}) - known_values
            if unknown:
                problems.append(f"{where}: unknown values {sorted(unknown)}")
            if set(r.split(":")[0] for r in rule.refs) - known_refs:
                problems.append(f"{where}: unknown reference groups {list(rule.refs)}")
        for exclusion in table.exclusions:
            problems += [f"{table.name}: excludes unknown code {c}" for c in exclusion.excludes
                         if c not in CATALOGUE]
    return problems
