"""What the sources recommend next, what is unsafe, what is still missing (CLINICAL_RULES §3–§6).

Order matters: the pathway for the population and situation first, then genetic modifiers,
then the safety checks, which read the recommendations made before them.
"""

from __future__ import annotations

from service.engine.advice import adults, allocation, genetics, pediatric, safety, special
from service.engine.case import Case


def advise(case: Case) -> None:
    if case.current is None and not case.refractory:
        return
    special.common(case)
    if case.population.name in ("aya", "adult"):
        adults.advise(case)
    elif case.refractory:
        pediatric.refractory(case)
    elif case.number >= 2:
        special.later_relapse(case)
    else:
        pediatric.first_relapse(case)
        allocation.compare_schemes(case)
    special.after_cellular_therapy(case)
    genetics.modifiers(case)
    safety.check(case)
