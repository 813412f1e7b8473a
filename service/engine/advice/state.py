"""Where the patient stands in relapse therapy, read from the record (FHIR_INPUT.md time points)."""

from __future__ import annotations

from datetime import date

from service.engine.case import Case
from service.engine.mrd import END_BLOCK_1_DAYS, MRD_POSITIVE_FROM, compare, day_of
from service.engine.site import M3_ABOVE
from service.engine.therapy import agents
from service.engine.window import AT_RELAPSE_DAYS
from service.facts import Mrd

CD19_DIRECTED = ("blinatumomab", "car-t-cd19")


def marrow_after_reinduction(case: Case) -> float | None:
    """The first marrow blast % on day 22–49 of reinduction."""
    if not case.reinduction_under_way or case.reinduction_start is None:
        return None
    first, last = END_BLOCK_1_DAYS
    for m in sorted(case.facts.measurements, key=lambda m: m.when):
        if m.kind == "marrow-blasts" and first <= day_of(case.reinduction_start, m.when) <= last:
            return m.value
    return None


def refractory_to_reinduction(case: Case) -> bool:
    blasts = marrow_after_reinduction(case)
    return case.refractory or (blasts is not None and blasts > M3_ABOVE)


def mrd_positive(mrd: Mrd | None) -> bool | None:
    """≥ 0.01 % (10⁻⁴) is positive (002 Table 2)."""
    if mrd is None:
        return None
    side = compare(mrd, MRD_POSITIVE_FROM)
    return None if side is None else side == "at-or-above"


def latest_mrd_after(case: Case, day: date | None) -> Mrd | None:
    if day is None:
        return None
    later = [m for m in case.facts.mrd if m.when > day]
    return max(later, key=lambda m: m.when) if later else None


def cd_status(case: Case, kind: str) -> bool | None:
    """CD19/CD22 on the blasts of this relapse: the latest result from 14 days before it on."""
    start = case.day
    items = sorted((f for f in case.facts.findings if f.kind == kind
                    and (start is None or (f.when - start).days >= -AT_RELAPSE_DAYS)),
                   key=lambda f: f.when)
    return items[-1].positive if items else None


def in_record(case: Case, agent: str, *statuses: str) -> bool:
    return agent in agents(case.facts, *(statuses or ("given", "current", "planned")))


def blinatumomab_cycles_after_relapse(case: Case) -> int:
    if case.day is None:
        return 0
    return sum(1 for t in case.facts.therapies if t.agent == "blinatumomab"
               and t.status == "given" and t.start and t.start >= case.day)
