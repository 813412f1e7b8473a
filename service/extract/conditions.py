"""Conditions → diagnosis, relapse, refractory and CNS-leukaemia facts (FHIR_INPUT.md)."""

from __future__ import annotations

from service.extract.context import Context, ref_of
from service.facts import CnsCondition, Diagnosis, PatientFacts, Refractory, RelapseRecord
from service.fhir.lean import CodeableConcept, Condition

CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
IGNORED_VERIFICATION = {"refuted", "entered-in-error"}
RELAPSE_STATUSES = {"relapse", "recurrence"}


def _status(concept: CodeableConcept | None, system: str) -> str | None:
    for coding in concept.coding if concept else []:
        if coding.system == system:
            return coding.code
    return None


def _lineage(ctx: Context, ref: str, lineages: set[str]) -> str | None:
    if len(lineages) > 1:
        ctx.problem(ref, "codes both B- and T-lineage ALL; lineage not taken from it")
        return None
    return next(iter(lineages), None)


def add_condition(ctx: Context, cond: Condition, facts: PatientFacts) -> None:
    ref = ref_of(cond)
    if _status(cond.verificationStatus, VERIFICATION_STATUS) in IGNORED_VERIFICATION:
        return
    concepts = ctx.concepts("condition", cond.code)
    kinds = {c.fact for c in concepts}
    if not kinds:
        return
    onset_text = cond.onsetDateTime or (cond.onsetPeriod.start if cond.onsetPeriod else None)
    onset = ctx.date(ref, onset_text, "onset")
    if ref in ctx.future:  # not yet happened as of the assessment date
        return
    lineage = _lineage(ctx, ref, {c.get("lineage") for c in concepts if c.get("lineage")})
    clinical = _status(cond.clinicalStatus, CLINICAL_STATUS)

    if "all-relapse" in kinds or ("all-diagnosis" in kinds and clinical in RELAPSE_STATUSES):
        sites: set[str] = set()
        for body_site in cond.bodySite:
            site = ctx.concept("body-site", body_site)
            sites.add(site.get("site") if site else "other")
        if onset_text is None:
            ctx.problem(ref, "relapse without an onset date; its timing cannot be computed")
        facts.relapses.append(RelapseRecord(refs=(ref,), onset=onset, coded_sites=frozenset(sites),
                                            lineage=lineage))
    elif "all-refractory" in kinds:
        facts.refractory.append(Refractory(refs=(ref,), recorded=onset))
    elif "all-diagnosis" in kinds:
        from_recorded = False
        if onset is None and onset_text is None and cond.recordedDate:
            onset = ctx.date(ref, cond.recordedDate, "recordedDate")
            from_recorded = onset is not None
        genetics = sorted({g for c in concepts for g in (c.get("genetics") or ())})
        facts.diagnoses.append(Diagnosis(
            refs=(ref,), onset=onset, date_from_recorded=from_recorded, lineage=lineage,
            ph_positive="BCR-ABL1" in genetics, genetics=tuple(genetics)))
    elif "cns-leukemia" in kinds and onset is not None:
        facts.cns_conditions.append(CnsCondition(refs=(ref,), onset=onset))
