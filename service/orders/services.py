"""The order services, as data: what ``GET /cds-services`` lists beside patient-view.

They share the patient-view prefetch templates (given by ``service.hooks.discovery``), FHIR
fallback, authentication and feedback (``service/hooks/``); what differs is the hook and the draft
orders read from its context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderService:
    id: str
    hook: str
    title: str
    description: str


ORDER_SERVICES = (
    OrderService(
        id="relapsed-all-order-select", hook="order-select",
        title="Relapsed ALL order safety (while ordering)",
        description=(
            "While a therapy is chosen for a patient with relapsed acute lymphoblastic leukemia: "
            "checks the selected draft orders against the patient's current relapse (CNS status, "
            "CD19, planned HSCT, prior cranial radiation, prior blinatumomab) and the other draft "
            "orders, by the safety rules of the source reviews; one card per problem, with a "
            "suggestion that removes the draft and, where the sources give one, a safer "
            "alternative.")),
    OrderService(
        id="relapsed-all-order-sign", hook="order-sign",
        title="Relapsed ALL order safety (before signing)",
        description=(
            "Before the orders for a patient with relapsed acute lymphoblastic leukemia are "
            "signed: the same safety checks on every draft order; no card when nothing is "
            "unsafe.")),
)
BY_ID = {s.id: s for s in ORDER_SERVICES}

USAGE = (
    "FHIR R4. context.draftOrders: a Bundle of MedicationRequest (RxNorm, ATC or local drug "
    "codes, or a Medication with them), ServiceRequest or Procedure (radiotherapy with bodySite, "
    "CAR-T infusion, HSCT) drafts, each with an id so that a card can remove it; order-select "
    "also reads context.selections. The record is read as for patient-view. Decision support "
    "for specialists in pediatric or adult leukemia: the prescriber decides.")


def definitions(prefetch: dict[str, str]) -> list[dict[str, Any]]:
    """Their discovery entries, with the patient-view service's ``prefetch`` templates."""
    return [{"hook": s.hook, "id": s.id, "title": s.title, "description": s.description,
             "prefetch": prefetch, "usageRequirements": USAGE}
            for s in ORDER_SERVICES]
