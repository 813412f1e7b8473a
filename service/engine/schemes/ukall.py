"""UK ALLR3 risk groups.

Source: 000 Table 1; 002 Table 5 — CLINICAL_RULES §2.2.  Timing as BFM (VE / E / L).
"""

from __future__ import annotations

from service.engine.schemes.registry import CHEMO, HSCT, BfmFamilyTable, Scheme, bfm_family_lookup

#  phenotype, site         VE       E               L
TABLE: BfmFamilyTable = {
    ("B", "IEM"):  ("high", "intermediate", "standard"),
    ("T", "IEM"):  ("high", "intermediate", "standard"),
    ("B", "BM"):   ("high", "high", "intermediate"),
    ("B", "COMB"): ("high", "intermediate", "intermediate"),
    ("T", "BM"):   ("high", "high", "high"),
    ("T", "COMB"): ("high", "high", "high"),
}


group = bfm_family_lookup(TABLE)


SCHEME = Scheme(
    id="ukall", label="UK ALLR3", source="000 Table 1; 002 Table 5", timing="bfm",
    populations=("pediatric", "indeterminate"), group=group,
    # 001, 002: high HSCT; intermediate MRD ≥ 10⁻⁴ at the end of induction → HSCT; standard chemo.
    allocation={"high": HSCT, "intermediate": 1e-4, "standard": CHEMO},
)
