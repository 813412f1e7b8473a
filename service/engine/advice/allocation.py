"""HSCT or chemotherapy after reinduction, scheme by scheme (CLINICAL_RULES §2.5).

The recommendations follow 000 (§3); what 000 gives here is read from those recommendations, so
the ``allocation-discordance`` warning always describes the cards that go out with it.  When
another scheme would allocate this patient differently, the warning lists every scheme's answer.
"""

from __future__ import annotations

from service.engine.case import Case
from service.engine.mrd import AT_OR_ABOVE, BELOW, compare

HSCT, CHEMO, PENDING = "HSCT", "chemotherapy", "depends on MRD"

# scheme, group → HSCT, chemotherapy, or the MRD threshold (fraction) at or above which HSCT.
#   BFM S3/S4 HSCT; S2 MRD ≥ 10⁻³ after induction (ALL-REZ BFM 2002, Eckert; 002); S1 chemotherapy
#   UK ALLR3 high HSCT; intermediate MRD ≥ 10⁻⁴ at end of induction (001, 002); standard chemotherapy
#   I-BFM high HSCT; standard MRD ≥ 10⁻⁴ after reinduction (002 Figure 1)
ALLOCATION: dict[tuple[str, str], str | float] = {
    ("bfm", "S4"): HSCT, ("bfm", "S3"): HSCT, ("bfm", "S2"): 1e-3, ("bfm", "S1"): CHEMO,
    ("ukall", "high"): HSCT, ("ukall", "intermediate"): 1e-4, ("ukall", "standard"): CHEMO,
    ("ibfm", "high"): HSCT, ("ibfm", "standard"): 1e-4,
}
LABEL = {"bfm": "BFM", "ukall": "UK ALLR3", "ibfm": "I-BFM"}
HSCT_CODES = ("hsct-cr2",)


def by_scheme(case: Case) -> dict[str, str]:
    found: dict[str, str] = {}
    for scheme, label in LABEL.items():
        result = case.strata.get(scheme)
        rule = ALLOCATION.get((scheme, result.group)) if result else None
        if rule is None:
            continue
        found[label] = rule if isinstance(rule, str) else _by_mrd(case, rule)
    return found


def _by_mrd(case: Case, threshold: float) -> str:
    side = compare(case.end_block_1, threshold) if case.end_block_1 else None
    return HSCT if side == AT_OR_ABOVE else CHEMO if side == BELOW else PENDING


def followed(recommended: set[str]) -> str:
    """What the recommendations (000) allocate to."""
    if recommended & set(HSCT_CODES):
        return HSCT
    if "chemotherapy-continuation" in recommended:
        return CHEMO
    return PENDING


def discordance(case: Case, recommended: set[str]) -> dict[str, object] | None:
    """The ``allocation-discordance`` parameters, or None when the schemes agree."""
    found = by_scheme(case)
    ours = followed(recommended)
    decided = {v for v in (*found.values(), ours) if v != PENDING}
    if not found or len(decided) < 2:
        return None
    answers = "; ".join(f"{k}: {v}" for k, v in found.items())
    return {"answers": answers, "followed": ours}
