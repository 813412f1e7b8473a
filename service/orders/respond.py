"""One order-select / order-sign call: the record and the drafts → the cards (the HTTP layer in
``service.app`` hands the call here in one line); and the same checks on a replayed bundle."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from service.fhir.bundle import bundle_resources
from service.hooks.request import HookRequest
from service.mapping import CodeMaps
from service.orders.cards import order_cards
from service.orders.drafts import DraftOrders, drafts_in_record
from service.orders.evaluate import review
from service.render import RenderedCard, failure_card

log = logging.getLogger(__name__)


def check_orders(hook: HookRequest, record: list[dict[str, Any]], orders: DraftOrders,
                 maps: CodeMaps) -> list[RenderedCard]:
    """The cards for the drafts; a failure is said on a card, never answered with no cards
    (which would read as "nothing unsafe")."""
    try:
        found = review(record, orders, maps=maps, as_of=date.today(), patient_id=hook.patient_id)
        patient_ref = found.assessment.get("patient") or f"Patient/{hook.patient_id}"
        return order_cards(found, hook.hook_instance, patient_ref)
    except Exception as exc:
        log.error("order check failed: %s", type(exc).__name__)
        return [failure_card(hook.hook_instance)]


def replay_order_cards(bundle: dict[str, Any], *, as_of: date | None, maps: CodeMaps,
                       hook_instance: str) -> list[dict[str, Any]]:
    """The order cards of a replayed bundle's draft MedicationRequests (none without drafts)."""
    as_of = as_of or date.today()
    record, orders = drafts_in_record(bundle_resources(bundle), as_of)
    if not orders.drafts:
        return []
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    full_urls = {e["fullUrl"]: e["resource"] for e in entries or []
                 if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)
                 and isinstance(e.get("resource"), dict)}
    found = review(record, orders, maps=maps, as_of=as_of, full_urls=full_urls)
    patient_ref = str(found.assessment.get("patient") or "Patient")
    return [r.card for r in order_cards(found, hook_instance, patient_ref)]
