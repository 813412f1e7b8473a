"""Warning and recommendation cards: the advice's first sentence as the summary, the rest of its
text in the detail, then what it rests on (the facts with their values), the records it was read
from, and its sources.  Recommendations a clinician reads as one step (``labels.yaml`` steps)
share one card.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.cards.card import is_adult, source, sources_line
from service.cards.labels import Step, labels, words
from service.cards.markdown import md, split_summary
from service.cards.orders import ORDER_FOR_RECOMMENDATION, with_orders
from service.cards.records import Record, from_line

SEVERITY_ORDER = {"critical": 0, "warning": 1}
OVERRIDE_SYSTEM = "urn:relapsed-all-cds:override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "already-addressed", "display": "Already addressed"},
    {"system": OVERRIDE_SYSTEM, "code": "record-incorrect",
     "display": "The record is incorrect or out of date"},
    {"system": OVERRIDE_SYSTEM, "code": "not-applicable",
     "display": "Does not apply to this patient (clinical judgement)"},
]


def warning_cards(assessment: dict[str, Any], records: Mapping[str, Record],
                  patient_ref: str) -> list[tuple[str, dict[str, Any]]]:
    """One card per warning, critical ones first."""
    warnings = sorted(assessment.get("warnings", []),
                      key=lambda w: SEVERITY_ORDER.get(w.get("severity", "warning"), 2))
    return [_card("warning", [w], None, assessment, records, patient_ref) for w in warnings]


def recommendation_cards(assessment: dict[str, Any], records: Mapping[str, Record],
                         patient_ref: str) -> list[tuple[str, dict[str, Any]]]:
    """One card per step, where the first of its recommendations stands."""
    recommendations = assessment.get("recommendations", [])
    codes = [r.get("code") for r in recommendations]
    steps = {code: step for step in labels().steps
             if sum(c in codes for c in step.codes) > 1 for code in step.codes}
    cards, shown = [], set()
    for advice in recommendations:
        step = steps.get(advice.get("code"))
        if step is None:
            cards.append(_card("recommendation", [advice], None, assessment, records, patient_ref))
        elif step not in shown:
            shown.add(step)
            items = [r for c in step.codes for r in recommendations if r.get("code") == c]
            cards.append(_card("recommendation", items, step, assessment, records, patient_ref))
    return cards


def _card(kind: str, items: list[dict[str, Any]], step: Step | None, assessment: dict[str, Any],
          records: Mapping[str, Record], patient_ref: str) -> tuple[str, dict[str, Any]]:
    sources = [s for a in items for s in a.get("sources", [])]
    refs = list(dict.fromkeys(r for a in items for r in a.get("refs", [])))
    if step is None:
        summary, rest = split_summary(words(items[0].get("text", "")))
        texts = [md(rest)] if rest else []
    else:
        summary, texts = step.summary, [f"- {md(words(a.get('text', '')))}" for a in items]
    rests_on = list(dict.fromkeys(f for a in items for f in a.get("rests_on", [])))
    parts = [
        "\n".join(texts),
        "**Rests on**: " + "; ".join(md(fact_phrase(f, assessment)) for f in rests_on)
        if rests_on else "",
        f"**From**: {md(from_line(refs, records))}" if refs else "",
        sources_line(sources),
    ]
    card: dict[str, Any] = {
        "summary": summary,
        "indicator": items[0].get("severity", "warning") if kind == "warning" else "info",
        "detail": "\n\n".join(p for p in parts if p),
        "source": source(sources, adult=is_adult(assessment)),
    }
    if kind == "warning":
        card["overrideReasons"] = OVERRIDE_REASONS
    else:
        orders = [ORDER_FOR_RECOMMENDATION[a["code"]] for a in items
                  if a.get("code") in ORDER_FOR_RECOMMENDATION]
        with_orders(card, orders, patient_ref, refs)
    code = "+".join(str(a.get("code", "unknown")) for a in items)
    return f"{kind}/{code}", card


def fact_phrase(fact: str, assessment: dict[str, Any]) -> str:
    """A fact an advice rests on, with its value where the assessment has one."""
    words_ = labels()
    label = words_.fact(fact)
    cited = next((e for e in assessment.get("evidence", []) if e.get("fact") == fact), None)
    if cited is not None and cited.get("value") is not None:
        return f"{label} {words_.value(cited['value'])}"
    if any(m.get("fact") == fact for m in assessment.get("missing", [])):
        return f"{label} not recorded"
    if fact == "population" and assessment.get("population"):
        return words_.value(assessment["population"])
    return label
