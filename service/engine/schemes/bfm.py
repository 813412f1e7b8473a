"""ALL-REZ BFM strategic groups S1–S4.

Source: 001 (Locatelli, Blood 2012) Table 1; 000 Table 1; 002 Table 5 — CLINICAL_RULES §2.1.
Columns: timing VE very early (< 18 mo from diagnosis), E early (≥ 18 mo and < 6 mo after the end
of frontline therapy), L late (≥ 6 mo after it).  BM isolated marrow, COMB combined, IEM isolated
extramedullary.
"""

from __future__ import annotations

from service.engine.schemes.registry import CHEMO, HSCT, BfmFamilyTable, Scheme, bfm_family_lookup

PEDIATRIC = ("pediatric", "indeterminate")  # age < 18 at diagnosis (§2)

#  phenotype, site         VE     E     L
TABLE: BfmFamilyTable = {
    ("B", "IEM"):  ("S2", "S2", "S1"),
    ("T", "IEM"):  ("S2", "S2", "S1"),
    ("B", "BM"):   ("S4", "S3", "S2"),
    ("B", "COMB"): ("S4", "S2", "S2"),
    # T-phenotype marrow relapses are S4 at every timing (001 Table 1); T combined is S4 too:
    # 002 Table 5 makes it high and no seed names S3 for it.
    ("T", "BM"):   ("S4", "S4", "S4"),
    ("T", "COMB"): ("S4", "S4", "S4"),
}

# S1 standard (SR), S2 intermediate (IR), S3/S4 high (HR) — 001 Table 1.
RISK = {"S1": "standard", "S2": "intermediate", "S3": "high", "S4": "high"}

# 001 Table 1: share of relapses; CR2 rate; 5-y OS with chemotherapy; 5-y OS with HSCT.
OUTCOMES = {
    "S1": "5% of relapses; CR2 99%; 5-y OS 60–70% with chemotherapy; HSCT not used (001 Table 1)",
    "S2": "55% of relapses; CR2 97%; 5-y OS 40% with chemotherapy, 60% with HSCT (001 Table 1)",
    "S3": "15% of relapses; CR2 80–85%; 5-y OS < 5% with chemotherapy, 30% with HSCT (001 Table 1)",
    "S4": "25% of relapses; CR2 70–75%; 5-y OS < 5% with chemotherapy, 25% with HSCT (001 Table 1)",
}


group = bfm_family_lookup(TABLE)


SCHEME = Scheme(
    id="bfm", label="BFM", source="001 Table 1; 002 Table 5", timing="bfm", populations=PEDIATRIC,
    group=group, risk=RISK, outcomes=OUTCOMES,
    # 001 Table 1, 002: S3/S4 HSCT in CR2; S2 MRD ≥ 10⁻³ after induction → HSCT (ALL-REZ BFM 2002,
    # Eckert); S1 chemotherapy and local therapy, no HSCT.
    allocation={"S4": HSCT, "S3": HSCT, "S2": 1e-3, "S1": CHEMO},
)
