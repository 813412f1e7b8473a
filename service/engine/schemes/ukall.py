"""UK ALLR3 risk groups.

Source: 000 Table 1; 002 Table 5 — CLINICAL_RULES §2.2.  Timing as BFM (VE / E / L).
"""

from __future__ import annotations

#  phenotype, site         VE       E               L
TABLE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("B", "IEM"):  ("high", "intermediate", "standard"),
    ("T", "IEM"):  ("high", "intermediate", "standard"),
    ("B", "BM"):   ("high", "high", "intermediate"),
    ("B", "COMB"): ("high", "intermediate", "intermediate"),
    ("T", "BM"):   ("high", "high", "high"),
    ("T", "COMB"): ("high", "high", "high"),
}
TIMINGS = ("very-early", "early", "late")


def group(phenotype: str, site: str, timing: str) -> str:
    return TABLE[(phenotype, site)][TIMINGS.index(timing)]
