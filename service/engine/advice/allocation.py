"""HSCT or chemotherapy after reinduction, scheme by scheme (CLINICAL_RULES §2.5; each scheme's
row is declared with its table in ``service/engine/schemes/``).

The recommendations follow 000 (§3); what 000 gives here is read from those recommendations, so
the ``allocation-discordance`` warning always describes the cards that go out with it.  When
another scheme would allocate this patient differently, the warning lists every scheme's answer.
"""

from __future__ import annotations

from service.engine.case import Case
from service.engine.mrd import AT_OR_ABOVE, BELOW, compare
from service.engine.schemes import SCHEMES
from service.engine.schemes.registry import CHEMO, HSCT

PENDING = "depends on MRD"
HSCT_CODES = ("hsct-cr2",)


def by_scheme(case: Case) -> dict[str, str]:
    """Each scheme's allocation for this patient, from its declared §2.5 row."""
    found: dict[str, str] = {}
    for scheme in SCHEMES:
        result = case.strata.get(scheme.id)
        rule = scheme.allocation.get(result.group) if result else None
        if rule is None:
            continue
        found[scheme.label] = rule if isinstance(rule, str) else _by_mrd(case, rule)
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
