"""Scales and ticks for server-side SVG charts: a date axis and a log₁₀ axis mapped to pixels.
Nothing here knows about MRD or relapses, so any chart of dated values can use it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class TimeScale:
    start: date
    end: date
    left: float
    right: float

    @classmethod
    def around(cls, days: list[date], left: float, right: float, pad_days: int = 30) -> TimeScale:
        """A scale over ``days`` with some room either side (a single day gets room too)."""
        first, last = min(days), max(days)
        pad = timedelta(days=max(pad_days, (last - first).days // 20))
        return cls(first - pad, last + pad, left, right)

    def x(self, day: date) -> float:
        span = max((self.end - self.start).days, 1)
        return round(self.left + (day - self.start).days / span * (self.right - self.left), 1)

    def ticks(self) -> list[tuple[float, str]]:
        """Year ticks, or month ticks when the scale spans under two years."""
        if (self.end - self.start).days < 730:
            firsts = [date(y, m, 1) for y in range(self.start.year, self.end.year + 1)
                      for m in range(1, 13)]
            step = 1 if (self.end - self.start).days < 240 else 3
            return [(self.x(d), d.strftime("%Y-%m")) for d in firsts
                    if self.start <= d <= self.end and (d.month - 1) % step == 0]
        years = range(self.start.year + 1, self.end.year + 1)
        step = max(1, len(years) // 10)
        return [(self.x(date(y, 1, 1)), str(y)) for y in years if y % step == 0]


@dataclass(frozen=True)
class LogScale:
    """log₁₀ from ``10**low_exp`` (at ``bottom``) to ``10**high_exp`` (at ``top``)."""

    low_exp: int
    high_exp: int
    top: float
    bottom: float

    @classmethod
    def covering(cls, values: list[float], top: float, bottom: float, *, low_exp: int,
                 high_exp: int) -> LogScale:
        """At least ``10**low_exp``–``10**high_exp``, widened by whole decades to every value."""
        positive = [v for v in values if v > 0]
        if positive:
            low_exp = min(low_exp, math.floor(math.log10(min(positive))))
            high_exp = max(high_exp, math.ceil(math.log10(max(positive))))
        return cls(low_exp, high_exp, top, bottom)

    def y(self, value: float) -> float:
        """The pixel row of ``value``; values at or below zero sit on the bottom edge."""
        if value <= 0:
            return self.bottom
        share = (math.log10(value) - self.low_exp) / (self.high_exp - self.low_exp)
        return round(self.bottom - share * (self.bottom - self.top), 1)

    def ticks(self) -> list[tuple[float, str]]:
        return [(self.y(10.0 ** e), power_of_ten(e)) for e in range(self.low_exp, self.high_exp + 1)]


def power_of_ten(exponent: int) -> str:
    """``10⁻³``; ``1`` for 10⁰."""
    return "1" if exponent == 0 else "10" + str(exponent).translate(SUPERSCRIPT)
