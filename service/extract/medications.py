"""MedicationStatement / Request / Administration → therapy facts (FHIR_INPUT.md "Medications")."""

from __future__ import annotations

from datetime import date

from service.extract.context import Context, ref_of
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

AnyMedicationResource = MedicationStatement | MedicationRequest | MedicationAdministration


def _medication_code(ctx: Context, res: AnyMedicationResource) -> CodeableConcept | None:
    if res.medicationCodeableConcept is not None:
        return res.medicationCodeableConcept
    target = res.medicationReference.reference if res.medicationReference else None
    if not target:
        return None
    if target.startswith("#"):
        for contained in res.contained:
            if contained.get("resourceType") == "Medication" and contained.get("id") == target[1:]:
                return Medication.model_validate(contained).code
        return None
    key = "/".join(target.split("/_history")[0].rstrip("/").split("/")[-2:])
    medication = ctx.medications.get(target) or ctx.medications.get(key)
    return medication.code if medication else None


def _is_intrathecal(ctx: Context, dosages: list[Dosage]) -> bool:
    return any(ctx.concept("route", d.route) is not None for d in dosages)


def _period(ctx: Context, ref: str, when: str | None,
            period: Period | None) -> tuple[date | None, date | None]:
    if period is not None:
        start = ctx.date(ref, period.start, "start", allow_future=True)
        end = ctx.date(ref, period.end, "end", allow_future=True) if period.end else None
        return (start.earliest if start else None, end.latest if end else None)
    day = ctx.date(ref, when, "date", allow_future=True)
    return (day.earliest, day.latest) if day else (None, None)


def add_medication(ctx: Context, res: AnyMedicationResource, facts: PatientFacts) -> None:
    ref = ref_of(res)
    concept = ctx.concept("medication", _medication_code(ctx, res))
    if concept is None:
        return
    status: TherapyStatus | None
    if isinstance(res, MedicationStatement):
        status = STATEMENT_STATUS.get(res.status or "")
        start, end = _period(ctx, ref, res.effectiveDateTime, res.effectivePeriod)
        intrathecal = _is_intrathecal(ctx, res.dosage)
    elif isinstance(res, MedicationRequest):
        status = REQUEST_STATUS.get(res.status or "") if res.intent in REQUEST_INTENTS else None
        start, end = _period(ctx, ref, res.authoredOn, None)
        end = end if status == "given" else None
        intrathecal = _is_intrathecal(ctx, res.dosageInstruction)
    else:
        status = ADMINISTRATION_STATUS.get(res.status or "")
        start, end = _period(ctx, ref, res.effectiveDateTime, res.effectivePeriod)
        intrathecal = _is_intrathecal(ctx, [res.dosage] if res.dosage else [])
    if status is None:
        return
    if start is not None and start > ctx.as_of:
        if status == "given":
            ctx.problem(ref, "recorded as given but starts after the assessment date; ignored")
            return
        status = "planned"
    facts.therapies.append(Therapy(
        refs=(ref,), agent=concept.get("agent"), status=status, start=start, end=end,
        intrathecal=intrathecal, antileukemic=concept.get("antileukemic", True)))
