"""The service definition, as data: what ``GET /cds-services`` lists.

Prefetch templates use only ``{{context.patientId}}``; the Observation search is narrowed to
the codes the code maps know, so a site that adds a local code gets it prefetched too.
"""

from __future__ import annotations

from typing import Any

from service.mapping import CodeMaps
from service.orders.services import definitions as order_definitions

SERVICE_ID = "relapsed-all"
HOOK = "patient-view"
PATIENT = "{{context.patientId}}"

# Prefetch keys without which no assessment is possible (missing → 412).
REQUIRED_KEYS = ("patient", "conditions")


def prefetch_templates(maps: CodeMaps) -> dict[str, str]:
    codes = ",".join(f"{system}|{code}" for system, code in maps.codes_for("observation"))
    return {
        "patient": f"Patient/{PATIENT}",
        "conditions": f"Condition?patient={PATIENT}",
        "observations": f"Observation?patient={PATIENT}&code={codes}",
        # _include brings the Medication a resource references, so that a product code the maps do
        # not know is read by its ingredients (FHIR_INPUT.md "Medications")
        "medications": f"MedicationStatement?patient={PATIENT}&_include=MedicationStatement:medication",
        "medicationRequests": f"MedicationRequest?patient={PATIENT}&_include=MedicationRequest:medication",
        # administration-only histories (an EHR's MAR) are doses given on their dates
        "medicationAdministrations": (f"MedicationAdministration?patient={PATIENT}"
                                      "&_include=MedicationAdministration:medication"),
        "procedures": f"Procedure?patient={PATIENT}",
    }


def service_definition(maps: CodeMaps) -> dict[str, Any]:
    return {
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "Relapsed ALL risk stratification",
        "description": (
            "For a patient with relapsed or refractory acute lymphoblastic leukemia: the relapse "
            "(number, site, immunophenotype, timing), the risk group under the BFM, UK, I-BFM "
            "and COG schemes, the next treatment decisions with their sources, safety warnings "
            "and the missing facts that would change the result."
        ),
        "prefetch": prefetch_templates(maps),
        "usageRequirements": (
            "FHIR R4. Needs the patient's Patient, Condition (ALL diagnosis and each relapse with "
            "its onset date and bodySite) and Observation (marrow blasts, CSF, MRD, CD19/CD22, "
            "genetics) resources; MedicationStatement/MedicationRequest/MedicationAdministration (with "
            "their Medication) and Procedure improve "
            "the timing and HSCT/CAR-T history. Decision support for specialists in pediatric "
            "or adult leukemia: it does not replace a protocol or a tumour board."
        ),
    }


def discovery_document(maps: CodeMaps) -> dict[str, Any]:
    # the order services (order-select, order-sign) share this prefetch
    return {"services": [service_definition(maps), *order_definitions(prefetch_templates(maps))]}
