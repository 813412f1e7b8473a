"""FHIR ``date`` / ``dateTime`` strings as date ranges (a partial date stands for its range)."""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache

from service.facts import FuzzyDate

_FHIR_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$")


def parse_fhir_date(text: str | None) -> FuzzyDate | None:
    """``2019`` → 2019-01-01…2019-12-31; ``2019-07-15T10:00:00Z`` → that day.

    Raises ``ValueError`` for a string that is not a FHIR date or names an impossible day.
    The day of a dateTime is the calendar day as written (the clinician's local day).
    """
    if text is None:
        return None
    # A record repeats the same dates many times (every result of a panel): parsed once each.
    # FuzzyDate is frozen, so sharing one instance is safe; errors are not cached, nor texts
    # longer than any real dateTime (the cache must not hold what a client sends).
    return _parse_cached(text) if len(text) <= _CACHED_LENGTH else _parse(text)


_CACHED_LENGTH = 64


def _parse(text: str) -> FuzzyDate:
    match = _FHIR_DATE.match(text.strip())
    if not match:
        raise ValueError(f"'{text[:40]}' is not a FHIR date")
    year = int(match[1])
    if match[2] is None:
        return FuzzyDate(earliest=date(year, 1, 1), latest=date(year, 12, 31), text=text)
    month = int(match[2])
    if match[3] is None:
        last = calendar.monthrange(year, month)[1]
        return FuzzyDate(earliest=date(year, month, 1), latest=date(year, month, last), text=text)
    day = date(year, month, int(match[3]))
    return FuzzyDate(earliest=day, latest=day, text=text)


_parse_cached = lru_cache(maxsize=4096)(_parse)
