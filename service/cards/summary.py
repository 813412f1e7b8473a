"""The summary card (OUTPUT.md §2): the relapse and its risk by scheme in one line; in the detail
the scheme table with the deciding reason in words and the key facts with their dates and values.
The whole assessment travels in the card's ``extension``; its ``links`` are attached here only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from service.cards.card import ADULT_REVIEW, PEDIATRIC_REVIEW, is_adult, source, sources_line
from service.cards.labels import SEED_ID, labels, words
from service.cards.markdown import SUMMARY_MAX, md, shorten
from service.cards.records import Record, from_line

ASSESSMENT_KEY = "relapsed-all-assessment"
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}
NOT_APPLICABLE = "not-applicable"
INDETERMINATE = "indeterminate"
# The seed table a reason ends with.  It starts with its parenthesis so that the regex engine
# skips straight to one (leading white space made it try every position); the white space
# before it goes with it (see _without_citation).
CITATION = re.compile(r"\(([^()]*)\)$")


def summary_card(assessment: dict[str, Any], records: Mapping[str, Record],
                 links: Sequence[Mapping[str, Any]] = ()) -> tuple[str, dict[str, Any]]:
    adult = is_adult(assessment)
    card: dict[str, Any] = {
        "summary": _summary_line(assessment),
        "indicator": "info",
        "detail": _detail(assessment, records),
        "source": source([ADULT_REVIEW if adult else PEDIATRIC_REVIEW], adult=adult),
        "extension": {ASSESSMENT_KEY: assessment},
    }
    if links:
        card["links"] = [dict(link) for link in links]
    return "summary", card


# --- the one line ---------------------------------------------------------------------------

def _summary_line(assessment: dict[str, Any]) -> str:
    relapse = assessment.get("relapse") or {}
    head = [_relapse_words(relapse), _site_and_phenotype(relapse)]
    risk = ", ".join(_risk_words(assessment))
    timing = _timing_words(assessment)
    for parts in ([*head, timing], head):  # the timing words go first when the line is long
        line = ", ".join(p for p in parts if p) + (f". Risk: {risk}" if risk else "")
        if len(line) <= SUMMARY_MAX:
            return line
    return shorten(line)


def _relapse_words(relapse: dict[str, Any]) -> str:
    if relapse.get("refractory"):
        return "Refractory ALL"
    number = relapse.get("number")
    return f"{ORDINALS.get(number, f'{number}th')} relapse" if number else "Relapse"


def _site_and_phenotype(relapse: dict[str, Any]) -> str:
    words = labels()
    site = relapse.get("site", INDETERMINATE)
    phenotype = relapse.get("immunophenotype", INDETERMINATE)
    return ", ".join([
        f"site {words.value(site)}" if site == INDETERMINATE else words.value(site),
        f"phenotype {words.value(phenotype)}" if phenotype == INDETERMINATE
        else words.value(phenotype)])


def _timing_words(assessment: dict[str, Any]) -> str:
    """Pediatric timing words where a pediatric scheme reads them; months for adults."""
    relapse = assessment.get("relapse") or {}
    timing = relapse.get("timing") or {}
    value = labels().value
    if assessment.get("population") == "adult" or not timing:
        months = relapse.get("months_from_diagnosis")
        return f"{months} months from diagnosis" if months is not None else ""
    if assessment.get("population") == "aya":  # COG is the one scheme that applies
        return f"COG {value(timing['cog'])}"
    if timing.get("cog") == timing.get("bfm"):
        return value(timing["cog"])
    return f"COG {value(timing['cog'])}, BFM {value(timing['bfm'])}"


def _risk_words(assessment: dict[str, Any]) -> list[str]:
    """Each group once, with the schemes that give it; then the adult approach."""
    by_group: dict[str, list[str]] = {}
    for key, stratum in (assessment.get("strata") or {}).items():
        if isinstance(stratum, dict):
            by_group.setdefault(_group(stratum), []).append(labels().scheme(key))
    found = [f"{'/'.join(names)} {group}" for group, names in by_group.items()]
    if is_adult(assessment):
        approach = labels().adult_approach
        found.append(f"{approach['risk']} ({approach['name'].lower()})")
    return found or ["no scheme applies"]


def _group(stratum: dict[str, Any]) -> str:
    value = labels().value
    group, risk = str(stratum.get("group", INDETERMINATE)), stratum.get("risk")
    if risk and risk != group:
        return f"{value(group)} ({value(risk)} risk)"
    return value(group)


# --- the detail -----------------------------------------------------------------------------

def _detail(assessment: dict[str, Any], records: Mapping[str, Record]) -> str:
    strata = assessment.get("strata") or {}
    readings = {key: _reading(s) for key, s in strata.items() if isinstance(s, dict)}
    common = _common_reading(list(readings.values()))
    rows = _scheme_rows(strata, readings, common) + (_adult_rows() if is_adult(assessment) else [])
    table = ("| Scheme | Risk group | Deciding reason |\n|---|---|---|\n" + "\n".join(rows)
             if rows else "")
    cited = [m.group(1) for s in strata.values() if isinstance(s, dict)
             for m in SEED_ID.finditer(str(s.get("reason", "")))]
    parts = [_read_by_all(common), table, "\n".join(f"- {line}" for line in _key_facts(assessment, records)),
             "\n".join(f"- **Note**: {md(words(n))}" for n in assessment.get("notes", [])),
             sources_line(cited)]
    return "\n\n".join(p for p in parts if p)


def _scheme_rows(strata: dict[str, Any], readings: dict[str, list[str]],
                 common: list[str]) -> list[str]:
    """A row per scheme with its deciding reason (``readings``: by scheme, from
    :func:`_reading`); what every scheme read alike (``common``: lineage, site, months) is said
    once, above the table, by :func:`_read_by_all`."""
    words_ = labels()
    rows = [f"| {words_.scheme(key)} | {md(_group(strata[key]))} "
            f"| {md(', '.join(i for i in reading if i not in common) or 'as above')} |"
            for key, reading in readings.items()]
    not_applicable: dict[str, list[str]] = {}
    for key, s in strata.items():
        if s == NOT_APPLICABLE and key in words_.schemes:
            not_applicable.setdefault(words_.schemes[key]["applies"], []).append(
                words_.scheme(key))
    rows += [f"| {', '.join(names)} | {words_.value(NOT_APPLICABLE)} | only for a {applies} |"
             for applies, names in not_applicable.items()]
    return rows


def _reading(stratum: dict[str, Any]) -> list[str]:
    """The deciding reason in words, item by item, without the group it leads to or the table it
    cites."""
    reason = _without_citation(str(stratum.get("reason", "")))
    if reason.startswith(f"{INDETERMINATE}: "):
        return [words(reason.removeprefix(f"{INDETERMINATE}: ").replace(" | ", "; "))]
    return words(reason.rsplit(" → ", 1)[0]).split(", ")


def _without_citation(reason: str) -> str:
    """``reason`` without the table it cites at its end, nor the white space before it."""
    cited = CITATION.search(reason)
    if cited is None:
        return reason
    return reason[:cited.start()].rstrip() + reason[cited.end():]


def _common_reading(readings: list[list[str]]) -> list[str]:
    if len(readings) < 2:
        return []
    return [i for i in readings[0] if all(i in r for r in readings[1:])]


def _read_by_all(common: list[str]) -> str:
    return f"Every scheme reads: {md(', '.join(common))}." if common else ""


def _adult_rows() -> list[str]:
    approach = labels().adult_approach
    return [f"| {approach['name']} | {approach['risk']} | {approach['reason']} |"]


def _key_facts(assessment: dict[str, Any], records: Mapping[str, Record]) -> list[str]:
    relapse = assessment.get("relapse") or {}
    evidence = {e["fact"]: e for e in reversed(assessment.get("evidence", []))}
    value = labels().value
    lines = []
    diagnosis = _with_age(_evidence_value(evidence, "diagnosis-date"),
                          assessment.get("age_at_diagnosis_years"))
    if diagnosis:
        lines.append(f"**Diagnosis** {diagnosis}")
    when = _with_age(md(relapse["date"]) if relapse.get("date") else "",
                     assessment.get("age_at_relapse_years"))
    timeline = _timeline(relapse, evidence)
    lines.append(f"**{_relapse_words(relapse)}** " + ": ".join(
        p for p in (when or "date not recorded", timeline) if p))
    at_relapse = [md(relapse[k]) for k in ("marrow_status", "cns_status") if relapse.get(k)]
    at_relapse += [value(s) for s in relapse.get("extramedullary_sites", [])
                   if s not in ("cns",)]
    if at_relapse:
        lines.append("**At relapse** " + ", ".join(at_relapse))
    first = relapse.get("first_relapse")
    if first:
        lines.append(f"**First relapse** {md(first['date'])}")
    mrd = _evidence_value(evidence, "mrd-end-of-reinduction")
    if mrd:
        lines.append(f"**{labels().fact('mrd-end-of-reinduction')}** {mrd}")
    refs = [r for fact in ("relapse-date", "relapse-site", "mrd-end-of-reinduction")
            for r in evidence.get(fact, {}).get("from", [])]
    named = from_line(refs, records, shown=2)
    if named:
        lines.append(f"**From** {md(named)}")
    return lines


def _evidence_value(evidence: dict[str, dict[str, Any]], fact: str) -> str:
    found = evidence.get(fact)
    return md(found["value"]) if found and found.get("value") is not None else ""


def _with_age(day: str, age: Any) -> str:
    return f"{day}, age {age}" if day and age is not None else day


def _timeline(relapse: dict[str, Any], evidence: dict[str, dict[str, Any]]) -> str:
    parts = []
    if relapse.get("months_from_diagnosis") is not None:
        parts.append(f"{relapse['months_from_diagnosis']} months from diagnosis")
    if relapse.get("relapse_on_therapy"):
        parts.append("on frontline therapy")
    elif relapse.get("months_after_frontline_end") is not None:
        ended = _evidence_value(evidence, "frontline-end-date")
        parts.append(f"{relapse['months_after_frontline_end']} months after frontline therapy "
                     f"ended" + (f" ({ended})" if ended else ""))
    if relapse.get("after_hsct"):
        months = relapse.get("months_after_hsct")
        parts.append(f"{months} months after HSCT" if months is not None else "after HSCT")
    if relapse.get("after_car_t"):
        months = relapse.get("months_after_car_t")
        parts.append(f"{months} months after CAR-T" if months is not None else "after CAR-T")
    return ", ".join(parts)
