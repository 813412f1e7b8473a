"""Assessment (OUTPUT.md §1) → CDS Hooks 2.0 cards (OUTPUT.md §2).

Renders what the assessment holds and nothing more, in the order of OUTPUT.md §2: a summary card
first (carrying the whole assessment in its ``extension``), one card per warning (critical ones
first), one per recommendation, and one card listing the missing facts. Orders are offered as
draft ServiceRequest ``create`` suggestions (MRD, HLA typing, lumbar puncture; never
medications). Card uuids are derived from the hook instance and the card's content, so a
repeated call yields the same uuids.

Every string that is not this module's own goes into ``detail`` through :func:`md` (or
:func:`code`): it may come from the request (ids, units, dates, free text), and must neither
form a link, an image, HTML or a table cell break, nor change the card's layout.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from service.assessment import without_empty
from service.sources import SOURCES

ASSESSMENT_KEY = "relapsed-all-assessment"
CARD_TYPE_SYSTEM = "urn:relapsed-all-cds:card-type"
CONCEPT_SYSTEM = "urn:relapsed-all-cds:concept"
OVERRIDE_SYSTEM = "urn:relapsed-all-cds:override-reason"
SUMMARY_MAX = 139
UUID_NAMESPACE = uuid.UUID("7a0c2f4e-9a51-4c4b-8e44-2f1d6f3c5b10")

SEVERITY_ORDER = {"critical": 0, "warning": 1}
SCHEMES = (("bfm", "BFM"), ("ukall", "UK"), ("ibfm", "I-BFM"), ("cog", "COG"))
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}

OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "already-addressed", "display": "Already addressed"},
    {"system": OVERRIDE_SYSTEM, "code": "record-incorrect",
     "display": "The record is incorrect or out of date"},
    {"system": OVERRIDE_SYSTEM, "code": "not-applicable",
     "display": "Does not apply to this patient (clinical judgement)"},
]

# Orders a card may offer: (label, local code, text of the ServiceRequest).
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

TIMING_DEFINITIONS = """\
| Family | Category | Definition |
|---|---|---|
| COG, marrow (isolated or combined) | early / late | < 36 / ≥ 36 months from diagnosis |
| COG, isolated extramedullary | early / late | < 18 / ≥ 18 months from diagnosis |
| BFM / UK / I-BFM | very early | < 18 months from diagnosis |
| BFM / UK / I-BFM | early | ≥ 18 months from diagnosis, < 6 months after frontline therapy |
| BFM / UK / I-BFM | late | ≥ 6 months after frontline therapy ended |"""


@dataclass(frozen=True)
class RenderedCard:
    card_type: str
    card: dict[str, Any]


def render_cards(assessment: dict[str, Any], hook_instance: str, patient_ref: str, *,
                 links: list[dict[str, Any]] | None = None) -> list[RenderedCard]:
    """The cards for one assessment; none when it is not applicable. ``links`` go on the
    summary card (the SMART link to the relapse view: ``service.smart.links``)."""
    if not assessment.get("applicable"):
        return []
    primary = _primary_source(assessment)
    offered = {ORDER_FOR_RECOMMENDATION[r["code"]] for r in assessment.get("recommendations", [])
               if r.get("code") in ORDER_FOR_RECOMMENDATION}
    drafts = [_summary_card(assessment, primary, links or [])]
    warnings = sorted(assessment.get("warnings", []),
                      key=lambda w: SEVERITY_ORDER.get(w.get("severity", "warning"), 2))
    drafts += [_advice_card(w, "warning", patient_ref) for w in warnings]
    drafts += [_advice_card(r, "recommendation", patient_ref)
               for r in assessment.get("recommendations", [])]
    if assessment.get("missing"):
        drafts.append(_missing_card(assessment["missing"], primary, patient_ref, offered))
    return [_finish(kind, card, hook_instance) for kind, card in drafts]


def _finish(kind: str, card: dict[str, Any], hook_instance: str) -> RenderedCard:
    content = json.dumps(card, sort_keys=True, ensure_ascii=False)
    card_uuid = str(uuid.uuid5(UUID_NAMESPACE, f"{hook_instance}\n{kind}\n{content}"))
    for n, suggestion in enumerate(card.get("suggestions", [])):
        suggestion["uuid"] = str(uuid.uuid5(UUID_NAMESPACE, f"{card_uuid}\n{n}"))
    card["source"]["topic"] = {"system": CARD_TYPE_SYSTEM, "code": kind,
                               "display": kind.replace("/", ": ").replace("-", " ")}
    return RenderedCard(kind, {"uuid": card_uuid, **without_empty(card)})


def _primary_source(assessment: dict[str, Any]) -> str:
    """The seed behind the schemes: the adult review for adults, else the pediatric one."""
    return "004" if assessment.get("population") == "adult" else "000"


def _source(source_ids: list[str]) -> dict[str, Any]:
    known = [SOURCES[s] for s in source_ids if s in SOURCES] or [SOURCES["000"]]
    return {"label": known[0].label, "url": known[0].url}


# --- summary card -------------------------------------------------------------------------

def _summary_card(assessment: dict[str, Any], primary: str,
                  links: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    relapse = assessment.get("relapse") or {}
    strata = assessment.get("strata") or {}
    card = {
        "summary": _summary_line(relapse, strata),
        "indicator": "info",
        "detail": _summary_detail(assessment),
        "source": _source([primary]),
        "extension": {ASSESSMENT_KEY: assessment},
        "links": links,
    }
    return "summary", card


def _summary_line(relapse: dict[str, Any], strata: dict[str, Any]) -> str:
    """Relapse words, then each group once with the schemes that give it (BFM/UK S2, COG …)."""
    by_group: dict[str, list[str]] = {}
    for key, name in SCHEMES:
        if isinstance(strata.get(key), dict):
            by_group.setdefault(_group(strata[key]), []).append(name)
    groups = ", ".join(f"{'/'.join(names)} {group}" for group, names in by_group.items())
    head = ", ".join(p for p in _relapse_words(relapse) if p)
    line = f"{head}: {groups}" if groups else head
    if len(line) > SUMMARY_MAX:
        line = line.replace("indeterminate", "indet.")
    return _shorten(line)


def _relapse_words(relapse: dict[str, Any]) -> list[str]:
    if relapse.get("refractory"):
        first = "Refractory ALL"
    else:
        number = relapse.get("number")
        first = f"{ORDINALS.get(number, f'{number}th')} relapse" if number else "Relapse"
    phenotype = relapse.get("immunophenotype")
    timing = relapse.get("timing") or {}
    timing_words = ", ".join(f"{family.upper()} {timing[family]}" for family in ("cog", "bfm")
                             if timing.get(family))
    return [
        first,
        str(relapse.get("site", "")).replace("-", " "),
        f"{phenotype}-ALL" if phenotype in ("B", "T") else "phenotype indeterminate",
        timing_words,
    ]


def _group(stratum: dict[str, Any]) -> str:
    group = str(stratum.get("group", "indeterminate"))
    risk = stratum.get("risk")
    return f"{group} ({risk})" if risk and risk != group else group


def _summary_detail(assessment: dict[str, Any]) -> str:
    parts = [_relapse_section(assessment), _strata_section(assessment.get("strata") or {}),
             "**Timing definitions used** (000 Table 1; 002 Tables 2 and 5)\n\n"
             + TIMING_DEFINITIONS]
    discordances = [w for w in assessment.get("warnings", [])
                    if str(w.get("code", "")).endswith("discordance")]
    if discordances:
        parts.append("**Discordances**\n\n" + "\n".join(f"- {md(w['text'])}" for w in discordances))
    if assessment.get("evidence"):
        parts.append(_evidence_section(assessment["evidence"]))
    if assessment.get("problems"):
        parts.append("**Data problems**\n\n" + "\n".join(
            f"- {code(p.get('ref', ''))}: {md(p.get('problem', ''))}"
            for p in assessment["problems"]))
    if assessment.get("notes"):
        parts.append("**Notes**\n\n" + "\n".join(f"- {md(n)}" for n in assessment["notes"]))
    return "\n\n".join(p for p in parts if p)


def _relapse_section(assessment: dict[str, Any]) -> str:
    relapse = assessment.get("relapse") or {}
    timing = relapse.get("timing") or {}
    rows = [
        ("Population", assessment.get("population")),
        ("Age at diagnosis (years)", assessment.get("age_at_diagnosis_years")),
        ("Age at relapse (years)", assessment.get("age_at_relapse_years")),
        ("Relapse number", relapse.get("number")),
        ("Refractory", "yes" if relapse.get("refractory") else None),
        ("Relapse date", relapse.get("date")),
        ("Site", relapse.get("site")),
        ("Extramedullary sites", ", ".join(relapse.get("extramedullary_sites", [])) or None),
        ("CNS status", relapse.get("cns_status")),
        ("Marrow status", relapse.get("marrow_status")),
        ("Immunophenotype", relapse.get("immunophenotype")),
        ("Months from diagnosis", relapse.get("months_from_diagnosis")),
        ("Months after frontline therapy ended", relapse.get("months_after_frontline_end")),
        ("Relapse on therapy", _yes_no(relapse.get("relapse_on_therapy"))),
        ("Timing (COG)", timing.get("cog")),
        ("Timing (BFM family)", timing.get("bfm")),
        ("Timing (BFM, assuming 24 months of therapy)", timing.get("bfm_provisional")),
        ("After HSCT", _yes_no(relapse.get("after_hsct"))),
        ("Months after HSCT", relapse.get("months_after_hsct")),
        ("After CAR-T", _yes_no(relapse.get("after_car_t"))),
    ]
    lines = [f"| {name} | {_cell(value)} |" for name, value in rows if value is not None]
    return "**Relapse**\n\n| | |\n|---|---|\n" + "\n".join(lines) if lines else ""


def _strata_section(strata: dict[str, Any]) -> str:
    if not strata:
        return ""
    lines = []
    for key, name in SCHEMES:
        stratum = strata.get(key)
        if isinstance(stratum, dict):
            lines.append(f"| {name} | {_cell(stratum.get('group'))} | {_cell(stratum.get('risk'))} "
                         f"| {_cell(stratum.get('reason'))} "
                         f"| {_cell(', '.join(stratum.get('depends_on', [])))} |")
        elif stratum is not None:
            lines.append(f"| {name} | {_cell(stratum)} | | | |")
    return ("**Risk group by scheme**\n\n| Scheme | Group | Risk | Reason | Depends on |\n"
            "|---|---|---|---|---|\n" + "\n".join(lines))


def _evidence_section(evidence: list[dict[str, Any]]) -> str:
    lines = [f"| {_cell(e.get('fact'))} | {_cell(e.get('value'))} "
             f"| {_cell(', '.join(e.get('from', [])))} | {_cell(e.get('note'))} |"
             for e in evidence]
    return ("**Facts and their FHIR references**\n\n| Fact | Value | From | Note |\n"
            "|---|---|---|---|\n" + "\n".join(lines))


def _yes_no(value: Any) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return md(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


# --- recommendation and warning cards -----------------------------------------------------

def _advice_card(advice: dict[str, Any], kind: str,
                 patient_ref: str) -> tuple[str, dict[str, Any]]:
    sources = advice.get("sources", [])
    card: dict[str, Any] = {
        "summary": _shorten(advice.get("text") or advice.get("code", kind)),
        "indicator": advice.get("severity", "warning") if kind == "warning" else "info",
        "detail": _advice_detail(advice),
        "source": _source(sources),
    }
    if kind == "warning":
        card["overrideReasons"] = OVERRIDE_REASONS
    order = ORDER_FOR_RECOMMENDATION.get(advice.get("code", "")) if kind == "recommendation" \
        else None
    if order:
        card["suggestions"] = [_order_suggestion(order, patient_ref, advice.get("refs", []))]
        card["selectionBehavior"] = "any"
    return f"{kind}/{advice.get('code', 'unknown')}", card


def _advice_detail(advice: dict[str, Any]) -> str:
    parts = [md(advice.get("text", ""))]
    if advice.get("params"):
        parts.append("**Parameters**: " + ", ".join(
            f"{md(k)} = {_cell(v)}" for k, v in advice["params"].items()))
    if advice.get("rests_on"):
        parts.append("**Rests on**: " + ", ".join(md(r) for r in advice["rests_on"]))
    if advice.get("refs"):
        parts.append("**From the record**: " + ", ".join(code(r) for r in advice["refs"]))
    parts.append(_sources_line(advice.get("sources", [])))
    return "\n\n".join(p for p in parts if p)


def _sources_line(source_ids: list[str]) -> str:
    known = [SOURCES[s] for s in source_ids if s in SOURCES]
    return "**Sources**: " + "; ".join(f"[{s.label}]({s.url})" for s in known) if known else ""


# --- missing-data card --------------------------------------------------------------------

def _missing_card(missing: list[dict[str, Any]], primary: str, patient_ref: str,
                  offered: set[str]) -> tuple[str, dict[str, Any]]:
    names = ", ".join(str(m.get("fact", "")).replace("-", " ") for m in missing)
    noun = "fact" if len(missing) == 1 else "facts"
    lines = [f"| {_cell(m.get('fact'))} | {_cell(', '.join(m.get('affects', [])))} "
             f"| {_cell(m.get('decides'))} | {_cell(m.get('how'))} |" for m in missing]
    card: dict[str, Any] = {
        "summary": _shorten(f"{len(missing)} missing {noun} would change the result: {names}"),
        "indicator": "info",
        "detail": ("Recording these facts would settle what is now indeterminate.\n\n"
                   "| Fact | Affects | Decides | How to record it |\n|---|---|---|---|\n"
                   + "\n".join(lines)),
        "source": _source([primary]),
    }
    orders = sorted({ORDER_FOR_MISSING[m["fact"]] for m in missing
                     if m.get("fact") in ORDER_FOR_MISSING} - offered)
    if orders:
        card["suggestions"] = [_order_suggestion(o, patient_ref, []) for o in orders]
        card["selectionBehavior"] = "any"
    return "missing-data", card


# --- orders ---------------------------------------------------------------------------------

def _order_suggestion(order: str, patient_ref: str, refs: list[str]) -> dict[str, Any]:
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


# --- the card shown when the assessment itself failed -------------------------------------------

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
    return _finish("assessment-failed", card, hook_instance)


# --- markdown text from input --------------------------------------------------------------------

# Always escaped: emphasis, code, links and images, HTML and entities, table cells, math.
ALWAYS_ESCAPED = set("\\`*~[]<>|&!$#")
# Escaped where they would make a URL or a domain autolink ("https://…", "//host", "www.x.org",
# "javascript:…"), or where `_` would start emphasis.
TOKEN_ESCAPED = set(".:/_")
# GitHub's renderer links e-mail addresses after escapes are resolved: an invisible word joiner
# after "@" is what keeps "a@b.org" text.
AT = "@\u2060"
LINE_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+=])(?=\s|$)")  # list items, setext lines
# Line breaks, other control characters, and bidirectional overrides that reorder what is shown.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def md(value: Any) -> str:
    """``value`` as inline markdown that shows exactly its text, on one line."""
    text = " ".join(INVISIBLE.sub(" ", str(value)).split())
    out = []
    for n, char in enumerate(text):
        before = text[n - 1] if n else " "
        after = text[n + 1] if n + 1 < len(text) else " "
        if char in ALWAYS_ESCAPED or (char in TOKEN_ESCAPED and _joins(char, before, after)):
            out.append("\\" + char)
        elif char == "@":
            out.append(AT)
        else:
            out.append(char)
    escaped = "".join(out)
    return LINE_START.sub(lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)),
                          escaped)


def _joins(char: str, before: str, after: str) -> bool:
    if char == "_":
        return not (before.isalnum() and after.isalnum())  # snake_case never emphasises
    if char == "/":
        return after == "/"  # "//host" (a scheme-relative link)
    return before.isalnum() and (after.isalpha() or after == "/")


def code(value: Any) -> str:
    """``value`` as an inline code span (shown verbatim, never a link), on one line."""
    text = " ".join(INVISIBLE.sub(" ", str(value)).split()) or " "
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def _shorten(text: str) -> str:
    """One line under 140 characters: the first sentence, or cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    sentence = text.split(". ")[0].rstrip(".") + "."
    if len(sentence) <= SUMMARY_MAX:
        return sentence
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


