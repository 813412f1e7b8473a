"""The stratification engine: typed facts in, assessment out (CLINICAL_RULES §1–§7)."""

from __future__ import annotations

from datetime import date

from service.assessment import Assessment, Problem
from service.engine import advice
from service.engine.case import Case
from service.engine.core import build_case, discordance, relapse_section, stratify_case
from service.engine.mrd import MrdText
from service.facts import PatientFacts
from service.vocabulary import Population


def assess(facts: PatientFacts, as_of: date) -> Assessment:
    """Everything the sources say about this patient's relapse, with what it rests on."""
    problems = [Problem(ref=p.ref, problem=p.problem) for p in facts.problems]
    case = build_case(facts, as_of, problems)
    if case is None:
        return Assessment(patient=facts.patient, as_of=as_of.isoformat(), applicable=False,
                          problems=problems)
    strata = stratify_case(case)
    relapse = relapse_section(case)
    stratified = [name for name, stratum in strata.items() if stratum != "not-applicable"]
    _site_consequences(case, stratified)
    _general_missing(case, stratified)
    discordance(case)
    advice.advise(case)
    _cite_results(case)
    pop = case.population
    return Assessment(
        patient=facts.patient, as_of=as_of.isoformat(), applicable=True,
        population=Population(pop.name),
        age_at_diagnosis_years=pop.age_at_diagnosis, age_at_relapse_years=pop.age_at_relapse,
        relapse=relapse, strata=strata,
        recommendations=case.recommendations, warnings=case.warnings,
        missing=list(case.missing.values()), evidence=case.evidence, problems=problems,
        notes=[*(case.site.notes if case.site else []), *case.notes],
    )


def _site_consequences(case: Case, schemes: list[str]) -> None:
    site = case.site
    if site is None:
        return
    for fact in site.missing:
        case.need(fact, schemes or ["relapse-site"])
    for conflict in site.conflicts:
        case.warn("data-conflict", f"Coded site and results disagree: {conflict}.", ["002"],
                  rests_on=["relapse-site"], refs=site.refs)
    if site.site == "indeterminate":
        case.need("relapse-site", schemes or ["relapse-site"])
    case.cite("relapse-site", site.site, [*case.current.refs, *site.refs] if case.current else site.refs,
              "from the coded bodySite (no result at relapse)" if site.from_coding else None)


def _general_missing(case: Case, schemes: list[str]) -> None:
    everything = schemes or ["population"]
    if case.population.age_at_diagnosis is None and case.population.age_at_relapse is None:
        case.need("birth-date", ["population", *everything])
    if case.diagnosis is None:
        case.need("diagnosis-date", everything)
    if case.current is None and not case.refractory:
        case.need("relapse-date", everything)
    if case.phenotype is None:
        case.need("immunophenotype", everything)


def _cite_results(case: Case) -> None:
    if case.frontline is not None and case.frontline.refs:
        value = ("on therapy at relapse" if case.frontline.on_therapy
                 else case.frontline.end.isoformat() if case.frontline.end else "unknown")
        case.cite("frontline-end-date", value, case.frontline.refs, case.frontline.reason)
    if case.end_block_1 is not None:
        case.cite("mrd-end-of-reinduction", str(MrdText(case.end_block_1)), case.end_block_1.refs,
                  "BFM and UK cut-offs were set with PCR; applied to flow results too"
                  if case.end_block_1.method == "flow" else None)
