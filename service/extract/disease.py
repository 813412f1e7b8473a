"""Observations that describe the disease rather than measure it: histology / immunophenotype
(lineage) and cancer disease status (FHIR_INPUT.md; the decisions are in docs/TERMINOLOGY.md)."""

from __future__ import annotations

from datetime import date

from service.extract.conditions import looks_like_all_morphology
from service.extract.context import Context, show_codings
from service.facts import Diagnosis, PatientFacts, RelapseRecord
from service.fhir.lean import Observation


def add_lineage_result(ctx: Context, obs: Observation, facts: PatientFacts, ref: str,
                       kind: str) -> None:
    """A histology (MII oncology) or immunophenotyping result: a coded ALL value gives lineage
    and genetics like the code of a diagnosis Condition; it does not date the diagnosis."""
    value = obs.get("valueCodeableConcept")
    concepts = [c for c in ctx.concepts("condition", value) if c.fact == "all-diagnosis"]
    if not concepts:
        if kind == "immunophenotype":
            shown = "given only as text" if value is None else f"coded {show_codings(value)}"
            ctx.problem(ref, f"immunophenotype result {shown}: the lineage is not read from it")
        elif looks_like_all_morphology(value.get("coding", []) if value is not None else []):
            ctx.problem(ref, f"ALL morphology not in the code maps ({show_codings(value)}); not used")
        return
    lineages = {c.get("lineage") for c in concepts if c.get("lineage")}
    genetics = sorted({g for c in concepts for g in (c.get("genetics") or ())})
    facts.diagnoses.append(Diagnosis(
        refs=(ref,), lineage=next(iter(lineages)) if len(lineages) == 1 else None,
        ph_positive="BCR-ABL1" in genetics, genetics=tuple(genetics)))


def add_disease_status(ctx: Context, obs: Observation, facts: PatientFacts, ref: str,
                       day: date) -> None:
    """A cancer disease status is never a relapse date.  "Relapse" makes an undated relapse (the
    engine then reports the relapse date missing); "worse / progressing" is reported."""
    value = obs.get("valueCodeableConcept")
    concept = ctx.concept("disease-status-value", value)
    meaning = concept.get("meaning") if concept else None
    if meaning is None:
        ctx.problem(ref, "cancer disease status whose value is not understood "
                         f"({show_codings(value)}); not used")
    elif meaning == "relapse":
        facts.relapses.append(RelapseRecord(refs=(ref,), onset=None))
        ctx.undated_relapses.append((ref, f"cancer disease status 'relapse' on {day.isoformat()}: "
                                          "the relapse itself is not recorded as a Condition "
                                          "with its onset date"))
    elif meaning == "progression":
        ctx.problem(ref, f"cancer disease status 'progression' on {day.isoformat()}: not read as "
                         "a relapse; record a relapse Condition with its onset date if it is one")
