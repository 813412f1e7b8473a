"""Orders a card may offer: draft ServiceRequest ``create`` suggestions (MRD, HLA typing, lumbar
puncture; never medications)."""

from __future__ import annotations

from typing import Any

CONCEPT_SYSTEM = "urn:relapsed-all-cds:concept"

# Orders: (label, local code, text of the ServiceRequest).
ORDERS = {
    "mrd": ("Order bone marrow MRD assessment", "mrd-assessment-order",
            "Bone marrow minimal residual disease (MRD) assessment"),
    "hla": ("Order HLA typing for donor search", "hla-typing-order",
            "HLA typing of the patient and family for donor search"),
    "lp": ("Order lumbar puncture with CSF cytology", "lumbar-puncture-order",
           "Lumbar puncture with CSF cell count and cytospin"),
}
ORDER_FOR_RECOMMENDATION = {"mrd-assessment": "mrd", "donor-search": "hla",
                            "repeat-lumbar-puncture": "lp"}
ORDER_FOR_MISSING = {"mrd-end-of-reinduction": "mrd", "csf-findings": "lp"}


def order_suggestion(order: str, patient_ref: str, refs: list[str]) -> dict[str, Any]:
    label, code, text = ORDERS[order]
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {"coding": [{"system": CONCEPT_SYSTEM, "code": code, "display": text}],
                 "text": text},
        "subject": {"reference": patient_ref},
        "reasonReference": [{"reference": r} for r in refs if r.startswith("Condition/")],
    }
    return {"label": label, "isRecommended": True,
            "actions": [{"type": "create", "description": label, "resource": request}]}


def with_orders(card: dict[str, Any], orders: list[str], patient_ref: str,
                refs: list[str]) -> dict[str, Any]:
    """The card with a suggestion per order (none: the card unchanged)."""
    if orders:
        card["suggestions"] = [order_suggestion(o, patient_ref, refs) for o in orders]
        card["selectionBehavior"] = "any"
    return card
