"""Population (OUTPUT.md §1): pediatric < 18 at initial diagnosis; aya ≥ 18 at diagnosis and
≤ 30 at relapse; adult ≥ 18 at diagnosis and > 30 at relapse (CLINICAL_RULES §2, §5)."""

from __future__ import annotations

from dataclasses import dataclass

from service.engine.dates import exact, years_range
from service.facts import FuzzyDate

ADULT_FROM_YEARS = 18
AYA_UP_TO_YEARS = 30  # COG's trials enrolled ages 1–30 (000 Table 2)
INFANT_BELOW_YEARS = 1


@dataclass(frozen=True)
class Population:
    name: str  # pediatric / aya / adult / indeterminate
    age_at_diagnosis: int | None
    age_at_relapse: int | None
    notes: tuple[str, ...] = ()


def population(birth: FuzzyDate | None, diagnosis: FuzzyDate | None,
               relapse: FuzzyDate | None) -> Population:
    at_dx = years_range(birth, diagnosis) if birth and diagnosis else None
    at_rel = years_range(birth, relapse) if birth and relapse else None
    if at_dx is None and at_rel is not None:
        at_dx = (0, at_rel[1])  # diagnosed before the relapse: no older than at relapse
    notes = []
    if at_dx is None:
        name = "indeterminate"
    elif at_dx[1] < ADULT_FROM_YEARS:
        name = "pediatric"
        if at_dx[1] < INFANT_BELOW_YEARS:
            notes.append("infant at diagnosis (< 1 year): outside the source trials (ages 1–18, "
                         "000 Table 2); groups are computed but untested in this population")
        if at_rel and at_rel[0] > AYA_UP_TO_YEARS:
            notes.append("diagnosed before 18 and relapsed after 30: outside the source trials "
                         "(ages 1–30, 000 Table 2); groups are computed but untested here")
    elif at_dx[0] >= ADULT_FROM_YEARS and at_rel is not None:
        if at_rel[1] <= AYA_UP_TO_YEARS:
            name = "aya"
        elif at_rel[0] > AYA_UP_TO_YEARS:
            name = "adult"
        else:
            name = "indeterminate"
    else:
        name = "indeterminate"
    return Population(name, exact(at_dx), exact(at_rel), tuple(notes))
