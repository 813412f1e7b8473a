"""COG (AALL1331) risk groups with the end-of-block-1 MRD.

Source: 000 Table 1 — CLINICAL_RULES §2.4.  Timing is COG's: marrow (isolated or combined)
early < 36 months from diagnosis, isolated extramedullary early < 18 months.  "End-block-1" is
the end of the first reinduction block (about day 29–36 of relapse therapy).
"""

from __future__ import annotations

from service.engine.schemes.registry import Scheme

# End-block-1 MRD cut-off: 0.1 % = 10⁻³ of nucleated marrow cells.
MRD_CUTOFF = 1e-3

#  phenotype, site, COG timing    MRD < 0.1 %   MRD ≥ 0.1 %
TABLE: dict[tuple[str, str, str], tuple[str, str]] = {
    ("B", "BM", "early"):   ("high", "high"),
    ("B", "BM", "late"):    ("low", "intermediate"),
    ("B", "IEM", "early"):  ("high", "high"),
    ("B", "IEM", "late"):   ("low", "intermediate"),
    ("T", "BM", "early"):   ("high", "high"),
    ("T", "BM", "late"):    ("high", "high"),
    ("T", "IEM", "early"):  ("high", "high"),
    ("T", "IEM", "late"):   ("high", "high"),
}
MRD_COLUMNS = ("below", "at-or-above")
# With the MRD unknown, a late B relapse is "low or intermediate, pending MRD" (000 Table 1).
PENDING_MRD = "low-or-intermediate"


def group(phenotype: str, site: str, timing: str, mrd: str) -> str:
    """``site`` is BM (isolated or combined marrow) or IEM; ``mrd`` below / at-or-above."""
    return TABLE[(phenotype, site, timing)][MRD_COLUMNS.index(mrd)]


SCHEME = Scheme(
    id="cog", label="COG", source="000 Table 1", timing="cog",
    # COG's trials enrolled ages 1–30: also ≥ 18 at diagnosis when ≤ 30 at relapse (§2)
    populations=("pediatric", "aya", "indeterminate"), group=group,
    pending=(frozenset({"low", "intermediate"}), PENDING_MRD),
)
