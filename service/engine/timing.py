"""Timing of a relapse in the two families, COG and BFM/UK/I-BFM (CLINICAL_RULES §1.2).

Months are whole calendar months from the date of initial diagnosis to the relapse (§1.1);
a month range (partial dates) that straddles a cut-off gives every category it touches.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.engine.site import IEM
from service.engine.therapy import Frontline

# COG (000 Table 1 footnote; 002 Table 2): marrow (isolated or combined) early < 36 months,
# isolated extramedullary early < 18 months.
COG_MARROW_EARLY_BELOW = 36
COG_IEM_EARLY_BELOW = 18
# BFM / UK / I-BFM (000; 001 Table 1; 002 Table 5): very early < 18 months from diagnosis;
# early ≥ 18 months and < 6 months after the end of frontline therapy (or during it);
# late ≥ 6 months after the end of frontline therapy.
BFM_VERY_EARLY_BELOW = 18
BFM_LATE_FROM_MONTHS_OFF_THERAPY = 6
# Provisional reading when the end of therapy is unknown: 24 months of therapy assumed, so late
# from 30 months after diagnosis (002 "six months gap"; 001 "< 30 / ≥ 30 months").  It misfires
# for 3-year protocols and is shown only as a labelled assumption.
ASSUMED_LATE_FROM_MONTHS = 30

VERY_EARLY, EARLY, LATE = "very-early", "early", "late"


def _split(low: int, high: int, cut: int, below: str, above: str) -> set[str]:
    found = set()
    if low < cut:
        found.add(below)
    if high >= cut:
        found.add(above)
    return found


def cog_timing(months: tuple[int, int] | None, category: str) -> set[str]:
    """COG early/late for one site category; both when the months are unknown or straddle."""
    if months is None:
        return {EARLY, LATE}
    cut = COG_IEM_EARLY_BELOW if category == IEM else COG_MARROW_EARLY_BELOW
    return _split(*months, cut, EARLY, LATE)


@dataclass
class BfmTiming:
    options: set[str]
    provisional: str | None = None
    needs_frontline_end: bool = False


def bfm_timing(months: tuple[int, int] | None, after_end: tuple[int, int] | None,
               frontline: Frontline) -> BfmTiming:
    if months is None:
        return BfmTiming({VERY_EARLY, EARLY, LATE})
    low, high = months
    result = BfmTiming(set())
    if low < BFM_VERY_EARLY_BELOW:
        result.options.add(VERY_EARLY)
    if high < BFM_VERY_EARLY_BELOW:
        return result
    if frontline.on_therapy:
        result.options.add(EARLY)
    elif after_end is not None:
        result.options |= _split(*after_end, BFM_LATE_FROM_MONTHS_OFF_THERAPY, EARLY, LATE)
    else:
        result.options |= {EARLY, LATE}
        result.needs_frontline_end = True
        result.provisional = LATE if low >= ASSUMED_LATE_FROM_MONTHS else (
            EARLY if high < ASSUMED_LATE_FROM_MONTHS else None)
    return result


def family(value: str) -> str:
    """BFM very early and early both count as early when compared with COG (§1.2)."""
    return EARLY if value in (VERY_EARLY, EARLY) else LATE
