"""Elapsed time in whole calendar months (CLINICAL_RULES §1.1)."""

from __future__ import annotations

from datetime import date

from service.facts import FuzzyDate


def months_between(earlier: date, later: date) -> int:
    """Completed calendar months: 12·(y2−y1) + (m2−m1), minus 1 when the later day of month is
    smaller (2020-01-15 → 2021-07-14 is 17; Jan 31 → Feb 28 is 0; Jan 31 → Mar 31 is 2).

    Written out rather than taken from ``dateutil.relativedelta``: that library counts
    2020-02-29 → 2021-02-28 as 12 months, the rule of §1.1 as 11.
    """
    months = 12 * (later.year - earlier.year) + (later.month - earlier.month)
    if later >= earlier:
        return months - (1 if later.day < earlier.day else 0)
    return -months_between(later, earlier)


def month_range(start: FuzzyDate, end: FuzzyDate) -> tuple[int, int]:
    """The fewest and the most whole months a pair of (possibly partial) dates can span."""
    return months_between(start.latest, end.earliest), months_between(start.earliest, end.latest)


def exact(span: tuple[int, int] | None) -> int | None:
    """The value of a range that has only one."""
    if span is None:
        return None
    low, high = span
    return low if low == high else None


def years_range(birth: FuzzyDate, when: FuzzyDate) -> tuple[int, int]:
    low, high = month_range(birth, when)
    return low // 12, high // 12
