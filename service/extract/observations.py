"""Observations → measurements, positive/negative findings, MRD and genetics (FHIR_INPUT.md)."""

from __future__ import annotations

from datetime import date

from service.extract.context import Context, ref_of
from service.extract.units import UnitProblem, count, fraction, percent
from service.facts import Finding, GeneticFinding, Measurement, Mrd, PatientFacts
from service.fhir.lean import CodeableConcept, Observation

COUNTED_STATUSES = {"final", "amended", "corrected"}
# CD19/CD22 given as % of blasts: positive from 20% (FHIR_INPUT.md; the cut-off is stated on
# the evidence so that a reader sees it).
ANTIGEN_POSITIVE_PERCENT = 20.0
# A negative MRD given as a code is negative at the usual flow sensitivity, taken as < 0.01%.
CODED_NEGATIVE_MRD = 1e-4
POSITIVE_NEGATIVE = ("cns-clinical-involvement", "testicular-biopsy", "cd19", "cd22",
                     "b-cell-recovery", "csf-blasts")
ABL_CLASS = {"ABL1", "ABL2", "PDGFRB", "CSF1R"}


def _coded_result(ctx: Context, obs: Observation) -> bool | None:
    concept = ctx.concept("result-value", obs.valueCodeableConcept)
    if concept is None:
        for interp in obs.interpretation:
            concept = concept or ctx.concept("result-value", interp)
    return None if concept is None else concept.get("meaning") == "positive"


def add_observation(ctx: Context, obs: Observation, facts: PatientFacts) -> None:
    if obs.status not in COUNTED_STATUSES:
        return
    concept = ctx.concept("observation", obs.code)
    if concept is None:
        return
    ref = ref_of(obs)
    when_text = obs.effectiveDateTime or (obs.effectivePeriod.start if obs.effectivePeriod else None)
    when = ctx.date(ref, when_text, "effective date")
    if when is None:
        if when_text is None:
            ctx.problem(ref, f"{concept.fact} result without an effective date; ignored")
        return
    day = when.earliest
    kind = concept.fact
    try:
        if kind == "mrd":
            _add_mrd(ctx, obs, facts, ref, day, concept.get("method"))
        elif kind == "genetic-variant-assessment":
            _add_genetics(ctx, obs, facts, ref, day)
        elif kind in POSITIVE_NEGATIVE:
            _add_finding(ctx, obs, facts, ref, day, kind)
        elif concept.get("unit") and obs.valueQuantity is not None:
            value = count(obs.valueQuantity, concept.get("unit"))
            facts.measurements.append(Measurement(refs=(ref,), kind=kind, when=day, value=value,
                                                  comparator=obs.valueQuantity.comparator))
        elif concept.get("unit"):
            ctx.problem(ref, f"{kind} result without a quantity; ignored")
    except UnitProblem as exc:
        ctx.problem(ref, f"{kind} value {exc}; ignored")


def _add_finding(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date,
                 kind: str) -> None:
    positive = _coded_result(ctx, obs)
    pct = None
    if positive is None and obs.valueQuantity is not None:
        if kind == "csf-blasts":  # a count: > 0 means blasts present
            positive = (obs.valueQuantity.value or 0) > 0
        elif kind in ("cd19", "cd22"):
            pct = percent(obs.valueQuantity)
            positive = pct >= ANTIGEN_POSITIVE_PERCENT
    if positive is None:
        ctx.problem(ref, f"{kind} result is neither a known positive/negative code nor a usable "
                         "quantity; ignored")
        return
    facts.findings.append(Finding(refs=(ref,), kind=kind, when=day, positive=positive, percent=pct))


def _add_mrd(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date,
             method: str) -> None:
    if obs.valueQuantity is not None:
        value = fraction(obs.valueQuantity)
        comparator = obs.valueQuantity.comparator or "="
        if comparator not in ("<", "<=", "=", ">", ">="):
            ctx.problem(ref, "MRD comparator not understood; ignored")
            return
        facts.mrd.append(Mrd(refs=(ref,), when=day, fraction=value, comparator=comparator,
                             method=method))
        return
    positive = _coded_result(ctx, obs)
    if positive is False:
        facts.mrd.append(Mrd(refs=(ref,), when=day, fraction=CODED_NEGATIVE_MRD, comparator="<",
                             method=method))
    else:
        ctx.problem(ref, "MRD without a quantity (a coded positive has no level); ignored")


def _genes(ctx: Context, concepts: list[CodeableConcept]) -> set[str]:
    return {c.get("symbol") for cc in concepts for c in ctx.concepts("gene", cc)}


def _add_genetics(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date) -> None:
    present = _coded_result(ctx, obs) is True
    facts.findings.append(Finding(refs=(ref,), kind="genetic-test", when=day, positive=present))
    if not present:
        return
    gene_values, fusion = [], False
    for comp in obs.component:
        role = ctx.concept("observation", comp.code)
        if role is None or comp.valueCodeableConcept is None:
            continue
        if role.fact == "gene-studied":
            gene_values.append(comp.valueCodeableConcept)
        elif role.fact == "dna-change-type":
            fusion = fusion or ctx.concept("change-type", comp.valueCodeableConcept) is not None
    for finding in classify_genes(_genes(ctx, gene_values), fusion or len(gene_values) > 1):
        facts.genetics.append(GeneticFinding(refs=(ref,), finding=finding, when=day))


def classify_genes(genes: set[str], partnered: bool) -> list[str]:
    """The recognised findings for the genes of one positive result (FHIR_INPUT.md);
    ``partnered``: a fusion, or more than one gene studied (the partner may be unmapped)."""
    found = []
    if {"BCR", "ABL1"} <= genes:
        found.append("BCR-ABL1")
    elif genes & ABL_CLASS and partnered:
        found.append("ABL-class")
    if "JAK2" in genes and partnered:
        found.append("JAK2-fusion")
    if genes == {"TP53"}:
        found.append("TP53")
    if {"TCF3", "HLF"} <= genes:
        found.append("TCF3-HLF")
    if {"TCF3", "PBX1"} <= genes:
        found.append("TCF3-PBX1")
    if "KMT2A" in genes:
        found.append("KMT2A")
    if {"ETV6", "RUNX1"} <= genes:
        found.append("ETV6-RUNX1")
    return found
