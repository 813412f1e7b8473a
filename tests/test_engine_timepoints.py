"""Time points of response (FHIR_INPUT.md "Time points of response") and the COG end-block-1
MRD cut-off of 0.1 % (CLINICAL_RULES §1.5, §2.4): reinduction starts on the first antileukaemic
medication on or after the relapse; the end-block-1 MRD is the first MRD on day 22–49 of it.

A late B-lineage marrow relapse is COG low with MRD < 0.1 %, intermediate with ≥ 0.1 %, and
"low-or-intermediate" (pending MRD) when no end-block-1 MRD is known (000 Table 1)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import builders as b
import pytest
from scenarios import first_relapse, iso

from service.engine.mrd import AT_OR_ABOVE, BELOW, MrdText, compare, end_block_1, reinduction_start
from service.facts import Mrd, PatientFacts, Therapy
from service.pipeline import assess_bundle

RELAPSE = date.fromisoformat(iso(40))
LOW_MRD = 0.05  # percent: below 0.1 %
HIGH_MRD = 0.5  # percent: at or above 0.1 %


def _day(start: date, day: int) -> str:
    """The date of reinduction day ``day`` (day 1 is the start)."""
    return (start + timedelta(days=day - 1)).isoformat()


def late_b_marrow(*extra: Any) -> dict:
    bundle = first_relapse("B", "BM", 40, 26, extra=extra)
    return assess_bundle(bundle, as_of=RELAPSE + timedelta(days=120))


def cog(result: dict) -> str:
    return result["strata"]["cog"]["group"]


def reinduction(start: date, rxcui: str = "3264", **kwargs: Any) -> dict:
    return b.medication(rxcui, start.isoformat(), (start + timedelta(days=28)).isoformat(), **kwargs)


# --- the day 22–49 window, each edge on both sides ----------------------------------------------

@pytest.mark.parametrize(("day", "counted"), [(7, False), (21, False), (22, True), (35, True),
                                              (49, True), (50, False)])
def test_end_block_1_window_edges(day: int, counted: bool) -> None:
    result = late_b_marrow(reinduction(RELAPSE), b.mrd(_day(RELAPSE, day), LOW_MRD))
    assert cog(result) == ("low" if counted else "low-or-intermediate")
    evidence = {e["fact"] for e in result["evidence"]}
    assert ("mrd-end-of-reinduction" in evidence) is counted


def test_the_first_mrd_in_the_window_is_the_end_block_1_mrd() -> None:
    first_high = late_b_marrow(reinduction(RELAPSE), b.mrd(_day(RELAPSE, 40), LOW_MRD),
                               b.mrd(_day(RELAPSE, 30), HIGH_MRD))
    assert cog(first_high) == "intermediate"
    first_low = late_b_marrow(reinduction(RELAPSE), b.mrd(_day(RELAPSE, 40), HIGH_MRD),
                              b.mrd(_day(RELAPSE, 30), LOW_MRD))
    assert cog(first_low) == "low"


def test_mrd_before_the_window_does_not_count() -> None:
    result = late_b_marrow(reinduction(RELAPSE), b.mrd(_day(RELAPSE, 21), HIGH_MRD),
                           b.mrd(_day(RELAPSE, 30), LOW_MRD))
    assert cog(result) == "low"


# --- reinduction start ---------------------------------------------------------------------------

def test_reinduction_that_starts_after_the_relapse_date_moves_day_1() -> None:
    start = RELAPSE + timedelta(days=10)
    # day 46 of reinduction (day 56 from the relapse date): end-block-1
    late = late_b_marrow(reinduction(start), b.mrd(_day(start, 46), LOW_MRD))
    assert cog(late) == "low"
    # day 16 of reinduction (day 26 from the relapse date): too early
    early = late_b_marrow(reinduction(start), b.mrd(_day(start, 16), LOW_MRD))
    assert cog(early) == "low-or-intermediate"


def test_without_reinduction_day_1_is_the_relapse_date() -> None:
    counted = late_b_marrow(b.mrd(_day(RELAPSE, 22), LOW_MRD))
    assert cog(counted) == "low"
    too_early = late_b_marrow(b.mrd(_day(RELAPSE, 21), LOW_MRD))
    assert cog(too_early) == "low-or-intermediate"


def test_reinduction_under_way_is_not_recommended_again() -> None:
    started = late_b_marrow(reinduction(RELAPSE + timedelta(days=3)))
    assert "reinduction-4-drug" not in {r["code"] for r in started["recommendations"]}
    not_started = late_b_marrow()
    assert "reinduction-4-drug" in {r["code"] for r in not_started["recommendations"]}


def test_planned_reinduction_does_not_start_day_1() -> None:
    start = RELAPSE + timedelta(days=10)
    planned = b.planned("3264", start.isoformat())
    # day 22 counted from the relapse date (the plan does not move day 1)
    result = late_b_marrow(planned, b.mrd(_day(RELAPSE, 22), LOW_MRD))
    assert cog(result) == "low"


def test_frontline_therapy_before_the_relapse_does_not_start_reinduction() -> None:
    # the scenario's frontline mercaptopurine started years earlier; day 1 stays the relapse
    result = late_b_marrow(b.mrd(_day(RELAPSE, 49), LOW_MRD))
    assert cog(result) == "low"


def _facts(*therapies: Therapy, mrd: tuple[Mrd, ...] = ()) -> PatientFacts:
    return PatientFacts(therapies=list(therapies), mrd=list(mrd))


def test_reinduction_start_is_the_first_antileukaemic_start_on_or_after_the_relapse() -> None:
    d = RELAPSE
    on_day = Therapy(agent="dexamethasone", status="given", start=d)
    later = Therapy(agent="vincristine", status="given", start=d + timedelta(days=2))
    before = Therapy(agent="mercaptopurine", status="given", start=d - timedelta(days=1))
    supportive = Therapy(agent="other", status="given", start=d + timedelta(days=1),
                         antileukemic=False)
    planned = Therapy(agent="blinatumomab", status="planned", start=d + timedelta(days=1))
    undated = Therapy(agent="cytarabine", status="given")
    assert reinduction_start(_facts(later, on_day, before), d) == (d, [on_day])
    start, first = reinduction_start(_facts(later, before, supportive, planned, undated), d)
    assert start == d + timedelta(days=2) and first == [later]
    assert reinduction_start(_facts(before, supportive, planned, undated), d) == (d, [])
    same_day = Therapy(agent="mitoxantrone", status="current", start=d + timedelta(days=2))
    assert reinduction_start(_facts(later, same_day), d)[1] == [later, same_day]


def test_end_block_1_direct() -> None:
    start = RELAPSE

    def mrd(day: int, fraction: float = 1e-4) -> Mrd:
        return Mrd(when=start + timedelta(days=day - 1), fraction=fraction, method="flow")

    assert end_block_1(_facts(mrd=(mrd(21), mrd(50))), start) is None
    assert end_block_1(_facts(mrd=(mrd(50), mrd(49), mrd(22, 0.5))), start) == mrd(22, 0.5)


# --- MRD against the COG cut-off: comparators -------------------------------------------------

@pytest.mark.parametrize(("value", "comparator", "group"), [
    (0.1, None, "intermediate"),           # exactly 0.1 % is ≥ 0.1 %
    (0.0999, None, "low"),
    (0.1, "<", "low"),                     # "< 0.1 %": below the cut-off
    (0.1, "<=", "low-or-intermediate"),    # "≤ 0.1 %" may be exactly 0.1 %: cannot tell
    (0.05, "<=", "low"),
    (0.2, "<", "low-or-intermediate"),     # "< 0.2 %": cannot tell
    (0.1, ">=", "intermediate"),
    (0.1, ">", "intermediate"),
    (0.05, ">", "low-or-intermediate"),    # "> 0.05 %": cannot tell
    (0.05, ">=", "low-or-intermediate"),
])
def test_cog_cut_off_with_comparators(value: float, comparator: str | None, group: str) -> None:
    result = late_b_marrow(reinduction(RELAPSE),
                           b.mrd(_day(RELAPSE, 30), value, "%", comparator=comparator))
    assert cog(result) == group


@pytest.mark.parametrize(("fraction", "comparator", "threshold", "side"), [
    (1e-3, "=", 1e-3, AT_OR_ABOVE), (9.99e-4, "=", 1e-3, BELOW),
    (1e-4, "=", 1e-4, AT_OR_ABOVE), (9.9e-5, "=", 1e-4, BELOW),
    (1e-3, "<", 1e-3, BELOW), (9e-4, "<", 1e-3, BELOW), (2e-3, "<", 1e-3, None),
    (1e-3, "<=", 1e-3, None), (9e-4, "<=", 1e-3, BELOW), (2e-3, "<=", 1e-3, None),
    (1e-3, ">=", 1e-3, AT_OR_ABOVE), (1e-3, ">", 1e-3, AT_OR_ABOVE), (2e-3, ">", 1e-3, AT_OR_ABOVE),
    (9e-4, ">", 1e-3, None), (9e-4, ">=", 1e-3, None),
])
def test_compare(fraction: float, comparator: str, threshold: float, side: str | None) -> None:
    mrd = Mrd(when=RELAPSE, fraction=fraction, comparator=comparator, method="flow")
    assert compare(mrd, threshold) == side


def test_mrd_text_in_the_evidence() -> None:
    result = late_b_marrow(reinduction(RELAPSE),
                           b.mrd(_day(RELAPSE, 30), 0.01, "%", comparator="<"))
    evidence = {e["fact"]: e for e in result["evidence"]}["mrd-end-of-reinduction"]
    assert evidence["value"] == f"< 0.01% (flow, {_day(RELAPSE, 30)})"
    assert "PCR" in evidence["note"]  # flow: the BFM/UK cut-offs were set with PCR
    exact = Mrd(when=RELAPSE, fraction=0.00123, method="pcr")
    assert str(MrdText(exact)) == f"0.123% (pcr, {RELAPSE.isoformat()})"
