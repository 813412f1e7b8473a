"""Order problems → CDS Hooks 2.0 cards: one per problem, naming the drugs and the drafts.

A card says what it rests on (the §6 rule, the engine's reasons, the record's references, the
sources), offers to remove each draft it concerns (``delete`` with ``resourceId``) or, for a
radiation dose, to reduce it (``update``), adds the safer alternative a source names (a draft
``create``), and carries override reasons.  Text from the request goes through ``render.md`` /
``render.code`` only.
"""

from __future__ import annotations

import copy
from typing import Any

from service.cards.card import RenderedCard, finish
from service.cards.markdown import SUMMARY_MAX, code, md
from service.orders.checks import OVERRIDE_SYSTEM, REDUCED_DOSE_CGY, Alternative, OrderCheck
from service.orders.drafts import Draft
from service.orders.evaluate import OrderReview, Problem
from service.sources import SOURCES

PRESCRIBED_DOSE = ("http://hl7.org/fhir/us/codex-radiation-therapy/StructureDefinition/"
                   "codexrt-radiotherapy-dose-prescribed-to-volume")
DECISION = ("Decision support: the prescriber decides. Remove or change the order, or keep it "
            "and give the reason.")


def order_cards(review: OrderReview, hook_instance: str, patient_ref: str) -> list[RenderedCard]:
    problems = sorted(review.problems, key=lambda p: p.check.indicator != "critical")
    cards = [_problem_card(p, review.labels, patient_ref) for p in problems]
    if review.unchecked:
        cards.append(_unchecked_card(review.unchecked))
    return [finish(kind, card, hook_instance) for kind, card in cards]


def _problem_card(problem: Problem, labels: dict[str, str],
                  patient_ref: str) -> tuple[str, dict[str, Any]]:
    check, drafts = problem.check, problem.drafts
    names = list(dict.fromkeys(labels.get(d.read_as, "Draft") for d in drafts))
    noun = "draft order" if len(drafts) == 1 else "draft orders"
    suggestions = [_remove(d, labels, check) for d in drafts if d.ref]
    if check.fix == "reduce-dose":
        suggestions += [s for d in drafts if (s := _reduce_dose(d)) is not None]
    suggestions += [_create(a, patient_ref) for a in check.alternatives]
    card: dict[str, Any] = {
        "summary": _shorten(f"{' and '.join(names)} {noun}: {check.problem}"),
        "indicator": check.indicator,
        "detail": _detail(problem, labels),
        "source": _source(check.sources),
        "overrideReasons": [{"system": OVERRIDE_SYSTEM, "code": c, "display": d}
                            for c, d in check.override_reasons],
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    return f"order-check/{check.code}", card


def _detail(problem: Problem, labels: dict[str, str]) -> str:
    warning = problem.warning
    drafts = {d.read_as for d in problem.drafts}
    lines = [f"- {md(labels.get(d.read_as, 'Draft'))}: {_named(d)}" for d in problem.drafts]
    record = [r for r in warning.get("refs", []) if r not in drafts]
    parts = ["**Draft orders concerned**\n\n" + "\n".join(lines),
             f"**Why**: {md(warning.get('text', ''))}",
             f"**Rule** (CLINICAL_RULES §6): {md(problem.check.rule)}"]
    if warning.get("rests_on"):
        parts.append("**Rests on**: " + ", ".join(md(r) for r in warning["rests_on"]))
    if record:
        parts.append("**From the record**: " + ", ".join(code(r) for r in record))
    known = [SOURCES[s] for s in problem.check.sources if s in SOURCES]
    parts.append("**Sources**: " + "; ".join(f"[{s.label}]({s.url})" for s in known))
    parts.append(DECISION)
    return "\n\n".join(parts)


def _named(draft: Draft) -> str:
    """The draft's reference and its own words (drug or service text), escaped."""
    words = _text(draft.resource)
    ref = code(draft.ref) if draft.ref else "an unsaved draft without an id (cannot be removed here)"
    return f"{ref}" + (f" — {md(words[:120])}" if words else "")


def _text(resource: dict[str, Any]) -> str:
    for field in ("medicationCodeableConcept", "code"):
        concept = resource.get(field)
        if isinstance(concept, dict):
            if isinstance(concept.get("text"), str):
                return str(concept["text"])
            codings = concept.get("coding")
            for coding in codings if isinstance(codings, list) else []:
                if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                    return str(coding["display"])
    return ""


def _remove(draft: Draft, labels: dict[str, str], check: OrderCheck) -> dict[str, Any]:
    label = f"Remove the {labels.get(draft.read_as, 'draft').lower()} draft order"
    return {"label": label, "isRecommended": check.indicator == "critical",
            "actions": [{"type": "delete", "description": label, "resourceId": draft.ref}]}


def _reduce_dose(draft: Draft) -> dict[str, Any] | None:
    """The draft with its prescribed total dose set to 15 Gy, when it prescribes more."""
    if not draft.ref:
        return None
    resource = copy.deepcopy(draft.resource)
    doses = [sub for ext in _list(resource.get("extension"))
             if isinstance(ext, dict) and ext.get("url") == PRESCRIBED_DOSE
             for sub in _list(ext.get("extension"))
             if isinstance(sub, dict) and sub.get("url") == "totalDose"
             and (_cgy(sub.get("valueQuantity")) or 0) > REDUCED_DOSE_CGY]
    if not doses:
        return None
    for sub in doses:
        sub["valueQuantity"] = {"value": REDUCED_DOSE_CGY, "unit": "cGy",
                                "system": "http://unitsofmeasure.org", "code": "cGy"}
    label = "Reduce the prescribed dose to 15 Gy"
    return {"label": label, "isRecommended": True,
            "actions": [{"type": "update", "description": label, "resource": resource}]}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cgy(quantity: Any) -> float | None:
    if not isinstance(quantity, dict):
        return None
    value, unit = quantity.get("value"), quantity.get("code") or quantity.get("unit")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return {"cGy": float(value), "Gy": float(value) * 100}.get(str(unit))


def _create(alternative: Alternative, patient_ref: str) -> dict[str, Any]:
    resource = {**alternative.resource, "status": "draft", "intent": "proposal",
                "subject": {"reference": patient_ref}}
    return {"label": alternative.label, "isRecommended": False,
            "actions": [{"type": "create", "description": alternative.label,
                         "resource": resource}]}


def _unchecked_card(drafts: list[Draft]) -> tuple[str, dict[str, Any]]:
    noun = "draft order was" if len(drafts) == 1 else "draft orders were"
    lines = [f"- {_named(d)}: {code(_codes(d.resource))}" for d in drafts]
    card = {
        "summary": f"Not checked: {len(drafts)} {noun} not recognised by the relapsed-ALL "
                   "safety checks",
        "indicator": "info",
        "detail": ("These drafts name a drug whose code is not in this service's code maps (or "
                   "cannot be read), so the CLINICAL_RULES §6 safety checks did not run on them: "
                   "they are not known to be safe.\n\n" + "\n".join(lines)
                   + "\n\nAsk the service's administrators to add the code to the code maps."),
        "source": {"label": "Relapsed ALL decision support"},
    }
    return "order-check/not-checked", card


def _codes(resource: dict[str, Any]) -> str:
    concept = resource.get("medicationCodeableConcept")
    codings = concept.get("coding") if isinstance(concept, dict) else None
    shown = [f"{c.get('system', '(no system)')}|{c.get('code', '(no code)')}"
             for c in (codings if isinstance(codings, list) else []) if isinstance(c, dict)]
    return ", ".join(shown[:4]) or "no drug code"


def _source(source_ids: tuple[str, ...]) -> dict[str, Any]:
    first = SOURCES[source_ids[0]]
    return {"label": first.label, "url": first.url}


def _shorten(text: str) -> str:
    """One line under 140 characters, cut at a word with an ellipsis when longer."""
    if len(text) <= SUMMARY_MAX:
        return text
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
