"""One order-select / order-sign call: the record and the drafts → the cards (the HTTP layer in
``service.app`` hands the call here in one line)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from service.hooks.request import HookRequest
from service.mapping import CodeMaps
from service.orders.cards import order_cards
from service.orders.drafts import DraftOrders
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
