"""The compiled evaluation of the advice tables (``rules.Compiled``, ``evaluate``'s plans) gives
what asking every row plainly gives — on every shipped table, for situations drawn across every
value the conditions read, and before and after the recommendations of a stage are known.

A mistake in the compiled masks (a negated condition read as plain, two conditions sharing a
bit, a row dropped or reordered, a plan reused for other tables) would change advice silently:
these tests compare it with the plain reading of the same rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from dataclasses import replace
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine import advice
from service.engine.advice import ALL_TABLES, FOLLOW_ON, TREATMENT
from service.engine.advice.catalogue import CATALOGUE
from service.engine.advice.conditions import ADVERSE, B_LINEAGE, CHILD, T_LINEAGE
from service.engine.advice.evaluate import ORDER, Outcome, _add, evaluate
from service.engine.advice.rules import Compiled, Condition, Conditional, Note, Rule, Table
from service.engine.advice.situation import Situation, Values
from service.engine.site import BM, COMB, IEM

STAGES = [(TREATMENT, "recommendation"), (FOLLOW_ON, "recommendation"), (ALL_TABLES, "warning")]
AGENTS = ("blinatumomab", "inotuzumab", "nelarabine", "car-t-cd19", "car-t-cd22")
STATUSES = ("given", "current", "planned")
GENETICS = (*ADVERSE, "ABL-class", "JAK2-fusion", "ETV6-RUNX1", "TP53", "TCF3-HLF")

maybe_bool = st.none() | st.booleans()
situations = st.builds(
    Situation,
    population=st.sampled_from(["pediatric", "aya", "adult", "indeterminate"]),
    number=st.integers(0, 3),
    primary_refractory=st.booleans(),
    phenotype=st.sampled_from(["B", "T", None]),
    cog_timing=st.sampled_from(["early", "late", None]),
    categories=st.frozensets(st.sampled_from([BM, COMB, IEM])),
    site_unconfirmed=st.booleans(),
    site_actions=st.lists(st.sampled_from(["repeat-marrow", "repeat-lumbar-puncture"]),
                          unique=True).map(tuple),
    extramedullary=st.lists(st.sampled_from(["cns", "testis", "other"]), unique=True).map(tuple),
    cns_unknown=st.booleans(),
    reinduction_under_way=st.booleans(),
    refractory_to_reinduction=st.booleans(),
    end_block_1_vs_cog_cutoff=st.sampled_from(["below", "at-or-above", None]),
    end_block_1_positive=maybe_bool,
    mrd_after_reinduction_positive=maybe_bool,
    latest_mrd_positive=maybe_bool,
    blinatumomab_cycles_given=st.integers(0, 3),
    cd19=maybe_bool, cd22=maybe_bool,
    after_hsct=st.booleans(),
    months_after_hsct=st.none() | st.integers(0, 30),
    after_car_t=st.booleans(),
    car_t_for_this_relapse=st.booleans(),
    car_t_failing=st.booleans(),
    hsct_planned=st.booleans(),
    pre_hsct_mrd_positive=st.booleans(),
    genetics=st.frozensets(st.sampled_from(GENETICS)),
    genetics_tested=st.booleans(),
    ph_positive=st.booleans(),
    months_from_diagnosis_above_12=maybe_bool,
    cd3_above_threshold=st.booleans(),
    record=st.dictionaries(st.sampled_from(AGENTS), st.frozensets(st.sampled_from(STATUSES),
                                                                  min_size=1)),
    nelarabine_intrathecal_concomitant=st.booleans(),
    intrathecal_in_record=st.booleans(),
    prior_cranial_over_limit=st.booleans(),
    cns_radiation_planned=st.booleans(),
    outside_trials=st.booleans(),
    values=st.just(Values(months_after_hsct=5, blinatumomab_cycles_due=1)),
    refs=st.just({}),
    recommended=st.frozensets(st.sampled_from(sorted(CATALOGUE))),
)


def _plainly(rows: Iterable[Conditional], s: Situation) -> list[Conditional]:
    return [row for row in rows if row.holds(s)]


def _evaluate_plainly(tables: Iterable[Table], s: Situation, kind: str,
                      exclusion_tables: Iterable[Table]) -> Outcome:
    """``evaluate`` as it was written before the tables were compiled: every row asked."""
    outcome = Outcome()
    held = [r for t in tables for r in t.rules if CATALOGUE[r.code].kind == kind and r.holds(s)]
    for table in exclusion_tables:
        for exclusion in table.exclusions:
            if exclusion.holds(s):
                for code in exclusion.excludes:
                    outcome.excluded.setdefault(code, exclusion.because)
    proposed = {r.code for r in held}
    for code in ORDER:
        if code not in proposed or code in outcome.excluded:
            continue
        for excluded in CATALOGUE[code].excludes:
            outcome.excluded.setdefault(excluded, f"{code} is recommended")
    for rule in held:
        if rule.code not in outcome.excluded:
            _add(outcome, rule, s)
    for code in outcome.conflicts:
        outcome.items.pop(code, None)
    return outcome


def _same(a: Outcome, b: Outcome) -> None:
    assert list(a.items) == list(b.items)
    assert a.items == b.items
    assert list(a.excluded.items()) == list(b.excluded.items())
    assert a.conflicts == b.conflicts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations)
def test_compiled_rows_hold_exactly_where_each_row_holds(s: Situation) -> None:
    for table in ALL_TABLES:
        for rows in (table.rules, table.exclusions, table.needs, table.notes):
            assert list(Compiled(rows).holding(s)) == _plainly(rows, s)
    every = [row for t in ALL_TABLES for row in (*t.rules, *t.exclusions, *t.needs, *t.notes)]
    compiled = Compiled(every)
    assert list(compiled.holding(s)) == _plainly(every, s)
    assert list(compiled.holding(s)) == _plainly(every, s)  # asked again: the rows kept


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations)
def test_each_stage_gives_what_asking_every_rule_gives(s: Situation) -> None:
    for tables, kind in STAGES:
        _same(evaluate(tables, s, kind, ALL_TABLES), _evaluate_plainly(tables, s, kind, ALL_TABLES))
    for table in ALL_TABLES:  # each table alone, with its own exclusions and with none
        for kind in ("recommendation", "warning"):
            _same(evaluate([table], s, kind, [table]), _evaluate_plainly([table], s, kind, [table]))
            _same(evaluate([table], s, kind, []), _evaluate_plainly([table], s, kind, []))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations)
def test_needs_and_notes_are_those_of_every_table_in_order(s: Situation) -> None:
    needs = [n for t in ALL_TABLES for n in t.needs]
    notes = [n for t in ALL_TABLES for n in t.notes]
    assert list(advice._NEEDS_AND_NOTES.holding(s)) == _plainly([*needs, *notes], s)


def _replace(s: Situation, changes: Mapping[str, object]) -> Situation:
    return replace(s, **changes)


@pytest.mark.parametrize("phenotype", ["B", "T", None])
def test_a_negated_condition_and_its_plain_form_never_share_an_answer(phenotype: str | None) -> None:
    rows = [Table("t", "000", "x", notes=(Note("b", (B_LINEAGE,)),
                                           Note("not b", (~B_LINEAGE,)),
                                           Note("b and not t", (B_LINEAGE, ~T_LINEAGE)),
                                           Note("b and not b", (B_LINEAGE, ~B_LINEAGE))))]
    s = _replace(_base(), {"phenotype": phenotype})
    held = [n.text for n in Compiled(rows[0].notes).holding(s)]
    assert held == {"B": ["b", "b and not t"], "T": ["not b"], None: ["not b"]}[phenotype]


def test_a_test_answering_neither_true_nor_false_is_read_as_holds_reads_it() -> None:
    """``holds`` compares the answer with ``negated``: None differs from both True and False, so
    a condition and its negation would both hold; the compiled reading must say the same."""
    odd = Condition("odd", lambda s: None)  # type: ignore[arg-type,return-value]
    zero = Condition("zero", lambda s: 0)  # type: ignore[arg-type,return-value]
    rows = [Note(str(i), when) for i, when in
            enumerate([(odd,), (~odd,), (zero,), (~zero,), (odd, ~zero)])]
    s = _base()
    assert list(Compiled(rows).holding(s)) == _plainly(rows, s)


def test_tables_made_and_dropped_one_after_another_are_each_evaluated_as_they_are() -> None:
    """Plans are filed under the tables' identity: a new table never gets an old one's plan."""
    s = _replace(_base(), {"phenotype": "B", "population": "pediatric"})
    for i in range(200):
        condition = CHILD if i % 2 else ~CHILD
        table = Table("t", "000", "x", rules=(Rule("goals-of-care", (condition,), "why.", ("000",),
                                                   ()),))
        got = evaluate([table], s, "recommendation", [])
        assert list(got.items) == (["goals-of-care"] if i % 2 else [])


def _base() -> Situation:
    return Situation(
        population="pediatric", number=1, primary_refractory=False, phenotype="B",
        cog_timing="late", categories=frozenset({BM}), site_unconfirmed=False, site_actions=(),
        extramedullary=(), cns_unknown=False, reinduction_under_way=False,
        refractory_to_reinduction=False, end_block_1_vs_cog_cutoff=None, end_block_1_positive=None,
        mrd_after_reinduction_positive=None, latest_mrd_positive=None, blinatumomab_cycles_given=0,
        cd19=True, cd22=None, after_hsct=False, months_after_hsct=None, after_car_t=False,
        car_t_for_this_relapse=False, car_t_failing=False, hsct_planned=False,
        pre_hsct_mrd_positive=False, genetics=frozenset(), genetics_tested=False,
        ph_positive=False, months_from_diagnosis_above_12=True, cd3_above_threshold=False,
        record={}, nelarabine_intrathecal_concomitant=False, intrathecal_in_record=False,
        prior_cranial_over_limit=False, cns_radiation_planned=False, outside_trials=False)


def test_rows_kept_for_answers_seen_are_forgotten_past_the_limit_and_found_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advice.rules, "MOST_KEPT", 2)
    rows = [Note(p, (CHILD, c)) for p, c in (("b", B_LINEAGE), ("t", T_LINEAGE))]
    compiled = Compiled(rows)
    for _ in range(3):
        for phenotype, population in product(["B", "T", None], ["pediatric", "adult"]):
            s = _replace(_base(), {"phenotype": phenotype, "population": population})
            assert list(compiled.holding(s)) == _plainly(rows, s)
            assert len(compiled._held) <= 2


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations, st.lists(st.sampled_from(["000", "001", "002", "004"]), max_size=4),
       st.lists(st.sampled_from(["Condition/a", "Observation/b"]), max_size=4),
       st.lists(st.sampled_from(["b-x", "a-y", "c-z"]), max_size=3))
def test_one_variant_merges_as_two_identical_variants_do(s: Situation, sources: list[str],
                                                         refs: list[str], conflicts: list[str]) -> None:
    """``_merge`` of a single variant takes a short way; two identical variants take the long
    one, which must give the same items (lists deduplicated, conflicts sorted, severities)."""
    for outcome in advice._run(s):
        outcome.conflicts += conflicts
        for item in outcome.items.values():  # lists with repeats, as a rule may give them
            item.sources += sources
            item.refs += refs
            item.reasons += item.reasons[:1]
        one, depends_one = advice._merge([outcome], [""])
        two, depends_two = advice._merge([outcome, deepcopy(outcome)], ["a", "b"])
        assert (one, depends_one) == (two, depends_two) and list(one.items) == list(two.items)
