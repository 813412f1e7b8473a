"""Procedures → HSCT, radiotherapy (with dose), CAR-T infusion, orchiectomy (FHIR_INPUT.md)."""

from __future__ import annotations

from decimal import Decimal

from service.extract.context import Context, ref_of
from service.facts import PatientFacts, ProcedureFact
from service.fhir.lean import Extension, Procedure

DONE = {"completed": "done", "preparation": "planned", "in-progress": "planned"}
WITHDRAWN = {"not-done", "entered-in-error"}
DOSE_EXTENSION = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                  "mcode-radiotherapy-dose-delivered-to-volume")
GY_PER_UNIT = {"cGy": Decimal("0.01"), "Gy": Decimal(1)}


def _dose_gy(ctx: Context, ref: str, extensions: list[Extension]) -> float | None:
    for ext in extensions:
        if ext.get("url") != DOSE_EXTENSION:
            continue
        for sub in ext.get("extension", ()):
            q = sub.get("valueQuantity")
            if sub.get("url") != "totalDoseDelivered" or q is None or q.get("value") is None:
                continue
            unit = q.get("code") or q.get("unit") or ""
            if unit not in GY_PER_UNIT:
                ctx.problem(ref, f"radiation dose unit '{unit}' not understood; dose ignored")
                return None
            return float(Decimal(str(q.get("value"))) * GY_PER_UNIT[unit])
    return None


def add_procedure(ctx: Context, proc: Procedure, facts: PatientFacts) -> None:
    concept = ctx.concept("procedure", proc.get("code"))
    status = DONE.get(proc.get("status") or "")
    if concept is None or proc.get("status") in WITHDRAWN:
        return
    ref = ref_of(proc)
    if status is None:
        ctx.problem(ref, f"{concept.get('kind')} with status '{str(proc.get('status'))[:40]}' that is "
                         "not understood; not counted")
        return
    period = proc.get("performedPeriod")
    when_text = proc.get("performedDateTime") or (period.get("start") if period is not None else None)
    when = ctx.date(ref, when_text, "performed date", allow_future=status == "planned")
    kind = concept.get("kind")
    if kind == "hsct-unspecified":
        ctx.problem(ref, "stem cell transplant without its type: not counted as an allogeneic "
                         "HSCT; record whether it was allogeneic or autologous")
    regions = frozenset(c.get("region") for site in proc.get("bodySite", ())
                        for c in ctx.concepts("radiotherapy-region", site))
    dose = _dose_gy(ctx, ref, proc.get("extension", [])) if kind == "radiotherapy" else None
    facts.procedures.append(ProcedureFact(
        refs=(ref,), kind=kind, status=status, when=when.earliest if when else None,
        regions=regions, dose_gy=dose))
