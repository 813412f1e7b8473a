"""MRD time points and thresholds (FHIR_INPUT.md "Time points of response"; CLINICAL_RULES §1.5).

Values are fractions of nucleated marrow cells: 10⁻⁴ = 0.01 %, 10⁻³ = 0.1 %.  Seed 002 writes
"0.01% (10-3)" and "0.001% (10-4)" in places; those exponents are typos in the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.facts import Mrd, PatientFacts, Therapy

MRD_POSITIVE_FROM = 1e-4  # ≥ 0.01 % is MRD-positive (002 Table 2)
END_BLOCK_1_DAYS = (22, 49)  # the first MRD on day 22–49 of reinduction
# An MRD on or before day 7 is the diagnostic baseline (FHIR_INPUT.md): the end-block-1 window
# starts at day 22, so no rule in this module needs that cut-off.
BELOW, AT_OR_ABOVE = "below", "at-or-above"


def reinduction_start(facts: PatientFacts, relapse_day: date) -> tuple[date, list[Therapy]]:
    """The first day of an antileukaemic medication on or after the relapse (else the relapse)."""
    started = sorted((t for t in facts.therapies if t.antileukemic and t.start
                      and t.start >= relapse_day and t.status != "planned"),
                     key=lambda t: t.start or relapse_day)
    if not started:
        return relapse_day, []
    first = started[0].start or relapse_day
    return first, [t for t in started if t.start == first]


def day_of(start: date, when: date) -> int:
    """Day 1 is the first day of reinduction."""
    return (when - start).days + 1


def end_block_1(facts: PatientFacts, start: date) -> Mrd | None:
    low, high = END_BLOCK_1_DAYS
    for mrd in sorted(facts.mrd, key=lambda m: m.when):
        if low <= day_of(start, mrd.when) <= high:
            return mrd
    return None


def compare(mrd: Mrd, threshold: float) -> str | None:
    """BELOW or AT_OR_ABOVE the threshold, or None when the value cannot tell (e.g. "< 0.5 %"
    against 0.1 %)."""
    value = mrd.fraction
    if mrd.comparator == "=":
        return AT_OR_ABOVE if value >= threshold else BELOW
    if mrd.comparator in ("<", "<="):
        if value < threshold or (mrd.comparator == "<" and value == threshold):
            return BELOW
        return None
    # ">" or ">="
    return AT_OR_ABOVE if value >= threshold else None


@dataclass(frozen=True)
class MrdText:
    mrd: Mrd

    def __str__(self) -> str:
        comparator = "" if self.mrd.comparator == "=" else self.mrd.comparator + " "
        return f"{comparator}{self.mrd.fraction * 100:.4g}% ({self.mrd.method}, {self.mrd.when})"
