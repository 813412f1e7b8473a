"""The words of the assessment, typed (OUTPUT.md §1 enumerations).

String enums: each member *is* its JSON string, so the engine, the assessment model and the cards
share one spelling, and mypy refuses a value that is not one of them.
"""

from __future__ import annotations

from enum import StrEnum


class Population(StrEnum):
    PEDIATRIC = "pediatric"  # age < 18 at initial diagnosis
    AYA = "aya"  # ≥ 18 at diagnosis and ≤ 30 at relapse
    ADULT = "adult"  # ≥ 18 at diagnosis and > 30 at relapse
    INDETERMINATE = "indeterminate"


class Site(StrEnum):
    ISOLATED_MARROW = "isolated-marrow"
    COMBINED = "combined"
    ISOLATED_CNS = "isolated-cns"
    ISOLATED_TESTICULAR = "isolated-testicular"
    ISOLATED_OTHER = "isolated-other-extramedullary"
    INDETERMINATE = "indeterminate"


class Phenotype(StrEnum):
    B = "B"  # B-cell precursor
    T = "T"
    INDETERMINATE = "indeterminate"


class CogTiming(StrEnum):
    EARLY = "early"
    LATE = "late"
    INDETERMINATE = "indeterminate"


class BfmTiming(StrEnum):
    VERY_EARLY = "very-early"
    EARLY = "early"
    LATE = "late"
    INDETERMINATE = "indeterminate"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)
