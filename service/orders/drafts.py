"""The orders being written (``context.draftOrders``, ``selections``) as entries of the record.

Each draft becomes what the extractor reads as planned therapy (CLINICAL_RULES §6 "planned"):
- a MedicationRequest: itself with status ``draft`` (an intent the extractor does not read
  becomes ``order``); without a date (no ``authoredOn``, no dosage period) it is dated today,
  since it is being written now;
- a ServiceRequest (radiotherapy, CAR-T infusion, HSCT): a Procedure in ``preparation`` with its
  code, bodySite, extensions and date;
- a Procedure: itself in ``preparation``.
Other drafts (NutritionOrder, …) concern no §6 check and are not read.  A draft replaces a record
resource of the same type and id (the EHR may already hold the draft).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.extract.medications import REQUEST_INTENTS
from service.hooks.prefetch import of_patient
from service.hooks.request import FHIR_ID, InvalidRequest

READ_KINDS = ("MedicationRequest", "ServiceRequest", "Procedure")
DERIVED_ID = "cds-draft-{n}"  # the id of a draft that has none, or of a ServiceRequest's Procedure
MAX_SELECTIONS = 200


@dataclass(frozen=True)
class Draft:
    """One draft order: ``ref`` is how the EHR names it (the target of a delete; None when the
    draft has no id), ``read_as`` the record entry it became, ``resource`` the draft as sent."""

    ref: str | None
    read_as: str
    resource: dict[str, Any]
    entry: dict[str, Any]


@dataclass(frozen=True)
class DraftOrders:
    drafts: tuple[Draft, ...]
    selections: frozenset[str] | None  # order-select: the chosen drafts; None: every draft
    medications: tuple[dict[str, Any], ...] = ()  # Medication resources sent with the drafts
    full_urls: Mapping[str, dict[str, Any]] | None = None

    def shown(self) -> list[Draft]:
        """The drafts a card may be about (on order-select, the selected ones only)."""
        if self.selections is None:
            return list(self.drafts)
        return [d for d in self.drafts if d.ref in self.selections]

    def concerned(self, refs: Iterable[str]) -> list[Draft]:
        cited = set(refs)
        return [d for d in self.shown() if d.read_as in cited]

    def with_record(self, record: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The record with the drafts in it (a draft replaces the record's copy of itself)."""
        replaced = {(d.entry["resourceType"], d.entry["id"]) for d in self.drafts}
        kept = [r for r in record if not isinstance(r.get("id"), str)
                or (r.get("resourceType"), r["id"]) not in replaced]
        return [*kept, *self.medications, *(d.entry for d in self.drafts)]


def parse_orders(context: Mapping[str, Any], hook: str, patient_id: str,
                 as_of: date) -> DraftOrders:
    """The draft orders of an ``order-select`` / ``order-sign`` context (400 when malformed)."""
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidRequest("'context.draftOrders' must be a FHIR Bundle")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise InvalidRequest("'context.draftOrders.entry' must be an array")
    resources = []
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        where = f"'context.draftOrders.entry[{n}].resource'"
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise InvalidRequest(f"{where} must be a FHIR resource")
        if "id" in resource and not (isinstance(resource["id"], str)
                                     and FHIR_ID.fullmatch(resource["id"])):
            raise InvalidRequest(f"{where}.id must be a FHIR id")
        if not of_patient(resource, patient_id):
            raise InvalidRequest(f"{where} is for another patient")
        resources.append(resource)
    full_urls = {e["fullUrl"]: e["resource"] for e in entries
                 if isinstance(e.get("fullUrl"), str) and e["resource"].get("resourceType")
                 == "Medication"}
    return DraftOrders(drafts=read_drafts(resources, as_of),
                       selections=_selections(context, hook),
                       medications=tuple(r for r in resources if r["resourceType"] == "Medication"),
                       full_urls=full_urls)


def drafts_in_record(resources: list[dict[str, Any]], as_of: date) -> tuple[
        list[dict[str, Any]], DraftOrders]:
    """Replay: a bundle's MedicationRequests with status ``draft`` and intent ``order`` or
    ``plan`` are checked as draft orders; the rest is the record."""
    drafts = [r for r in resources if r.get("resourceType") == "MedicationRequest"
              and r.get("status") == "draft" and r.get("intent") in ("order", "plan")]
    record = [r for r in resources if not any(r is d for d in drafts)]
    return record, DraftOrders(drafts=read_drafts(drafts, as_of), selections=None)


def read_drafts(resources: Iterable[dict[str, Any]], as_of: date) -> tuple[Draft, ...]:
    found = []
    for n, resource in enumerate(r for r in resources if r.get("resourceType") in READ_KINDS):
        own_id = resource.get("id")
        derived = DERIVED_ID.format(n=n)
        ref = f"{resource['resourceType']}/{own_id}" if isinstance(own_id, str) else None
        entry = _as_record_entry(resource, own_id if isinstance(own_id, str) else derived,
                                 derived, as_of)
        found.append(Draft(ref, f"{entry['resourceType']}/{entry['id']}", resource, entry))
    return tuple(found)


def _as_record_entry(draft: dict[str, Any], own_id: str, derived_id: str,
                     as_of: date) -> dict[str, Any]:
    kind = draft["resourceType"]
    if kind == "MedicationRequest":
        entry = {**draft, "id": own_id, "status": "draft"}
        if not isinstance(entry.get("intent"), str) or entry["intent"] not in REQUEST_INTENTS:
            entry["intent"] = "order"
        if "authoredOn" not in entry and not _has_dosage_period(entry):
            entry["authoredOn"] = as_of.isoformat()
        return entry
    if kind == "Procedure":
        return {**draft, "id": own_id, "status": "preparation"}
    procedure = {"resourceType": "Procedure", "id": derived_id, "status": "preparation",
                 "performedDateTime": _service_date(draft) or as_of.isoformat()}
    for field in ("subject", "code", "bodySite", "extension"):
        if field in draft:
            procedure[field] = draft[field]
    return procedure


def _has_dosage_period(request: dict[str, Any]) -> bool:
    dosages = request.get("dosageInstruction")
    return isinstance(dosages, list) and any(
        isinstance(d, dict) and isinstance(d.get("timing"), dict)
        and isinstance(d["timing"].get("repeat"), dict)
        and isinstance(d["timing"]["repeat"].get("boundsPeriod"), dict) for d in dosages)


def _service_date(request: dict[str, Any]) -> str | None:
    period = request.get("occurrencePeriod")
    for value in (request.get("occurrenceDateTime"),
                  period.get("start") if isinstance(period, dict) else None,
                  request.get("authoredOn")):
        if isinstance(value, str):
            return value
    return None


def _selections(context: Mapping[str, Any], hook: str) -> frozenset[str] | None:
    if hook != "order-select":
        return None
    selections = context.get("selections")
    if not isinstance(selections, list) or not selections or len(selections) > MAX_SELECTIONS \
            or not all(isinstance(s, str) and 0 < len(s) <= 200 for s in selections):
        raise InvalidRequest("'context.selections' must be a non-empty array of references to "
                             "draft orders (e.g. 'MedicationRequest/123')")
    return frozenset(selections)
