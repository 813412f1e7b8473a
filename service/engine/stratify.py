"""Risk groups under each scheme, from facts that may be unknown (CLINICAL_RULES §1.4a).

Every unknown fact is a set of the values it could take.  A scheme's table is read for every
combination: when all give the same group, that group is reported (and the missing fact still
listed); otherwise the group is ``indeterminate`` and the text says which value leads where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product

from service.engine.schemes.registry import Scheme
from service.engine.site import BM, COMB, IEM
from service.engine.timing import cog_timing

INDETERMINATE = "indeterminate"
SITE_LABEL = {BM: "isolated marrow", COMB: "combined", IEM: "isolated extramedullary"}


@dataclass(frozen=True)
class Dimension:
    fact: str  # the missing-fact code that decides it
    label: str
    values: tuple[str, ...]


@dataclass
class Inputs:
    phenotype: Dimension
    site: Dimension
    bfm_timing: Dimension
    months: tuple[int, int] | None
    mrd: Dimension  # end-block-1 MRD vs 0.1 %: below / at-or-above
    described: dict[str, str] = field(default_factory=dict)  # fact → how it reads here


@dataclass
class Result:
    group: str
    deciding: list[Dimension]
    decides: str | None
    combos: dict[tuple[str, ...], str]


def _evaluate(dims: Sequence[Dimension],
              table: Callable[..., str | None]) -> Result:
    combos: dict[tuple[str, ...], str] = {}
    for values in product(*(d.values for d in dims)):
        outcome = table(*values)
        if outcome is not None:
            combos[values] = outcome
    outcomes = set(combos.values())
    group = outcomes.pop() if len(outcomes) == 1 else INDETERMINATE
    deciding, texts = [], []
    if group == INDETERMINATE:
        for i, dim in enumerate(dims):
            by_value = {v: sorted({o for k, o in combos.items() if k[i] == v}) for v in dim.values}
            # A value that leads nowhere is not possible here (COG timing "early" at 40 months):
            # it must not make a known fact (the diagnosis date) look deciding and missing.
            if len({tuple(o) for o in by_value.values() if o}) > 1:
                deciding.append(dim)
                texts.append(f"{dim.label}: " + "; ".join(
                    f"{v} → {' or '.join(o)}" for v, o in by_value.items() if o))
    return Result(group, deciding, " | ".join(texts) or None, combos)


def _reason(inputs: Inputs, facts: Sequence[str], group: str, source: str) -> str:
    read = ", ".join(inputs.described[f] for f in facts if f in inputs.described)
    return f"{read} → {group} ({source})"


def result(scheme: Scheme, inputs: Inputs) -> Result:
    """The scheme's group for every value the unknown facts can take (§1.4a)."""
    if scheme.timing == "bfm":
        # BFM, UK ALLR3 and I-BFM share the site and timing definitions.
        found = _evaluate((inputs.phenotype, inputs.site, inputs.bfm_timing), scheme.group)
    else:
        found = _cog_family(scheme, inputs)
    outcomes = set(found.combos.values())
    if scheme.pending and found.group == INDETERMINATE and outcomes <= scheme.pending[0]:
        found.group = scheme.pending[1]
    return found


def _cog_family(scheme: Scheme, inputs: Inputs) -> Result:
    # With the months known, COG timing is open only because the site is (the cut-off is 18
    # months for isolated extramedullary, 36 for marrow): the site decides, not the diagnosis date.
    timing = Dimension("diagnosis-date" if inputs.months is None else "relapse-site", "COG timing",
                       ("early", "late"))

    def table(phenotype: str, site: str, when: str, mrd: str) -> str | None:
        category = IEM if site == IEM else BM
        if when not in cog_timing(inputs.months, category):
            return None
        return scheme.group(phenotype, category, when, mrd)

    return _evaluate((inputs.phenotype, inputs.site, timing, inputs.mrd), table)


def describe(result: Result, inputs: Inputs, source: str,
             facts: Sequence[str]) -> str:
    if result.group != INDETERMINATE:
        return _reason(inputs, facts, result.group, source)
    return f"indeterminate: {result.decides} ({source})"
