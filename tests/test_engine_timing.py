"""Timing of a relapse (CLINICAL_RULES §1.1, §1.2): whole calendar months, the COG and BFM-family
cut-offs on both sides, partial dates, the end of frontline therapy (FHIR_INPUT.md), relapse
episodes and prior HSCT / CAR-T."""

from __future__ import annotations

from datetime import date, timedelta

import builders as b
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scenarios import DIAGNOSIS, iso

from service.engine.dates import exact, month_range, months_between, years_range
from service.engine.site import BM, COMB, IEM
from service.engine.therapy import agents, car_t_before, done_before, frontline
from service.engine.timing import EARLY, LATE, VERY_EARLY, bfm_timing, cog_timing, family
from service.facts import FuzzyDate, PatientFacts, ProcedureFact, Therapy
from service.pipeline import assess_bundle

ON = date(2020, 6, 1)


def fuzzy(text: str) -> FuzzyDate:
    if len(text) == 4:
        return FuzzyDate(earliest=date(int(text), 1, 1), latest=date(int(text), 12, 31), text=text)
    if len(text) == 7:
        y, m = map(int, text.split("-"))
        nxt = date(y + m // 12, m % 12 + 1, 1)
        return FuzzyDate(earliest=date(y, m, 1), latest=nxt - timedelta(days=1), text=text)
    return FuzzyDate(earliest=date.fromisoformat(text), latest=date.fromisoformat(text), text=text)


# --- §1.1 whole calendar months ----------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "months"), [
    ("2020-01-15", "2021-07-14", 17), ("2020-01-15", "2021-07-15", 18),
    ("2021-01-31", "2021-02-28", 0), ("2021-01-31", "2021-03-31", 2),
    ("2020-01-15", "2020-01-15", 0), ("2020-01-15", "2020-02-14", 0),
    ("2020-01-15", "2020-02-15", 1), ("2019-12-31", "2020-01-01", 0),
    ("2021-07-14", "2020-01-15", -17),
])
def test_months_between(start: str, end: str, months: int) -> None:
    assert months_between(date.fromisoformat(start), date.fromisoformat(end)) == months


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


@given(dates, dates, dates)
def test_months_never_decrease_as_the_later_date_moves_on(a: date, x: date, y: date) -> None:
    low, high = sorted((x, y))
    assert months_between(a, low) <= months_between(a, high)
    assert months_between(a, x) == -months_between(x, a)


@given(dates, st.integers(min_value=0, max_value=400))
def test_same_day_of_month_n_months_later_is_n(a: date, n: int) -> None:
    if a.day > 28:
        a = a.replace(day=28)
    year, month = divmod(a.month - 1 + n, 12)
    later = date(a.year + year, month + 1, a.day)
    assert months_between(a, later) == n
    assert months_between(a, later - timedelta(days=1)) == n - 1 if n else True


def test_month_range_of_partial_dates() -> None:
    assert month_range(fuzzy("2015-01-10"), fuzzy("2016-07")) == (17, 18)
    assert month_range(fuzzy("2015"), fuzzy("2016-07-10")) == (6, 18)
    assert month_range(fuzzy("2015-01-10"), fuzzy("2016-07-10")) == (18, 18)
    assert exact((18, 18)) == 18 and exact((17, 18)) is None and exact(None) is None
    assert years_range(fuzzy("2000-06-15"), fuzzy("2018")) == (17, 18)
    assert years_range(fuzzy("2000-06-15"), fuzzy("2018-06-15")) == (18, 18)
    assert years_range(fuzzy("2000-06-15"), fuzzy("2018-06-14")) == (17, 17)


# --- §1.2 COG timing: marrow 36 months, isolated extramedullary 18 months -----------------------

@pytest.mark.parametrize(("months", "category", "timing"), [
    ((35, 35), BM, {EARLY}), ((36, 36), BM, {LATE}), ((35, 36), BM, {EARLY, LATE}),
    ((35, 35), COMB, {EARLY}), ((36, 36), COMB, {LATE}),
    ((17, 17), IEM, {EARLY}), ((18, 18), IEM, {LATE}), ((17, 18), IEM, {EARLY, LATE}),
    ((30, 30), IEM, {LATE}), ((30, 30), BM, {EARLY}),
    (None, BM, {EARLY, LATE}), (None, IEM, {EARLY, LATE}),
])
def test_cog_timing(months: tuple[int, int] | None, category: str, timing: set[str]) -> None:
    assert cog_timing(months, category) == timing


# --- §1.2 BFM-family timing ----------------------------------------------------------------------

def _frontline(on_therapy: bool | None, end: date | None = None) -> object:
    from service.engine.therapy import Frontline
    return Frontline(on_therapy, end, (), "test")


@pytest.mark.parametrize(("months", "after_end", "on_therapy", "options", "provisional", "needs"), [
    ((17, 17), None, True, {VERY_EARLY}, None, False),
    ((17, 17), None, None, {VERY_EARLY}, None, False),   # very early needs no end date
    ((18, 18), None, True, {EARLY}, None, False),        # on therapy at ≥ 18 months: early
    ((18, 18), (5, 5), False, {EARLY}, None, False),
    ((18, 18), (6, 6), False, {LATE}, None, False),      # exactly 6 months after the end: late
    ((40, 40), (5, 6), False, {EARLY, LATE}, None, False),
    ((17, 18), None, True, {VERY_EARLY, EARLY}, None, False),
    ((29, 29), None, None, {EARLY, LATE}, EARLY, True),  # end unknown: 24 months assumed
    ((30, 30), None, None, {EARLY, LATE}, LATE, True),
    ((29, 30), None, None, {EARLY, LATE}, None, True),
    ((17, 30), None, None, {VERY_EARLY, EARLY, LATE}, None, True),
    (None, None, True, {VERY_EARLY, EARLY, LATE}, None, False),
])
def test_bfm_timing(months, after_end, on_therapy, options, provisional, needs) -> None:
    result = bfm_timing(months, after_end, _frontline(on_therapy))  # type: ignore[arg-type]
    assert result.options == options
    assert result.provisional == provisional
    assert result.needs_frontline_end is needs


def test_family() -> None:
    assert family(VERY_EARLY) == family(EARLY) == EARLY
    assert family(LATE) == LATE


# --- end of frontline therapy (FHIR_INPUT.md) through the pipeline ------------------------------

RELAPSE = DIAGNOSIS.replace(year=DIAGNOSIS.year + 3) + timedelta(days=200)  # ≈ 42 months


def _relapse_with(*meds: dict) -> dict:
    day = RELAPSE.isoformat()
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                      b.relapse(day), b.marrow(day, 60), *b.csf(day, 1, 0, False), *meds)
    return assess_bundle(bundle, as_of=RELAPSE + timedelta(days=5))


def test_medication_ending_on_the_relapse_day_is_relapse_on_therapy() -> None:
    result = _relapse_with(b.medication("103", iso(6), RELAPSE.isoformat()))
    assert result["relapse"]["relapse_on_therapy"] is True
    assert result["relapse"]["timing"]["bfm"] == "early"


def test_medication_ending_the_day_before_is_off_therapy() -> None:
    end = RELAPSE - timedelta(days=1)
    result = _relapse_with(b.medication("103", iso(6), end.isoformat()))
    assert result["relapse"]["relapse_on_therapy"] is False
    assert result["relapse"]["months_after_frontline_end"] == 0
    assert result["relapse"]["timing"]["bfm"] == "early"
    assert result["relapse"]["timing"]["cog"] == "late"  # 42 months, marrow
    assert "timing-discordance" in {w["code"] for w in result["warnings"]}


def test_latest_end_date_counts() -> None:
    early_end = (RELAPSE - timedelta(days=400)).isoformat()
    late_end = (RELAPSE - timedelta(days=100)).isoformat()
    result = _relapse_with(b.medication("103", iso(6), late_end),
                           b.medication("6851", iso(6), early_end))
    assert result["relapse"]["months_after_frontline_end"] == 3
    assert result["relapse"]["timing"]["bfm"] == "early"


def test_no_frontline_medication_leaves_the_end_unknown() -> None:
    result = _relapse_with()
    assert "relapse_on_therapy" not in result["relapse"]
    assert result["relapse"]["timing"]["bfm"] == "indeterminate"
    assert result["relapse"]["timing"]["bfm_provisional"] == "late"  # ≥ 30 months
    assert "frontline-end-date" in {m["fact"] for m in result["missing"]}


def test_medication_starting_on_the_relapse_day_is_not_frontline() -> None:
    result = _relapse_with(b.medication("3264", RELAPSE.isoformat(), status="active"))
    assert result["relapse"]["timing"]["bfm"] == "indeterminate"


def _therapy(agent: str = "mercaptopurine", status: str = "given", start: date | None = ON,
             end: date | None = None, antileukemic: bool = True) -> Therapy:
    return Therapy(agent=agent, status=status, start=start, end=end,  # type: ignore[arg-type]
                   antileukemic=antileukemic, refs=(f"MedicationStatement/{agent}",))


def test_frontline_direct() -> None:
    relapse = ON + timedelta(days=300)
    ended = _therapy(end=relapse - timedelta(days=1))
    facts = PatientFacts(therapies=[ended])
    assert frontline(facts, relapse).on_therapy is False
    assert frontline(facts, relapse).end == relapse - timedelta(days=1)
    assert frontline(PatientFacts(therapies=[_therapy(end=relapse)]), relapse).on_therapy is True
    # current without an end date: on therapy; given without an end date: unknown
    current = frontline(PatientFacts(therapies=[ended, _therapy("methotrexate", "current")]), relapse)
    assert current.on_therapy is True and current.refs == ("MedicationStatement/methotrexate",)
    no_end = frontline(PatientFacts(therapies=[ended, _therapy("methotrexate")]), relapse)
    assert (no_end.on_therapy, no_end.end) == (None, None)
    assert len(no_end.refs) == 2
    # planned, undated, non-antileukaemic, CAR-T and later therapies are not frontline
    ignored = [_therapy(status="planned"), _therapy(start=None), _therapy(antileukemic=False),
               _therapy("car-t-cd19"), _therapy("car-t-cd22"), _therapy(start=relapse)]
    for t in ignored:
        found = frontline(PatientFacts(therapies=[ended, t]), relapse)
        assert (found.on_therapy, found.end) == (False, ended.end), t
        alone = frontline(PatientFacts(therapies=[t]), relapse)
        assert (alone.on_therapy, alone.end, alone.refs) == (None, None, ()), t


def test_prior_hsct_and_car_t() -> None:
    day = ON

    def proc(kind: str, when: date | None, status: str = "done") -> ProcedureFact:
        return ProcedureFact(kind=kind, status=status, when=when, refs=(f"Procedure/{kind}{when}",))

    earlier, later = day - timedelta(days=200), day - timedelta(days=20)
    facts = PatientFacts(procedures=[
        proc("hsct-allogeneic", later), proc("hsct-allogeneic", earlier),
        proc("hsct-allogeneic", day), proc("hsct-allogeneic", earlier, "planned"),
        proc("hsct-autologous", day - timedelta(days=100)), proc("hsct-allogeneic", None),
        proc("car-t-infusion", later)],
        therapies=[_therapy("car-t-cd19", start=earlier), _therapy("car-t-cd22", start=day),
                   _therapy("car-t-cd22", status="planned", start=day - timedelta(days=50)),
                   _therapy("car-t-cd19", start=None)])
    assert [p.when for p in done_before(facts, "hsct-allogeneic", day)] == [earlier, later]
    assert [w for w, _ in car_t_before(facts, day)] == [earlier, later]


def test_agents_by_status() -> None:
    facts = PatientFacts(therapies=[_therapy("blinatumomab", "planned"),
                                    _therapy("nelarabine", "given"),
                                    _therapy("nelarabine", "current")])
    assert set(agents(facts, "planned")) == {"blinatumomab"}
    assert len(agents(facts, "given", "current")["nelarabine"]) == 2
    assert agents(facts, "current") == {"nelarabine": [facts.therapies[2]]}


def test_relapse_after_hsct_through_the_pipeline() -> None:
    hsct_day = RELAPSE - timedelta(days=250)
    result = _relapse_with(b.medication("103", iso(6), iso(26)),
                           b.procedure("234336002", hsct_day.isoformat()))
    assert result["relapse"]["after_hsct"] is True
    assert result["relapse"]["months_after_hsct"] == 8
    on_the_day = _relapse_with(b.medication("103", iso(6), iso(26)),
                               b.procedure("234336002", RELAPSE.isoformat()))
    assert on_the_day["relapse"]["after_hsct"] is False


# --- relapse episodes: onsets within 28 days are one relapse -----------------------------------

def _episodes(*onsets: str) -> dict:
    resources = [b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                 *(b.relapse(o) for o in onsets)]
    return assess_bundle(b.bundle(*resources), as_of=date(2020, 1, 1))


@pytest.mark.parametrize(("onsets", "number", "day"), [
    (("2017-01-10", "2017-02-07"), 1, "2017-01-10"),   # 28 days apart: one relapse
    (("2017-01-10", "2017-02-08"), 2, "2017-02-08"),   # 29 days: a second relapse
    (("2017-02-07", "2017-01-10"), 1, "2017-01-10"),   # order in the record does not matter
    (("2017-01", "2017-01-20"), 1, "2017-01-20"),      # the exact date replaces the month
    (("2017-01", "2017-02-28"), 1, "2017-02-28"),      # 28 days after the month's last day
    (("2017-01", "2017-03-01"), 2, "2017-03-01"),      # 29 days after it
    (("2017-01-20", "2017-01"), 1, "2017-01-20"),
    # measured from the episode's date, not chained from record to record
    (("2017-01-10", "2017-02-01", "2017-02-07"), 1, "2017-01-10"),
    (("2017-01-10", "2017-02-01", "2017-02-08"), 2, "2017-02-08"),
    (("2016-01-10", "2017-01-10", "2018-01-10"), 3, "2018-01-10"),
    # a record joins the latest relapse, not the first
    (("2016-01-10", "2017-01-10", "2017-01-20"), 2, "2017-01-10"),
    (("2016-01-10", "2017-01", "2017-01-20"), 2, "2017-01-20"),
])
def test_relapse_episodes(onsets: tuple[str, ...], number: int, day: str) -> None:
    result = _episodes(*onsets)
    assert result["relapse"]["number"] == number
    assert result["relapse"]["date"] == day
    strata = result["strata"]
    if number > 1:  # the schemes are for a first relapse (§1.4b)
        assert all(v == "not-applicable" for v in strata.values())
    else:
        assert any(v != "not-applicable" for v in strata.values())


def test_one_relapse_recorded_twice_keeps_both_records() -> None:
    """A marrow and a CSF Condition five days apart: one relapse with both coded sites and both
    references (FHIR_INPUT.md: each distinct relapse date; SAME_EPISODE_DAYS)."""
    marrow = b.relapse("2017-01-10", ("marrow",))
    cns = b.relapse("2017-01-15", ("cns",))
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                      marrow, cns)
    result = assess_bundle(bundle, as_of=date(2017, 2, 1))
    assert result["relapse"]["number"] == 1
    assert result["relapse"]["site"] == "combined"
    evidence = {e["fact"]: e for e in result["evidence"]}["relapse-date"]
    assert evidence["from"] == [f"Condition/{marrow['id']}", f"Condition/{cns['id']}"]


def test_a_second_relapse_recorded_twice_keeps_both_records() -> None:
    first = b.relapse("2016-01-10", ("marrow",))
    marrow = b.relapse("2017-06-10", ("marrow",))
    cns = b.relapse("2017-06-15", ("cns",))
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                      first, marrow, cns)
    result = assess_bundle(bundle, as_of=date(2017, 7, 1))
    assert result["relapse"]["number"] == 2
    assert result["relapse"]["site"] == "combined"
    evidence = {e["fact"]: e for e in result["evidence"]}["relapse-date"]
    assert evidence["from"] == [f"Condition/{marrow['id']}", f"Condition/{cns['id']}"]
