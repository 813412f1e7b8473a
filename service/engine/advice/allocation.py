"""HSCT or chemotherapy after reinduction, scheme by scheme (CLINICAL_RULES §2.5).

The pathway of §3 (seed 000) drives the recommendation; when another scheme would allocate
this patient differently, ``allocation-discordance`` lists every scheme's answer.
"""

from __future__ import annotations

from service.engine.case import Case
from service.engine.mrd import AT_OR_ABOVE, BELOW, compare
from service.engine.site import IEM

HSCT, CHEMO, PENDING = "HSCT", "chemotherapy", "depends on MRD"
BFM_S2_MRD = 1e-3  # ALL-REZ BFM 2002, S2: MRD ≥ 10⁻³ after induction → HSCT (002, Eckert)
UK_INTERMEDIATE_MRD = 1e-4  # UK ALLR3 intermediate: MRD ≥ 10⁻⁴ → HSCT (001, 002)
COG_LATE_MRD = 1e-3  # 000 Figure 1A: late relapse, end-block-1 MRD ≥ 0.1 % → blinatumomab, HSCT
ICNS_MRD = 1e-4  # 000 Figure 1B: late isolated CNS → HSCT only if MRD ≥ 0.01 %


def _by_mrd(case: Case, threshold: float) -> str:
    mrd = case.end_block_1
    side = compare(mrd, threshold) if mrd else None
    return HSCT if side == AT_OR_ABOVE else CHEMO if side == BELOW else PENDING


def _group(case: Case, scheme: str) -> str | None:
    result = case.strata.get(scheme)
    return None if result is None or result.group == "indeterminate" else result.group


def allocations(case: Case) -> dict[str, str]:
    found: dict[str, str] = {}
    bfm = _group(case, "bfm")
    if bfm:
        found["BFM"] = HSCT if bfm in ("S3", "S4") else _by_mrd(case, BFM_S2_MRD) if bfm == "S2" else CHEMO
    uk = _group(case, "ukall")
    if uk:
        found["UK ALLR3"] = (HSCT if uk == "high" else
                             _by_mrd(case, UK_INTERMEDIATE_MRD) if uk == "intermediate" else CHEMO)
    ibfm = _group(case, "ibfm")
    if ibfm:
        found["I-BFM"] = HSCT if ibfm == "high" else CHEMO
    found.update(_seed_000(case))
    return found


def _seed_000(case: Case) -> dict[str, str]:
    timing = case.cog_timing
    site = case.site
    if len(timing) != 1 or site is None or len(site.categories) != 1 or case.phenotype is None:
        return {}
    if case.phenotype == "T" or timing == {"early"}:
        return {"COG / 000": HSCT}
    if site.categories == {IEM} and "cns" in site.extramedullary:
        return {"COG / 000": _by_mrd(case, ICNS_MRD)}
    return {"COG / 000": _by_mrd(case, COG_LATE_MRD)}


def compare_schemes(case: Case) -> None:
    found = allocations(case)
    decided = {v for v in found.values() if v != PENDING}
    if len(decided) < 2:
        return
    answers = "; ".join(f"{k}: {v}" for k, v in found.items())
    case.warn("allocation-discordance", f"The schemes allocate this relapse differently after "
              f"reinduction — {answers}. The recommendations follow 000 (the most recent full "
              "algorithm); weigh the others with the treating team.", ["000", "001", "002"],
              rests_on=["relapse-site", "diagnosis-date", "mrd-end-of-reinduction"],
              allocations=found)
