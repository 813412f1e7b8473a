"""I-BFM / IntReALL: two groups, standard and high.

Source: 002 Table 5 and text — CLINICAL_RULES §2.3.  Timing as BFM (VE / E / L).
002's text lists "a late or early combined BM/extramedullary relapse" as standard without naming
the lineage; its Table 5 and "any BM relapse of T-ALL" make T combined high, used here.
"""

from __future__ import annotations

from service.engine.schemes.registry import HSCT, BfmFamilyTable, Scheme, bfm_family_lookup

#  phenotype, site         VE      E           L
TABLE: BfmFamilyTable = {
    ("B", "IEM"):  ("high", "standard", "standard"),
    ("T", "IEM"):  ("high", "standard", "standard"),
    ("B", "BM"):   ("high", "high", "standard"),
    ("B", "COMB"): ("high", "standard", "standard"),
    ("T", "BM"):   ("high", "high", "high"),
    ("T", "COMB"): ("high", "high", "high"),
}


group = bfm_family_lookup(TABLE)


SCHEME = Scheme(
    id="ibfm", label="I-BFM", source="002 Table 5", timing="bfm",
    populations=("pediatric", "indeterminate"), group=group,
    # 002: high HSCT; standard: MRD after reinduction ≥ 10⁻⁴ (positive, §1.5) → HSCT (002 Figure 1).
    allocation={"high": HSCT, "standard": 1e-4},
)
