"""What a risk scheme is, for the engine: its decision table and everything read beside it.

Each scheme module ends with its ``SCHEME``; ``service.engine.schemes.SCHEMES`` lists them, and
stratification, applicability, allocation (§2.5) and the schema check loop over that list, so a
new scheme is a new file and one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

HSCT, CHEMO = "HSCT", "chemotherapy"
# The timing columns of the BFM-family tables (BFM, UK ALLR3, I-BFM): CLINICAL_RULES §1.2.
BFM_TIMINGS = ("very-early", "early", "late")
BfmFamilyTable = Mapping[tuple[str, str], tuple[str, str, str]]


def bfm_family_lookup(table: BfmFamilyTable) -> Callable[[str, str, str], str]:
    """A BFM-family table read as the seed prints it: the (phenotype, site) row, the timing
    column."""
    def group(phenotype: str, site: str, timing: str) -> str:
        return table[(phenotype, site)][BFM_TIMINGS.index(timing)]

    return group


@dataclass(frozen=True)
class Scheme:
    id: str  # the key under ``strata`` in the assessment
    label: str
    source: str  # the seed table it encodes
    timing: Literal["bfm", "cog"]  # which timing family it reads (CLINICAL_RULES §1.2)
    populations: tuple[str, ...]  # who it applies to (§2); "indeterminate" keeps it open
    group: Callable[..., str]  # (phenotype, site, timing[, end-block-1 MRD side]) → group
    risk: Mapping[str, str] = field(default_factory=dict)  # group → risk words, where it has them
    outcomes: Mapping[str, str] = field(default_factory=dict)
    # §2.5: group → HSCT, chemotherapy, or the MRD fraction at or above which HSCT follows.  Empty
    # where the pathway of §3 (000) decides.
    allocation: Mapping[str, str | float] = field(default_factory=dict)
    # the group named when only some groups remain open (COG: "low or intermediate, pending MRD")
    pending: tuple[frozenset[str], str] | None = None
