"""Observations → measurements, positive/negative findings, MRD and genetics (FHIR_INPUT.md)."""

from __future__ import annotations

import re
from datetime import date

from service.extract.context import Context, ref_of
from service.extract.units import UnitProblem, count, fraction, percent
from service.facts import (
    Diagnosis,
    Finding,
    GeneticFinding,
    Measurement,
    Mrd,
    PatientFacts,
    RelapseRecord,
)
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
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"


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
    ref = ref_of(obs)
    if concept is None:
        unread = _looks_relevant(ctx, obs)
        if unread:
            ctx.problem(ref, f"looks like {unread} but its code is not in the code maps; not used")
        return
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
        elif kind in ("morphology", "immunophenotype"):
            _add_lineage_result(ctx, obs, facts, ref, kind)
        elif kind == "disease-status":
            _add_disease_status(ctx, obs, facts, ref, day)
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


def _add_genetics(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date) -> None:
    """A genetic variant assessment counts as genetics recorded only when its gene studied is
    read; an unknown gene coding is reported, never taken as "tested" (FHIR_INPUT.md)."""
    gene_values, unread, fusion = [], [], False
    for comp in obs.component:
        role = ctx.concept("observation", comp.code)
        if role is None or comp.valueCodeableConcept is None:
            continue
        if role.fact == "gene-studied":
            genes = {c.get("symbol") for c in ctx.concepts("gene", comp.valueCodeableConcept)}
            gene_values.append(genes)
            if not genes:
                unread.append(_codings(comp.valueCodeableConcept))
        elif role.fact == "dna-change-type":
            fusion = fusion or ctx.concept("change-type", comp.valueCodeableConcept) is not None
    if unread or not gene_values:
        ctx.problem(ref, "genetic result whose gene studied (LOINC 48018-6, HGNC) is "
                         + (f"not in the code maps ({'; '.join(unread)})" if unread else "missing")
                         + ("; the other genes are read" if any(gene_values) else
                            "; not counted as genetics recorded"))
    known = set().union(*gene_values) if gene_values else set()
    if not known:
        return
    present = _coded_result(ctx, obs) is True
    facts.findings.append(Finding(refs=(ref,), kind="genetic-test", when=day, positive=present))
    if not present:
        return
    for finding in classify_genes(known, fusion or len(gene_values) > 1):
        facts.genetics.append(GeneticFinding(refs=(ref,), finding=finding, when=day))


def _codings(concept: CodeableConcept | None) -> str:
    shown = [f"{c.system or '(no system)'}|{c.code or '(no code)'}"
             for c in (concept.coding if concept else [])]
    return ", ".join(shown[:3]) or "no coding"


def _add_lineage_result(ctx: Context, obs: Observation, facts: PatientFacts, ref: str,
                        kind: str) -> None:
    """A histology (MII oncology) or immunophenotyping result: a coded ALL value gives lineage
    and genetics like the code of a diagnosis Condition; it does not date the diagnosis."""
    concepts = [c for c in ctx.concepts("condition", obs.valueCodeableConcept)
                if c.fact == "all-diagnosis"]
    if not concepts:
        if kind == "immunophenotype":
            shown = ("given only as text" if obs.valueCodeableConcept is None
                     else f"coded {_codings(obs.valueCodeableConcept)}")
            ctx.problem(ref, f"immunophenotype result {shown}: the lineage is not read from it")
        elif _looks_all_morphology(obs.valueCodeableConcept):
            ctx.problem(ref, "ALL morphology not in the code maps "
                             f"({_codings(obs.valueCodeableConcept)}); not used")
        return
    lineages = {c.get("lineage") for c in concepts if c.get("lineage")}
    genetics = sorted({g for c in concepts for g in (c.get("genetics") or ())})
    facts.diagnoses.append(Diagnosis(
        refs=(ref,), lineage=next(iter(lineages)) if len(lineages) == 1 else None,
        ph_positive="BCR-ABL1" in genetics, genetics=tuple(genetics)))


def _looks_all_morphology(value: CodeableConcept | None) -> bool:
    return any(c.system == ICDO3 and (c.code or "")[:4].isdigit()
               and 9811 <= int((c.code or "")[:4]) <= 9837 for c in (value.coding if value else []))


def _add_disease_status(ctx: Context, obs: Observation, facts: PatientFacts, ref: str,
                        day: date) -> None:
    """A cancer disease status is never a relapse date.  "Relapse" makes an undated relapse (the
    engine then reports the relapse date missing); "worse / progressing" is reported."""
    concept = ctx.concept("disease-status-value", obs.valueCodeableConcept)
    meaning = concept.get("meaning") if concept else None
    if meaning is None:
        ctx.problem(ref, "cancer disease status whose value is not understood "
                         f"({_codings(obs.valueCodeableConcept)}); not used")
    elif meaning == "relapse":
        facts.relapses.append(RelapseRecord(refs=(ref,), onset=None))
        ctx.undated_relapses.append((ref, f"cancer disease status 'relapse' on {day.isoformat()}: "
                                          "the relapse itself is not recorded as a Condition "
                                          "with its onset date"))
    elif meaning == "progression":
        ctx.problem(ref, f"cancer disease status 'progression' on {day.isoformat()}: not read as "
                         "a relapse; record a relapse Condition with its onset date if it is one")


# What makes an unmapped Observation look relevant (FHIR_INPUT.md "Relevant but unreadable"):
# a component "gene studied", or words for marrow / CSF in its name.
GENE_STUDIED = ("http://loinc.org", "48018-6")
RELEVANT_TEXT = re.compile(
    r"bone marrow|marrow|knochenmark|cerebrospinal|\bCSF\b|liquor|\bMRD\b|minimal residual",
    re.IGNORECASE)


def _looks_relevant(ctx: Context, obs: Observation) -> str | None:
    for comp in obs.component:
        if comp.code and any((c.system, c.code) == GENE_STUDIED for c in comp.code.coding):
            return "a genetic result (it names a gene studied)"
    names = [obs.code.text or "", *(c.display or "" for c in obs.code.coding)] if obs.code else []
    if any(RELEVANT_TEXT.search(n) for n in names) and (
            obs.valueQuantity or obs.valueCodeableConcept or obs.valueString):
        return "a marrow, CSF or MRD result (by its name)"
    return None


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
