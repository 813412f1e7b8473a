"""MedicationStatement / Request / Administration → therapy facts (FHIR_INPUT.md "Medications")."""

from __future__ import annotations

from datetime import date
from typing import TypeGuard

from pydantic import ValidationError

from service.extract.context import INVALID_FHIR, Context, ref_of, reference_key, show_codings
from service.facts import TherapyStatus
from service.fhir.lean import (
    AnyResource,
    CodeableConcept,
    Dosage,
    Medication,
    MedicationAdministration,
    MedicationRequest,
    MedicationStatement,
    Period,
    medication_adapter,
    profiles,
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
MEDICATION_USES = frozenset(("MedicationStatement", "MedicationRequest", "MedicationAdministration"))


def is_medication_use(res: AnyResource) -> TypeGuard[AnyMedicationResource]:
    return res["resourceType"] in MEDICATION_USES


def _referenced_medication(ctx: Context, res: AnyMedicationResource) -> Medication | None:
    reference = res.get("medicationReference")
    target = reference.get("reference") if reference is not None else None
    if not target:
        return None
    if target.startswith("#"):
        for contained in res.get("contained", ()):
            if contained.get("resourceType") == "Medication" and contained.get("id") == target[1:]:
                try:
                    return medication_adapter.validate_python(contained)
                except ValidationError:
                    ctx.problem(ref_of(res), f"{INVALID_FHIR} (its contained Medication); the "
                                             "drug cannot be read")
                    return None
        return None
    return ctx.medications.get(target) or ctx.medications.get(reference_key(target))


def _codes(ctx: Context, res: AnyMedicationResource) -> list[CodeableConcept]:
    """The drug codes to read, best first: the product code, then a Medication's ingredients
    (a pharmacy product code the maps do not know is read by its ingredient)."""
    product = res.get("medicationCodeableConcept")
    if product is not None:
        return [product]
    medication = _referenced_medication(ctx, res)
    if medication is None:
        return []
    code = medication.get("code")
    found = [code] if code is not None else []
    found += [item for i in medication.get("ingredient", ())
              if (item := i.get("itemCodeableConcept")) is not None]
    return found


def _looks_antineoplastic(ctx: Context, res: AnyMedicationResource,
                          codes: list[CodeableConcept]) -> bool:
    atc = any(c.get("system") in ATC_SYSTEMS
              and (c.get("code") or "").startswith(ANTINEOPLASTIC_ATC_PREFIX)
              for cc in codes for c in cc.get("coding", ()))
    profiled = any(p.startswith(CANCER_MEDICATION_PROFILES) for p in profiles(res))
    for_all = any(reference_key(target) in ctx.all_conditions
                  for r in res.get("reasonReference", ()) if (target := r.get("reference")))
    return atc or profiled or for_all


def _is_intrathecal(ctx: Context, dosages: list[Dosage]) -> bool:
    return any(ctx.concept("route", d.get("route")) is not None for d in dosages)


def _period(ctx: Context, ref: str, period: Period | None) -> tuple[date | None, date | None]:
    if period is None:
        return None, None
    start = ctx.date(ref, period.get("start"), "start", allow_future=True)
    end = ctx.date(ref, period.get("end"), "end", allow_future=True) if period.get("end") else None
    return (start.earliest if start else None, end.latest if end else None)


def _day(ctx: Context, ref: str, when: str | None) -> date | None:
    day = ctx.date(ref, when, "date", allow_future=True)
    return day.earliest if day else None


def _statement_time(ctx: Context, ref: str, res: MedicationStatement,
                    status: TherapyStatus | None) -> tuple[date | None, date | None]:
    """An active (or intended) statement's dateTime is when it was asserted or started, never its
    end (FHIR_INPUT.md "Status"); a completed one's dateTime is the day it was taken."""
    period = res.get("effectivePeriod")
    if period is not None:
        return _period(ctx, ref, period)
    day = _day(ctx, ref, res.get("effectiveDateTime"))
    return (day, day if status == "given" else None)


def _request_time(ctx: Context, ref: str, res: MedicationRequest) -> date | None:
    """The order's date, else the start of its dosage period; None: the order has no date."""
    day = _day(ctx, ref, res.get("authoredOn"))
    if day is None:
        bounds = [found for d in res.get("dosageInstruction", ())
                  if (found := _bounds(d)) is not None]
        day = _period(ctx, ref, bounds[0])[0] if bounds else None
    return day


def _bounds(dosage: Dosage) -> Period | None:
    timing = dosage.get("timing")
    repeat = timing.get("repeat") if timing is not None else None
    return repeat.get("boundsPeriod") if repeat is not None else None


def add_medication(ctx: Context, res: AnyMedicationResource) -> None:
    ref = ref_of(res)
    codes = _codes(ctx, res)
    concept = ctx.first_concept("medication", codes)
    if res.get("status") in WITHDRAWN:
        return
    if concept is None:
        if _looks_antineoplastic(ctx, res, codes):
            ctx.problem(ref, f"cancer medication whose drug code is not in the code maps "
                             f"({show_codings(*codes)}); not counted as therapy")
        return
    status: TherapyStatus | None
    if res["resourceType"] == "MedicationStatement":
        status = STATEMENT_STATUS.get(res.get("status") or "")
        start, end = _statement_time(ctx, ref, res, status)
        intrathecal = _is_intrathecal(ctx, res.get("dosage", []))
    elif res["resourceType"] == "MedicationRequest":
        if res.get("intent") not in REQUEST_INTENTS:
            return
        status = REQUEST_STATUS.get(res.get("status") or "")
        start = _request_time(ctx, ref, res)
        end = start if status == "given" else None
        intrathecal = _is_intrathecal(ctx, res.get("dosageInstruction", []))
        if start is None and status is not None:
            ctx.problem(ref, f"{concept.get('agent')} ordered without a date (no authoredOn or "
                             "dosage period): when it was given is unknown")
    else:
        status = ADMINISTRATION_STATUS.get(res.get("status") or "")
        period = res.get("effectivePeriod")
        if period is not None:
            start, end = _period(ctx, ref, period)
        else:  # one dose, given on its date
            start = end = _day(ctx, ref, res.get("effectiveDateTime"))
        dosage = res.get("dosage")
        intrathecal = _is_intrathecal(ctx, [dosage] if dosage is not None else [])
    if status is None:
        ctx.problem(ref, f"{concept.get('agent')} with status '{str(res.get('status'))[:40]}' that is "
                         "not understood; not counted as therapy")
        return
    if start is not None and start > ctx.as_of:
        if status == "given":
            ctx.problem(ref, "recorded as given but starts after the assessment date; ignored")
            return
        status = "planned"
    ctx.therapies.append({
        "refs": (ref,), "agent": concept.get("agent"), "status": status, "start": start,
        "end": end, "intrathecal": intrathecal,
        "antileukemic": concept.get("antileukemic", True)})
