"""What the sources recommend next, what is unsafe, what is still missing (CLINICAL_RULES §3–§6).

The knowledge is in declared tables (``tables/``), evaluated in three declared stages:

1. treatment — 000 Figure 1A/1B/1C, testicular and other extramedullary disease, refractory
   disease, §4 special situations, §3.5 genetics, §5 adults;
2. follow-on — what the plan of stage 1 brings with it (donor search, infection prophylaxis);
3. warnings — the §6 safety checks and the other warnings, which read stages 1 and 2.

A lineage or COG timing the record leaves open is evaluated for each value it can take: advice
common to all values is given; advice that differs is reported as depending on the missing fact
(CLINICAL_RULES §1.4a).  Every assessment then passes the coherence check (``coherence.py``).
"""

from __future__ import annotations

from service.assessment import Advice
from service.engine.advice import allocation, coherence
from service.engine.advice.catalogue import CATALOGUE
from service.engine.advice.evaluate import Item, Outcome, check_tables, evaluate
from service.engine.advice.rules import Compiled, Need, Note
from service.engine.advice.situation import (
    REF_GROUPS,
    VALUE_NAMES,
    Situation,
    situation,
    updated,
    variants,
)
from service.engine.advice.tables import adults, genetics, pathway, safety, special
from service.engine.case import Case
from service.vocabulary import Severity

TREATMENT = (*pathway.TABLES, *special.TABLES, *genetics.TABLES, *adults.TABLES)
FOLLOW_ON = (safety.FOLLOW_ON,)
ALL_TABLES = (*TREATMENT, *safety.TABLES)

_PROBLEMS = check_tables(ALL_TABLES, VALUE_NAMES, REF_GROUPS)
if _PROBLEMS:
    raise RuntimeError("advice tables: " + "; ".join(_PROBLEMS))

LINEAGE_LABEL = {"B": "B-lineage", "T": "T-lineage"}


def advise(case: Case) -> None:
    if case.current is None and not case.refractory:
        return
    base = situation(case)
    phenotypes = (case.phenotype,) if case.phenotype else ("B", "T")
    timing_open = case.number == 1 and len(case.cog_timing) != 1
    timings = ("early", "late") if timing_open else (base.cog_timing,)
    situations = variants(base, phenotypes, timings)
    runs = {_label(v, case.phenotype is None, timing_open): _run(v) for v in situations}
    recommendations, depends_on_open = _merge([r for r, _ in runs.values()], list(runs))
    warnings, _ = _merge([w for _, w in runs.values()], list(runs))
    for variant in situations:
        _needs_and_notes(case, variant)
    if depends_on_open:
        _report_dependence(case, depends_on_open, timing_open)
    _emit(case, recommendations, warnings)


def _run(s: Situation) -> tuple[Outcome, Outcome]:
    treatment = evaluate(TREATMENT, s, "recommendation", ALL_TABLES)
    s = updated(s, recommended=frozenset(treatment.items))
    follow_on = evaluate(FOLLOW_ON, s, "recommendation", ALL_TABLES)
    treatment.items.update(follow_on.items)
    treatment.conflicts += follow_on.conflicts
    s = updated(s, recommended=frozenset(treatment.items))
    return treatment, evaluate(ALL_TABLES, s, "warning", ALL_TABLES)


def _label(s: Situation, lineage_open: bool, timing_open: bool) -> str:
    parts = ([LINEAGE_LABEL[s.phenotype or "B"]] if lineage_open else []) + (
        [f"COG {s.cog_timing}"] if timing_open else [])
    return ", ".join(parts)


def _merge(outcomes: list[Outcome], labels: list[str]) -> tuple[Outcome, dict[str, list[str]]]:
    """Items every variant gives (their reasons labelled where the variants differ); the rest
    by code → the variants that would give it."""
    merged = Outcome(conflicts=sorted({c for o in outcomes for c in o.conflicts}))
    depends: dict[str, list[str]] = {}
    # labels and outcomes come from one dict (advise): zip's strict check is a guard only
    for code in dict.fromkeys(c for o in outcomes for c in o.items):
        found = [(label, o.items[code]) for label, o in zip(labels, outcomes, strict=True)
                 if code in o.items]
        if len(found) < len(outcomes):
            depends[code] = [label for label, _ in found]
            continue
        first = found[0][1]  # any variant's item: params are checked equal, reasons compared below
        if any(item.params != first.params for _, item in found):
            merged.conflicts.append(code)
            continue
        same_reasons = all(item.reasons == first.reasons for _, item in found)
        reasons = first.reasons if same_reasons else [
            f"If {label}: {reason}" for label, item in found for reason in item.reasons]
        severities = [item.severity for _, item in found if item.severity]
        merged.items[code] = Item(
            code, first.params, list(dict.fromkeys(reasons)),
            list(dict.fromkeys(s for _, i in found for s in i.sources)),
            list(dict.fromkeys(r for _, i in found for r in i.rests_on)),
            list(dict.fromkeys(r for _, i in found for r in i.refs)),
            max(severities, key=lambda s: Severity(s).rank) if severities else None)
    return merged, depends


# Needs and notes fill different parts of the case (``missing``, ``notes``), so checking all the
# needs and then all the notes, each in table order, gives what checking them table by table does.
_NEEDS_AND_NOTES: Compiled[Need | Note] = Compiled([*(need for table in ALL_TABLES for need in table.needs),
                                                   *(note for table in ALL_TABLES
                                                     for note in table.notes)])


def _needs_and_notes(case: Case, s: Situation) -> None:
    for row in _NEEDS_AND_NOTES.holding(s):
        if isinstance(row, Need):
            case.need(row.fact, list(row.affects), row.decides)
        elif row.text not in case.notes:
            case.notes.append(row.text)


def _report_dependence(case: Case, depends: dict[str, list[str]], timing_open: bool) -> None:
    by_variant: dict[str, list[str]] = {}
    for code, labels in depends.items():
        for label in labels:
            by_variant.setdefault(label, []).append(code)
    decides = "advice: " + "; ".join(f"{label} → {', '.join(codes)}"
                                     for label, codes in by_variant.items())
    if case.phenotype is None:
        case.need("immunophenotype", ["advice"], decides)
    if timing_open:
        case.need("diagnosis-date" if case.months is None else "relapse-site", ["advice"], decides)
    case.notes.append("Only the advice common to every possible value of the missing facts is "
                      f"given; the rest depends on them ({decides}).")


def _emit(case: Case, recommendations: Outcome, warnings: Outcome) -> None:
    codes = set(recommendations.items) | set(warnings.items)
    withheld = set(recommendations.conflicts) | set(warnings.conflicts)
    for involved, _why in coherence.violations(codes, case.phenotype):
        withheld |= {c for c in involved if CATALOGUE[c].kind == "recommendation"}
    for code in withheld:
        recommendations.items.pop(code, None)
        warnings.items.pop(code, None)
    for item in recommendations.items.values():
        case.recommendations.append(_advice(item))
    for item in warnings.items.values():
        case.warn(item.code, item.text, item.sources, item.severity or "warning",
                  rests_on=item.rests_on, refs=item.refs, params=item.params)
    if withheld:
        text = CATALOGUE["incoherent-advice"].text.format(withheld=", ".join(sorted(withheld)))
        case.warn("incoherent-advice", text, ["000"], "warning",
                  params={"withheld": ", ".join(sorted(withheld))})
    # (strata are computed for a first relapse only, and discordance() needs them: either test alone
    # would do; both say when the warning can apply)
    if case.strata and case.number == 1:
        found = allocation.discordance(case, set(recommendations.items))
        if found is not None:
            text = CATALOGUE["allocation-discordance"].text.format(**found)
            case.warn("allocation-discordance", text, ["000", "001", "002"], "warning",
                      rests_on=["relapse-site", "diagnosis-date", "mrd-end-of-reinduction"],
                      params=found)


def _advice(item: Item) -> Advice:
    return Advice(code=item.code, text=item.text, sources=item.sources, rests_on=item.rests_on,
                  refs=item.refs, params=item.params)
