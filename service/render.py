"""Assessment (OUTPUT.md §1) → CDS Hooks 2.0 cards (OUTPUT.md §2).

Renders what the assessment holds and nothing more, in the order of OUTPUT.md §2: the summary
card first (carrying the whole assessment in its ``extension``), one card per warning (critical
ones first), one per recommendation step, and one card for missing facts and unusable records.
The cards themselves are built in ``service.cards``; ``records`` (from
:func:`service.cards.records.records_of`) lets them name the records they rest on in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.cards.advice import recommendation_cards, warning_cards
from service.cards.card import RenderedCard, finish
from service.cards.missing import missing_card
from service.cards.orders import ORDER_FOR_RECOMMENDATION
from service.cards.records import Record
from service.cards.summary import ASSESSMENT_KEY, summary_card

__all__ = ["ASSESSMENT_KEY", "RenderedCard", "failure_card", "render_cards"]


def render_cards(assessment: dict[str, Any], hook_instance: str, patient_ref: str,
                 records: Mapping[str, Record] | None = None,
                 summary_links: Sequence[Mapping[str, Any]] = ()) -> list[RenderedCard]:
    """The cards for one assessment; none when it is not applicable.  ``summary_links``: the
    summary card's ``links`` (e.g. a SMART link to the relapse view)."""
    if not assessment.get("applicable"):
        return []
    records = records or {}
    offered = {ORDER_FOR_RECOMMENDATION[r["code"]] for r in assessment.get("recommendations", [])
               if r.get("code") in ORDER_FOR_RECOMMENDATION}
    drafts = [summary_card(assessment, records, summary_links),
              *warning_cards(assessment, records, patient_ref),
              *recommendation_cards(assessment, records, patient_ref)]
    missing = missing_card(assessment, records, patient_ref, offered)
    if missing is not None:
        drafts.append(missing)
    return [finish(kind, card, hook_instance) for kind, card in drafts]


def failure_card(hook_instance: str) -> RenderedCard:
    """A card saying the record could not be assessed, so that a failure never looks like
    "nothing to say"."""
    card = {
        "summary": "Relapsed ALL decision support could not assess this record",
        "indicator": "warning",
        "detail": ("The service failed while assessing this patient's record, so it gives no "
                   "relapse classification, risk group or advice for it. Use the protocol "
                   "directly; the failure is logged for the service's administrators."),
        "source": {"label": "Relapsed ALL decision support"},  # no article: nothing was assessed
    }
    return finish("assessment-failed", card, hook_instance)
