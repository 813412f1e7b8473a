"""Conditions → diagnosis, relapse, refractory and CNS-leukaemia facts (FHIR_INPUT.md)."""

from __future__ import annotations

import re

from service.extract.context import Context, RelapseStatus, ref_of
from service.facts import (
    CnsCondition,
    Diagnosis,
    FuzzyDate,
    PatientFacts,
    Refractory,
    RelapseRecord,
)
from service.fhir.lean import CodeableConcept, Coding, Condition
from service.mapping import Concept

CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
IGNORED_VERIFICATION = {"refuted", "entered-in-error"}
RELAPSE_STATUSES = {"relapse", "recurrence"}
# An ALL-diagnosis Condition whose status says relapse is a separate relapse Condition only when
# its onset is more than this many days after another ALL diagnosis: a relapse needs a remission
# first, and closer onsets are the same diagnosis entered twice (e.g. ICD-10 and SNOMED) with one
# copy flipped.  The same figure as the engine's same-episode window (engine/episodes.py).
SEPARATE_RELAPSE_DAYS = 28
# ICD-O-3 morphology carried on the Condition: mCODE and the MII oncology module (FHIR_INPUT.md)
MORPHOLOGY_EXTENSIONS = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
    "https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/StructureDefinition/"
    "mii-ex-onko-histology-morphology-behavior-icdo3",
)
# German ICD-10-GM "Diagnosesicherheit" on the coding (basisprofil-de): A = excluded.
DIAGNOSESICHERHEIT = "http://fhir.de/StructureDefinition/icd-10-gm-diagnosesicherheit"
EXCLUDED = "A"
# What makes an unmapped Condition look like ALL, so that it is reported instead of dropped:
# an ICD-10 code in C91.0 (any edition, any suffix) or ICD-O-3 precursor lymphoblastic morphology
# 9811-9837 that the maps do not know, or words for ALL in its text.
ICD10_SYSTEMS = {"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm",
                 "http://fhir.de/CodeSystem/bfarm/icd-10-gm"}
ICDO3_SYSTEM = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ALL_WORDS = re.compile(r"lymphoblast|lymphatische leuk", re.IGNORECASE)
ALL_ABBREVIATION = re.compile(r"\bALL\b")  # the capitals only: "all" is an ordinary word


def _status(concept: CodeableConcept | None, system: str) -> str | None:
    for coding in concept.get("coding", []) if concept is not None else []:
        if coding.get("system") == system:
            return coding.get("code")
    return None


def _excluded(coding: Coding) -> bool:
    return any(e.get("url") == DIAGNOSESICHERHEIT and (value := e.get("valueCoding")) is not None
               and value.get("code") == EXCLUDED for e in coding.get("extension", ()))


def _morphologies(cond: Condition) -> list[CodeableConcept]:
    return [value for e in cond.get("extension", ())
            if e.get("url") in MORPHOLOGY_EXTENSIONS
            and (value := e.get("valueCodeableConcept")) is not None]


def _lineage(ctx: Context, ref: str, lineages: set[str]) -> str | None:
    if len(lineages) > 1:
        ctx.problem(ref, "codes both B- and T-lineage ALL; lineage not taken from it")
        return None
    return next(iter(lineages), None)


def looks_like_all_morphology(codings: list[Coding]) -> bool:
    """An ICD-O-3 precursor lymphoblastic morphology (9811-9837), mapped or not."""
    return any(c.get("system") == ICDO3_SYSTEM and (c.get("code") or "")[:4].isdigit()
               and 9811 <= int((c.get("code") or "")[:4]) <= 9837 for c in codings)


def _looks_like_all(codings: list[Coding], text: str | None) -> bool:
    if looks_like_all_morphology(codings) or any(
            c.get("system") in ICD10_SYSTEMS and (c.get("code") or "").upper().startswith("C91.0")
            for c in codings):
        return True
    texts = [text or "", *(c.get("display") or "" for c in codings)]
    return any(ALL_WORDS.search(t) or ALL_ABBREVIATION.search(t) for t in texts)


def _concepts(ctx: Context, cond: Condition) -> list[Concept]:
    """What the Condition's code and its morphology extension mean, in that order; codings the
    German Diagnosesicherheit marks as excluded count for nothing."""
    code = cond.get("code")
    codings = [c for c in (code.get("coding", []) if code is not None else []) if not _excluded(c)]
    concepts = ctx.concepts("condition", {"coding": codings})
    for morphology in _morphologies(cond):
        concepts += ctx.concepts("condition", morphology)
    return concepts


def add_condition(ctx: Context, cond: Condition, facts: PatientFacts) -> None:
    ref = ref_of(cond)
    if _status(cond.get("verificationStatus"), VERIFICATION_STATUS) in IGNORED_VERIFICATION:
        return
    concepts = _concepts(ctx, cond)
    kinds = {c.fact for c in concepts}
    if not kinds:
        code = cond.get("code")
        codings = [*(code.get("coding", []) if code is not None else []),
                   *(c for m in _morphologies(cond) for c in m.get("coding", ()))]
        if not any(_excluded(c) for c in codings) and _looks_like_all(
                codings, code.get("text") if code is not None else None):
            ctx.problem(ref, "looks like an ALL diagnosis but none of its codes is in the code "
                             "maps; not used (add the code to mappings/ if it is ALL)")
        return
    if kinds == {"hsct-history"}:
        ctx.problem(ref, "a stem cell transplant recorded only as a history Condition: not read "
                         "as an HSCT (its date and type are unknown); record it as a Procedure")
        return
    if kinds & {"all-diagnosis", "all-relapse", "all-refractory"}:
        ctx.all_conditions.add(ref)
    onset_text = _onset_text(cond)
    onset = ctx.date(ref, onset_text, "onset")
    if ref in ctx.future:  # not yet happened as of the assessment date
        return
    lineage = _lineage(ctx, ref, {c.get("lineage") for c in concepts if c.get("lineage")})
    clinical = _status(cond.get("clinicalStatus"), CLINICAL_STATUS)

    sites = _sites(ctx, cond)
    if "all-relapse" in kinds:
        if onset_text is None:
            ctx.problem(ref, "relapse without an onset date; its timing cannot be computed")
        facts.relapses.append(RelapseRecord(refs=(ref,), onset=onset, coded_sites=sites,
                                            lineage=lineage))
    elif "all-refractory" in kinds:
        facts.refractory.append(Refractory(refs=(ref,), recorded=onset))
    elif "all-diagnosis" in kinds and clinical in RELAPSE_STATUSES:
        ctx.relapse_status.append(RelapseStatus(cond, concepts, onset, lineage, sites))
    elif "all-diagnosis" in kinds:
        facts.diagnoses.append(_diagnosis(ctx, cond, concepts, onset, lineage))
    elif "cns-leukemia" in kinds and onset is not None:
        facts.cns_conditions.append(CnsCondition(refs=(ref,), onset=onset))


def _onset_text(cond: Condition) -> str | None:
    period = cond.get("onsetPeriod")
    return cond.get("onsetDateTime") or (period.get("start") if period is not None else None)


def _sites(ctx: Context, cond: Condition) -> frozenset[str]:
    sites = set()
    for body_site in cond.get("bodySite", ()):
        site = ctx.concept("body-site", body_site)
        sites.add(site.get("site") if site else "other")
    return frozenset(sites)


def _diagnosis(ctx: Context, cond: Condition, concepts: list[Concept], onset: FuzzyDate | None,
               lineage: str | None) -> Diagnosis:
    ref = ref_of(cond)
    from_recorded = False
    recorded = cond.get("recordedDate")
    if onset is None and not _onset_text(cond) and recorded:
        onset = ctx.date(ref, recorded, "recordedDate")
        from_recorded = onset is not None
    genetics = sorted({g for c in concepts for g in (c.get("genetics") or ())})
    return Diagnosis(refs=(ref,), onset=onset, date_from_recorded=from_recorded, lineage=lineage,
                     ph_positive="BCR-ABL1" in genetics, genetics=tuple(genetics))


def finish_relapse_statuses(ctx: Context, facts: PatientFacts) -> None:
    """ALL-diagnosis Conditions whose clinicalStatus says relapse, read once every Condition is
    known.  One dated well after another ALL diagnosis is a separate relapse Condition: its onset
    is the relapse date.  Otherwise it is the diagnosis itself switched to relapse on the problem
    list (FHIR_INPUT.md "Patterns"): its onset is the initial diagnosis and the relapse date is
    unknown, so the engine sees an undated relapse and reports the relapse date missing."""
    dated = [d.onset for d in facts.diagnoses if d.onset is not None]
    for item in ctx.relapse_status:
        ref = ref_of(item.cond)
        if item.onset is not None and any(
                (item.onset.earliest - d.latest).days > SEPARATE_RELAPSE_DAYS for d in dated):
            facts.relapses.append(RelapseRecord(refs=(ref,), onset=item.onset,
                                                coded_sites=item.sites, lineage=item.lineage))
            continue
        facts.diagnoses.append(_diagnosis(ctx, item.cond, item.concepts, item.onset, item.lineage))
        facts.relapses.append(RelapseRecord(refs=(ref,), onset=None, lineage=item.lineage))
        ctx.undated_relapses.append((ref, "the ALL diagnosis Condition's clinicalStatus says "
                                          "relapse, but its onset is the initial diagnosis: the "
                                          "relapse date is not recorded"))


def report_undated_relapses(ctx: Context, facts: PatientFacts) -> None:
    """Relapses known only without a date (status flip, disease status): said when no relapse
    Condition gives a date, since then the engine cannot time the relapse."""
    if not any(r.onset is not None for r in facts.relapses):
        for ref, text in ctx.undated_relapses:
            ctx.problem(ref, text)
