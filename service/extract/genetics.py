"""Genetic variant assessments → genetic findings (FHIR_INPUT.md "Genetic findings recognised").

Genes are read in every form the genomics IGs use (mappings/genes.yaml); a result whose gene
cannot be read is reported and never counts as genetics recorded.
"""

from __future__ import annotations

from datetime import date

from service.extract.context import Context, show_codings
from service.extract.results import coded_result
from service.facts import Finding, GeneticFinding, PatientFacts
from service.fhir.lean import Observation

ABL_CLASS = {"ABL1", "ABL2", "PDGFRB", "CSF1R"}


def add_genetics(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date) -> None:
    """A genetic variant assessment counts as genetics recorded only when its gene studied is
    read; an unknown gene coding is reported, never taken as "tested" (FHIR_INPUT.md)."""
    gene_values, unread, fusion = [], [], False
    for comp in obs.get("component", ()):
        role = ctx.concept("observation", comp.get("code"))
        value = comp.get("valueCodeableConcept")
        if role is None or value is None:
            continue
        if role.fact == "gene-studied":
            genes = {c.get("symbol") for c in ctx.concepts("gene", value)}
            gene_values.append(genes)
            if not genes:
                unread.append(show_codings(value))
        elif role.fact == "dna-change-type":
            fusion = fusion or ctx.concept("change-type", value) is not None
    if unread or not gene_values:
        ctx.problem(ref, "genetic result whose gene studied (LOINC 48018-6, HGNC) is "
                         + (f"not in the code maps ({'; '.join(unread)})" if unread else "missing")
                         + ("; the other genes are read" if any(gene_values) else
                            "; not counted as genetics recorded"))
    known = set().union(*gene_values) if gene_values else set()
    if not known:
        return
    present = coded_result(ctx, obs) is True
    facts.findings.append(Finding(refs=(ref,), kind="genetic-test", when=day, positive=present))
    if not present:
        return
    for finding in classify_genes(known, fusion or len(gene_values) > 1):
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
