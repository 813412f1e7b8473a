"""Patients with a current relapse, and the draft orders a prescriber writes for them: one
patient per CLINICAL_RULES §6 check an order can trigger (dated relative to today, as the service
assesses "as of" today)."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

import builders as b
from dateutil.relativedelta import relativedelta

PRESCRIBED_DOSE = ("http://hl7.org/fhir/us/codex-radiation-therapy/StructureDefinition/"
                   "codexrt-radiotherapy-dose-prescribed-to-volume")


def ago(months: int = 0, days: int = 0) -> str:
    return (date.today() - relativedelta(months=months, days=days)).isoformat()


def _relapse(phenotype: str, site: str, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A child (born 2014) with ALL diagnosed 40 months ago, frontline ended 14 months ago, and
    a first relapse a month ago at ``site`` (marrow, or isolated CNS)."""
    day = ago(1)
    found = [b.patient("2014-01-01"), b.diagnosis(ago(40), phenotype), b.relapse(day),
             b.medication("103", ago(36), ago(14))]
    if site == "cns":
        found += [b.marrow(day, 1), *b.csf(day, 10, 2, True)]
    elif site == "marrow, no CSF":
        found += [b.marrow(day, 60)]
    else:
        found += [b.marrow(day, 60), *b.csf(day, 1, 0, False)]
    return found + extra


def _as_patient(resources: list[dict[str, Any]], pid: str) -> dict[str, Any]:
    """The resources as patient ``pid``'s record (builders name Patient/pt)."""
    moved = copy.deepcopy(resources)
    for r in moved:
        if r["resourceType"] == "Patient":
            r["id"] = pid
        else:
            r["id"] = f"{pid}-{r['id']}"
            r["subject"] = b.ref(pid)
    return b.bundle(*moved)


def _radiotherapy_done(cgy: float) -> dict[str, Any]:
    return b.procedure("108290001", ago(30), body_sites=("12738006",), dose_cgy=cgy)


CD19_POSITIVE = b.coded_obs("cd19-blasts", ago(1), True)

PATIENTS: dict[str, dict[str, Any]] = {
    "ord-cns": _as_patient(_relapse("B", "cns", [CD19_POSITIVE]), "ord-cns"),
    "ord-cd19neg": _as_patient(_relapse("B", "marrow", [
        b.coded_obs("cd19-blasts", ago(1), False), b.coded_obs("cd22-blasts", ago(1), True)]),
        "ord-cd19neg"),
    "ord-vod": _as_patient(_relapse("B", "marrow", [
        b.medication("1942950", ago(0, 20), ago(0, 14))]), "ord-vod"),
    "ord-nelarabine": _as_patient(_relapse("T", "marrow", [
        b.medication("6851", ago(0, 5), ago(0, 5), intrathecal=True)]), "ord-nelarabine"),
    "ord-cranial": _as_patient(_relapse("B", "cns", [_radiotherapy_done(2400)]), "ord-cranial"),
    "ord-car-t": _as_patient(_relapse("B", "marrow", [
        CD19_POSITIVE, b.medication("1597258", ago(0, 25), ago(0, 10))]), "ord-car-t"),
    # the deciding result missing: no lumbar puncture yet; CD19 not tested
    "ord-no-csf": _as_patient(_relapse("B", "marrow, no CSF", [CD19_POSITIVE]), "ord-no-csf"),
    "ord-cd19-untested": _as_patient(_relapse("B", "marrow", []), "ord-cd19-untested"),
}


# --- draft orders, as an EHR's order entry writes them -----------------------------------------

def medication_draft(code: str, text: str, *, system: str = b.RXNORM, pid: str = "pt",
                     intrathecal: bool = False, **extra: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": f"draft-{uuid.uuid4().hex[:12]}",
        "status": "draft", "intent": "order", "subject": b.ref(pid),
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}], "text": text},
        **extra}
    if intrathecal:
        draft["dosageInstruction"] = [{"route": {"coding": [{"system": b.SCT, "code": "72607000"}]}}]
    return draft


def service_draft(code: str, text: str, *, pid: str = "pt", system: str = b.SCT,
                  body_sites: tuple[str, ...] = (), dose_cgy: float | None = None) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": f"draft-{uuid.uuid4().hex[:12]}",
        "status": "draft", "intent": "order", "subject": b.ref(pid),
        "code": {"coding": [{"system": system, "code": code}], "text": text}}
    if body_sites:
        draft["bodySite"] = [{"coding": [{"system": b.SCT, "code": c}]} for c in body_sites]
    if dose_cgy is not None:
        draft["extension"] = [{"url": PRESCRIBED_DOSE, "extension": [
            {"url": "volume", "valueReference": {"reference": "BodyStructure/brain"}},
            {"url": "totalDose", "valueQuantity": {"value": dose_cgy, "unit": "cGy",
                                                   "system": b.UCUM, "code": "cGy"}}]}]
    return draft


def draft_bundle(*drafts: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": d} for d in drafts]}


def blinatumomab(pid: str) -> dict[str, Any]:
    return medication_draft("1597258", "Blinatumomab 28 mcg/day continuous infusion", pid=pid)


def car_t(pid: str) -> dict[str, Any]:
    return medication_draft("tisagenlecleucel", "Tisagenlecleucel infusion", system=b.LOCAL,
                            pid=pid)


def inotuzumab(pid: str) -> dict[str, Any]:
    return medication_draft("1942950", "Inotuzumab ozogamicin 0.8 mg/m2", pid=pid)


def nelarabine(pid: str) -> dict[str, Any]:
    return medication_draft("274771", "Nelarabine 650 mg/m2", pid=pid)


def hsct(pid: str) -> dict[str, Any]:
    return service_draft("234336002", "Allogeneic stem cell transplant", pid=pid)


def cranial_radiation(pid: str, dose_cgy: float) -> dict[str, Any]:
    return service_draft("108290001", "Cranial radiotherapy", pid=pid, body_sites=("12738006",),
                         dose_cgy=dose_cgy)


def vincristine(pid: str) -> dict[str, Any]:
    return medication_draft("11202", "Vincristine 1.5 mg/m2", pid=pid)
