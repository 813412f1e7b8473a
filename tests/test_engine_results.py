"""The engine's shortcuts read what the plain code reads: facts looked up by kind or agent
(``index.FactIndex``) are those ``closest`` finds in the whole record, ties included, and
``closest`` (one pass over a window of two dates) finds what its definition says; a situation
copied with ``updated`` equals the one ``dataclasses.replace`` builds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_advice_compiled import _base, situations

from service.engine.advice.situation import (
    Situation,
    _cd_status,
    _refractory_to_reinduction,
    updated,
)
from service.engine.case import Case
from service.engine.index import FactIndex
from service.engine.mrd import day_of
from service.engine.site import M3_ABOVE
from service.engine.window import AT_RELAPSE_DAYS, Dated, closest
from service.facts import Finding, Measurement, PatientFacts, Therapy

DAY = date(2020, 1, 15)
AGENTS = ("blinatumomab", "nelarabine", "cytarabine", "car-t-cd19")
KINDS = ("marrow-blasts", "csf-wbc", "cd3-count", "csf-blasts", "cd19")
# few distinct days and values, so that ties (same distance, same day) are common
near = st.integers(-40, 40).map(lambda d: DAY + timedelta(days=d))
ids = st.integers(0, 9).map(lambda i: (f"Observation/{i}",))
records = st.builds(
    PatientFacts,
    measurements=st.lists(st.builds(Measurement, refs=ids, kind=st.sampled_from(KINDS), when=near,
                                    value=st.integers(0, 3).map(float)), max_size=25),
    findings=st.lists(st.builds(Finding, refs=ids, kind=st.sampled_from(KINDS), when=near,
                                positive=st.booleans()), max_size=25),
    therapies=st.lists(st.builds(Therapy, refs=ids, agent=st.sampled_from(AGENTS),
                                 status=st.sampled_from(["given", "current", "planned"]),
                                 intrathecal=st.booleans()), max_size=12))


def closest_by_definition(items: Iterable[Dated], kind: str, around: date,
                          days: int) -> Dated | None:
    """``closest`` as FHIR_INPUT.md says it: of the results of ``kind`` within ``days`` of
    ``around``, the nearest, the earlier on a tie, the first in the record of one day."""
    near = [item for item in items
            if item.kind == kind and abs((item.when - around).days) <= days]
    return min(near, key=lambda item: (abs((item.when - around).days), item.when), default=None)


@settings(max_examples=300, deadline=None)
@given(records, near, st.sampled_from([0, 1, 14, 30]))
def test_facts_by_kind_and_agent_are_those_of_the_whole_record(facts: PatientFacts, around: date,
                                                                days: int) -> None:
    index = FactIndex(facts)
    for kind in (*KINDS, "never-recorded"):
        # ``is``: the same result object, not only an equal one (refs tell them apart)
        assert index.measurement(kind, around, days) is closest(facts.measurements, kind, around, days)
        assert index.finding(kind, around, days) is closest(facts.findings, kind, around, days)
        assert closest(facts.measurements, kind, around, days) is closest_by_definition(
            facts.measurements, kind, around, days)
        assert closest(facts.findings, kind, around, days) is closest_by_definition(
            facts.findings, kind, around, days)
        assert index.measurements.get(kind, []) == [m for m in facts.measurements if m.kind == kind]
    for agent in (*AGENTS, "never-given"):
        assert index.agent(agent) == [t for t in facts.therapies if t.agent == agent]
    assert index.intrathecal == [t for t in facts.therapies if t.intrathecal]


@settings(max_examples=200, deadline=None)
@given(situations, st.sampled_from(["B", "T", None]), st.sampled_from(["early", "late", None]),
       st.frozensets(st.sampled_from(["hsct-cr2", "reinduction-4-drug"])))
def test_an_updated_situation_is_what_replace_builds(s: Situation, phenotype: str | None,
                                                     timing: str | None,
                                                     recommended: frozenset[str]) -> None:
    changes = {"phenotype": phenotype, "cog_timing": timing, "recommended": recommended}
    before = dict(vars(s))
    copy, built = updated(s, **changes), replace(s, **changes)
    assert type(copy) is Situation and copy == built
    assert vars(copy) == vars(built) and list(vars(copy)) == list(vars(built))
    assert vars(s) == before  # the original is left as it was
    with pytest.raises(AttributeError):
        copy.phenotype = "B"  # type: ignore[misc]  # still frozen


def test_updating_a_field_a_situation_does_not_have_is_an_error_as_with_replace() -> None:
    s = _base()
    with pytest.raises(TypeError):
        replace(s, no_such_field=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        updated(s, no_such_field=1)


@pytest.mark.parametrize("around", [date.min, date.min + timedelta(days=3), date.max,
                                    date.max - timedelta(days=20)])
def test_a_window_reaching_past_the_calendar_finds_what_closest_finds(around: date) -> None:
    """A relapse dated in year 1 or 9999 (a typing slip): the window's ends do not exist as dates."""
    whens = [date.min, date.min + timedelta(days=10), date.max, date.max - timedelta(days=5)]
    facts = PatientFacts(measurements=[Measurement(refs=(str(i),), kind="csf-wbc", when=w, value=1.0)
                                       for i, w in enumerate(whens)],
                         findings=[Finding(refs=(str(i),), kind="cd19", when=w, positive=True)
                                   for i, w in enumerate(whens)])
    index = FactIndex(facts)
    for days in (0, 14, 30):
        found = index.measurement("csf-wbc", around, days)
        assert found is closest(facts.measurements, "csf-wbc", around, days)
        assert found is closest_by_definition(facts.measurements, "csf-wbc", around, days)
        assert index.finding("cd19", around, days) is closest(facts.findings, "cd19", around, days)
        assert index.finding("cd19", around, days) is closest_by_definition(facts.findings, "cd19",
                                                                            around, days)


def _case(facts: PatientFacts, day: date, start: date) -> Case:
    """What the two readings below look at in a case (they read nothing else)."""
    return cast(Case, SimpleNamespace(facts=facts, index=FactIndex(facts), day=day, refractory=False,
                                      reinduction_under_way=True, reinduction_start=start))


@settings(max_examples=300, deadline=None)
@given(records, near, near)
def test_m3_after_reinduction_and_cd19_read_as_the_sorted_record_reads(
        facts: PatientFacts, day: date, start: date) -> None:
    """The earliest marrow of day 22–49 (of one day, the first recorded) and the latest CD19/CD22
    result from 14 days before the relapse (of one day, the last recorded), as a stable sort of
    the whole record gives them, without sorting."""
    # marrow results on six days a week apart from the start of reinduction (three of them in
    # the window), CD19/CD22 results on three days around the relapse: results of one day are
    # common, so the ties are read too
    facts = facts.model_copy(update={
        "measurements": [m.model_copy(update={
            "kind": "marrow-blasts", "value": float(i * 10),
            "when": start + timedelta(days=m.when.day % 6 * 7)}) for i, m in enumerate(facts.measurements)],
        "findings": [f.model_copy(update={"when": day + timedelta(days=f.when.day % 3 - 1)})
                     for f in facts.findings]})
    case = _case(facts, day, start)
    in_window = [m for m in sorted(facts.measurements, key=lambda m: m.when)
                 if m.kind == "marrow-blasts" and 22 <= day_of(start, m.when) <= 49]
    assert _refractory_to_reinduction(case) is (bool(in_window) and in_window[0].value > M3_ABOVE)
    for kind in ("cd19", "cd22", "csf-blasts"):
        items = sorted((f for f in facts.findings if f.kind == kind
                        and (f.when - day).days >= -AT_RELAPSE_DAYS), key=lambda f: f.when)
        assert _cd_status(case, kind) is (items[-1].positive if items else None)


@settings(max_examples=200, deadline=None)
@given(situations, st.lists(st.sampled_from(["given", "current", "planned", "other"]), max_size=3),
       st.lists(st.sampled_from(["hsct-cr2", "reinduction-4-drug", "car-t-cd19"]), max_size=3))
def test_what_the_record_has_and_what_is_recommended_read_as_set_intersections(
        s: Situation, statuses: list[str], codes: list[str]) -> None:
    for agent in ("blinatumomab", "inotuzumab", "car-t-cd19", "never-given"):
        found = s.record.get(agent, frozenset())
        assert s.has(agent, *statuses) is bool(found & set(statuses or ("given", "current", "planned")))
    assert s.recommends(*codes) is bool(s.recommended & set(codes))


def test_updating_a_situation_with_its_own_values_gives_it_back_and_any_change_a_copy() -> None:
    s = _base()
    assert updated(s, phenotype=s.phenotype, cog_timing=s.cog_timing) is s
    changed = updated(s, phenotype="T", cog_timing=s.cog_timing)
    assert changed is not s and changed.phenotype == "T" and s.phenotype == "B"
    assert updated(s, recommended=frozenset()) == s  # an equal value is a change all the same
