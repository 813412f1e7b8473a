"""MedicationStatement / Request / Administration → therapy facts (FHIR_INPUT.md "Medications")."""

from __future__ import annotations

from datetime import date

from pydantic import ValidationError

from service.extract.context import INVALID_FHIR, Context, ref_of, reference_key, show_codings
from service.facts import PatientFacts, Therapy, TherapyStatus
from service.fhir.lean import (
    CodeableConcept,
    Dosage,
    Medication,
    MedicationAdministration,
    MedicationRequest,
    MedicationStatement,
    Period,
)

# status → what the record says (None: ignored).  FHIR_INPUT.md "Status".
STATEMENT_STATUS: dict[str, TherapyStatus] = {
    "active": "current", "intended": "planned", "on-hold": "current",
    "completed": "given", "stopped": "given",
}
REQUEST_STATUS: dict[str, TherapyStatus] = {
    "active": "planned", "draft": "planned", "on-hold": "planned",
    "completed": "given", "stopped": "given",
}
REQUEST_INTENTS = {"plan", "order", "original-order", "reflex-order", "filler-order",
                   "instance-order", "proposal"}
ADMINISTRATION_STATUS: dict[str, TherapyStatus] = {
    "completed": "given", "in-progress": "current", "on-hold": "current", "stopped": "given",
}
# Statuses that say the resource is not (or no longer) true: left out without a word.
WITHDRAWN = {"entered-in-error", "not-taken", "cancelled", "revoked", "not-done"}

# What marks a medication resource as cancer therapy even when its drug code is not in the maps,
# so that it is reported instead of dropped (FHIR_INPUT.md "Relevant but unreadable"):
# ATC group L01 (antineoplastic agents, WHO ATC) and the cancer-medication profiles of mCODE
# (STU1 statement, STU2+ request/administration), the MII oncology module and the CIBMTR IG.
ATC_SYSTEMS = {"http://www.whocc.no/atc", "http://fhir.de/CodeSystem/bfarm/atc"}
ANTINEOPLASTIC_ATC_PREFIX = "L01"
CANCER_MEDICATION_PROFILES = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-related-medication",
    "https://www.medizininformatik-initiative.de/fhir/ext/modul-onko/StructureDefinition/"
    "mii-pr-onko-systemische-therapie-medikation",
    "http://fhir.nmdp.org/ig/cibmtr-reporting/StructureDefinition/cibmtr-",
)

AnyMedicationResource = MedicationStatement | MedicationRequest | MedicationAdministration


def _referenced_medication(ctx: Context, res: AnyMedicationResource) -> Medication | None:
    target = res.medicationReference.reference if res.medicationReference else None
    if not target:
        return None
    if target.startswith("#"):
        for contained in res.contained:
            if contained.get("resourceType") == "Medication" and contained.get("id") == target[1:]:
                try:
                    return Medication.model_validate(contained)
                except ValidationError:
                    ctx.problem(ref_of(res), f"{INVALID_FHIR} (its contained Medication); the "
                                             "drug cannot be read")
                    return None
        return None
    return ctx.medications.get(target) or ctx.medications.get(reference_key(target))


def _codes(ctx: Context, res: AnyMedicationResource) -> list[CodeableConcept]:
    """The drug codes to read, best first: the product code, then a Medication's ingredients
    (a pharmacy product code the maps do not know is read by its ingredient)."""
    if res.medicationCodeableConcept is not None:
        return [res.medicationCodeableConcept]
    medication = _referenced_medication(ctx, res)
    if medication is None:
        return []
    found = [medication.code] if medication.code else []
    found += [i.itemCodeableConcept for i in medication.ingredient if i.itemCodeableConcept]
    return found


def _looks_antineoplastic(ctx: Context, res: AnyMedicationResource,
                          codes: list[CodeableConcept]) -> bool:
    atc = any(c.system in ATC_SYSTEMS and (c.code or "").startswith(ANTINEOPLASTIC_ATC_PREFIX)
              for cc in codes for c in cc.coding)
    profiled = any(p.startswith(CANCER_MEDICATION_PROFILES) for p in res.profiles)
    for_all = any(reference_key(r.reference) in ctx.all_conditions
                  for r in res.reasonReference if r.reference)
    return atc or profiled or for_all


def _is_intrathecal(ctx: Context, dosages: list[Dosage]) -> bool:
    return any(ctx.concept("route", d.route) is not None for d in dosages)


def _period(ctx: Context, ref: str, period: Period | None) -> tuple[date | None, date | None]:
    if period is None:
        return None, None
    start = ctx.date(ref, period.start, "start", allow_future=True)
    end = ctx.date(ref, period.end, "end", allow_future=True) if period.end else None
    return (start.earliest if start else None, end.latest if end else None)


def _day(ctx: Context, ref: str, when: str | None) -> date | None:
    day = ctx.date(ref, when, "date", allow_future=True)
    return day.earliest if day else None


def _statement_time(ctx: Context, ref: str, res: MedicationStatement,
                    status: TherapyStatus | None) -> tuple[date | None, date | None]:
    """An active (or intended) statement's dateTime is when it was asserted or started, never its
    end (FHIR_INPUT.md "Status"); a completed one's dateTime is the day it was taken."""
    if res.effectivePeriod is not None:
        return _period(ctx, ref, res.effectivePeriod)
    day = _day(ctx, ref, res.effectiveDateTime)
    return (day, day if status == "given" else None)


def _request_time(ctx: Context, ref: str, res: MedicationRequest) -> date | None:
    """The order's date, else the start of its dosage period; None: the order has no date."""
    day = _day(ctx, ref, res.authoredOn)
    if day is None:
        bounds = [d.timing.repeat.boundsPeriod for d in res.dosageInstruction
                  if d.timing and d.timing.repeat and d.timing.repeat.boundsPeriod]
        day = _period(ctx, ref, bounds[0])[0] if bounds else None
    return day


def add_medication(ctx: Context, res: AnyMedicationResource, facts: PatientFacts) -> None:
    ref = ref_of(res)
    codes = _codes(ctx, res)
    concept = next((c for cc in codes if (c := ctx.concept("medication", cc)) is not None), None)
    if res.status in WITHDRAWN:
        return
    if concept is None:
        if _looks_antineoplastic(ctx, res, codes):
            ctx.problem(ref, f"cancer medication whose drug code is not in the code maps "
                             f"({show_codings(*codes)}); not counted as therapy")
        return
    status: TherapyStatus | None
    if isinstance(res, MedicationStatement):
        status = STATEMENT_STATUS.get(res.status or "")
        start, end = _statement_time(ctx, ref, res, status)
        intrathecal = _is_intrathecal(ctx, res.dosage)
    elif isinstance(res, MedicationRequest):
        if res.intent not in REQUEST_INTENTS:
            return
        status = REQUEST_STATUS.get(res.status or "")
        start = _request_time(ctx, ref, res)
        end = start if status == "given" else None
        intrathecal = _is_intrathecal(ctx, res.dosageInstruction)
        if start is None and status is not None:
            ctx.problem(ref, f"{concept.get('agent')} ordered without a date (no authoredOn or "
                             "dosage period): when it was given is unknown")
    else:
        status = ADMINISTRATION_STATUS.get(res.status or "")
        if res.effectivePeriod is not None:
            start, end = _period(ctx, ref, res.effectivePeriod)
        else:
            start = end = _day(ctx, ref, res.effectiveDateTime)  # one dose, given on its date
        intrathecal = _is_intrathecal(ctx, [res.dosage] if res.dosage else [])
    if status is None:
        ctx.problem(ref, f"{concept.get('agent')} with status '{str(res.status)[:40]}' that is "
                         "not understood; not counted as therapy")
        return
    if start is not None and start > ctx.as_of:
        if status == "given":
            ctx.problem(ref, "recorded as given but starts after the assessment date; ignored")
            return
        status = "planned"
    facts.therapies.append(Therapy(
        refs=(ref,), agent=concept.get("agent"), status=status, start=start, end=end,
        intrathecal=intrathecal, antileukemic=concept.get("antileukemic", True)))
