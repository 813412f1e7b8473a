"""A ``patient-view`` request whose prefetch is filled from a saved Bundle, as an EHR would send
it: one searchset per prefetch key.  Used by ``relapsed-all-cds hook-request`` to try the service
with curl on a fixture."""

from __future__ import annotations

import uuid
from typing import Any

from service.fhir.bundle import bundle_resources
from service.hooks.discovery import HOOK

KEY_OF_TYPE = {"Condition": "conditions", "Observation": "observations",
               "MedicationStatement": "medications", "Medication": "medications",
               "MedicationRequest": "medicationRequests",
               "MedicationAdministration": "medicationAdministrations", "Procedure": "procedures"}


def hook_request(bundle: dict[str, Any]) -> dict[str, Any]:
    resources = bundle_resources(bundle)
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    if patient is None or not patient.get("id"):
        raise ValueError("the bundle holds no Patient with an id")
    prefetch: dict[str, Any] = {"patient": patient}
    for key in dict.fromkeys(KEY_OF_TYPE.values()):
        entries = [{"resource": r} for r in resources if KEY_OF_TYPE.get(r.get("resourceType", "")) == key]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                         **({"entry": entries} if entries else {})}
    return {"hook": HOOK, "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/example", "patientId": patient["id"]},
            "prefetch": prefetch}
