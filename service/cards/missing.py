"""The missing-data card: which facts would change the result, what each would settle and how to
record it; then the records that could not be used, and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.cards.card import ADULT_REVIEW, PEDIATRIC_REVIEW, is_adult, source
from service.cards.labels import labels, words
from service.cards.markdown import md, shorten
from service.cards.orders import ORDER_FOR_MISSING, with_orders
from service.cards.records import Record, name


def missing_card(assessment: dict[str, Any], records: Mapping[str, Record], patient_ref: str,
                 offered: set[str]) -> tuple[str, dict[str, Any]] | None:
    """The card, or None when nothing is missing and every record could be used."""
    missing, problems = assessment.get("missing", []), assessment.get("problems", [])
    if not missing and not problems:
        return None
    words_ = labels()
    names = ", ".join(words_.fact(str(m.get("fact", ""))) for m in missing)
    if missing:
        noun = "fact" if len(missing) == 1 else "facts"
        summary = f"{len(missing)} missing {noun} would change the result: {names}"
    else:
        summary = f"{len(problems)} record{'s' if len(problems) > 1 else ''} could not be used"
    rows = [f"| {md(words_.fact(str(m.get('fact', ''))))} | {md(_settles(m))} "
            f"| {md(words(str(m.get('how', ''))))} |" for m in missing]
    parts = []
    if rows:
        parts.append("| Missing | What it would settle | How to record it |\n|---|---|---|\n"
                     + "\n".join(rows))
    if problems:
        parts.append("**Records not used**\n\n" + "\n".join(
            f"- {md(name(str(p.get('ref', '')), records))}: {md(words(str(p.get('problem', ''))))}"
            for p in problems))
    adult = is_adult(assessment)
    card: dict[str, Any] = {
        "summary": shorten(summary),
        "indicator": "info",
        "detail": "\n\n".join(parts),
        "source": source([ADULT_REVIEW if adult else PEDIATRIC_REVIEW], adult=adult),
    }
    orders = sorted({ORDER_FOR_MISSING[m["fact"]] for m in missing
                     if m.get("fact") in ORDER_FOR_MISSING} - offered)
    return "missing-data", with_orders(card, orders, patient_ref, [])


def _settles(missing: dict[str, Any]) -> str:
    affects = ", ".join(labels().affects.get(a, a) for a in missing.get("affects", []))
    decides = missing.get("decides")
    return f"{affects}: {words(decides.replace(' | ', '; '))}" if decides else affects
