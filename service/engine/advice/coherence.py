"""Advice that must never go out together (the coherence check, run on every assessment).

Each row names codes that contradict each other, with the reason.  The tables are built so that
none of these can arise (exclusions in ``catalogue.py`` and the tables, one text per code); this
check is the guarantee: should a row ever be violated, the contradicting recommendations are
withheld and an ``incoherent-advice`` warning says so — a contradictory card is as bad as a wrong
one.  The property tests generate cases across populations, sites, timings, MRD values, genetics,
HSCT/CAR-T states and orders, and assert that this never fires.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.engine.advice.catalogue import CD19_DIRECTED, PRE_CAR_T_THERAPY


@dataclass(frozen=True)
class Never:
    first: tuple[str, ...]
    second: tuple[str, ...]
    because: str


NEVER_TOGETHER: tuple[Never, ...] = (
    Never(("hsct-cr2",), ("chemotherapy-continuation",),
          "HSCT in CR2 and chemotherapy to 2 years without HSCT are two different allocations"),
    Never(("blinatumomab-consolidation",), ("chemotherapy-continuation",),
          "000 Figure 1A gives blinatumomab and HSCT, or chemotherapy without HSCT, not both"),
    Never(("hsct-cr2",), ("cranial-radiation",),
          "HSCT with TBI and a CNS boost replaces cranial radiation (000 Figure 1B; 001)"),
    Never(("cd19-negative",), CD19_DIRECTED, "a CD19-negative relapse has no CD19 target (000)"),
    Never(("car-t-monitoring",), PRE_CAR_T_THERAPY,
          "after CAR-T for this relapse the pre-CAR-T therapy no longer applies (000)"),
    Never(("repeat-marrow",), ("reinduction-4-drug",),
          "an M2 marrow alone does not confirm a relapse: it is repeated, not treated"),
)
# Only for B-lineage relapses (CLINICAL_RULES §6; 000): a lineage not known to be B never gets them.
B_LINEAGE_ONLY = CD19_DIRECTED


def violations(codes: set[str], phenotype: str | None) -> list[tuple[set[str], str]]:
    """Each contradiction in ``codes``: the codes involved and why they cannot go together."""
    found = []
    for row in NEVER_TOGETHER:
        a, b = codes & set(row.first), codes & set(row.second)
        if a and b:
            found.append((a | b, row.because))
    if phenotype != "B" and codes & set(B_LINEAGE_ONLY):
        found.append((codes & set(B_LINEAGE_ONLY),
                      "CD19-directed therapy is for B-lineage ALL; the lineage is not known to be B"))
    return found
