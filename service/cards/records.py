"""The records behind a card, named as a clinician knows them: "marrow blasts 65% (result,
2022-07-19)".

The assessment keeps only FHIR references (``Observation/obs-20``); the facts read from the
record know what each one held.  :func:`records_of` indexes them by reference (each put in
words when a card first reads it), and :func:`from_line` names a card's references with it, never
showing the references themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.cards.labels import Labels, labels
from service.facts import (
    CnsCondition,
    Diagnosis,
    Fact,
    Finding,
    FuzzyDate,
    GeneticFinding,
    Measurement,
    Mrd,
    PatientFacts,
    ProcedureFact,
    Refractory,
    RelapseRecord,
    Therapy,
)

SHOWN = 3  # records a "from" line names; the rest are counted


@dataclass(frozen=True, slots=True)
class Record:
    what: str  # "marrow blasts 65%"
    when: str | None  # "2022-07-19"


class _RecordOf(Record):
    """The record of one fact, put in words when first read: the cards name a few of a record's
    facts (7 of 95 in the 300-resource bench record), and putting every one in words cost three
    times the rest of records_of."""

    __slots__ = ("_fact",)

    def __init__(self, fact: Fact) -> None:  # ``what`` and ``when`` stay unset until read
        object.__setattr__(self, "_fact", fact)

    def __getattr__(self, name: str) -> Any:  # called only for an attribute not set
        if name not in ("what", "when"):
            raise AttributeError(name)
        what, when = _WORDS[type(self._fact)](self._fact, labels())
        object.__setattr__(self, "what", what)
        object.__setattr__(self, "when", when)
        return what if name == "what" else when


def _when(day: date | FuzzyDate | None) -> str | None:
    if day is None:
        return None
    # date first: isinstance of a pydantic model class costs as much as the isoformat
    return day.isoformat() if isinstance(day, date) else day.text


def _number(value: float) -> str:
    return f"{value:g}"


Words = tuple[str, str | None]  # what the record held, its date


def _diagnosis(dx: Diagnosis, words: Labels) -> Words:
    lineage = f" ({words.value(dx.lineage)})" if dx.lineage else ""
    return words.record("all-diagnosis")[0] + lineage, _when(dx.onset)


def _relapse(relapse: RelapseRecord, words: Labels) -> Words:
    return words.record("all-relapse")[0], _when(relapse.onset)


def _refractory(refractory: Refractory, words: Labels) -> Words:
    return words.record("all-refractory")[0], _when(refractory.recorded)


def _cns(cns: CnsCondition, words: Labels) -> Words:
    return words.record("cns-leukemia")[0], _when(cns.onset)


def _measurement(m: Measurement, words: Labels) -> Words:
    name, unit = words.record(m.kind)
    value = f" {m.comparator or ''}{_number(m.value)}{unit}" if unit else ""
    return name + value, _when(m.when)


def _finding(f: Finding, words: Labels) -> Words:
    name = words.record(f.kind)[0]
    result = "positive" if f.positive else "negative"
    percent = f", {_number(f.percent)}%" if f.percent is not None else ""
    return f"{name} {result}{percent}", _when(f.when)


def _mrd(mrd: Mrd, words: Labels) -> Words:
    comparator = "" if mrd.comparator == "=" else f"{mrd.comparator} "
    return f"{words.record('mrd')[0]} {comparator}{mrd.fraction * 100:.4g}%", _when(mrd.when)


def _genetics(g: GeneticFinding, words: Labels) -> Words:
    return f"{words.record('genetics')[0]} {g.finding}", _when(g.when)


def _therapy(t: Therapy, words: Labels) -> Words:
    agent = words.agents.get(t.agent, t.agent)
    route = " intrathecal" if t.intrathecal else ""
    return f"{agent}{route}, {t.status}", _when(t.start)


def _procedure(p: ProcedureFact, words: Labels) -> Words:
    return f"{words.record(p.kind)[0]}, {p.status}", _when(p.when)


_WORDS: dict[type[Fact], Callable[[Any, Labels], Words]] = {
    Diagnosis: _diagnosis, RelapseRecord: _relapse, Refractory: _refractory, CnsCondition: _cns,
    Measurement: _measurement, Finding: _finding, Mrd: _mrd, GeneticFinding: _genetics,
    Therapy: _therapy, ProcedureFact: _procedure,
}


def records_of(facts: PatientFacts) -> dict[str, Record]:
    """FHIR reference → what the record held; a reference read as two facts keeps the first (in
    the order of the facts' lists below)."""
    index: dict[str, Record] = {}
    for kind in (facts.diagnoses, facts.relapses, facts.refractory, facts.cns_conditions,
                 facts.measurements, facts.findings, facts.mrd, facts.genetics, facts.therapies,
                 facts.procedures):
        for fact in kind:
            record = _RecordOf(fact)
            for ref in fact.refs:
                index.setdefault(ref, record)
    return index


def name(ref: str, records: Mapping[str, Record]) -> str:
    """One record in words: what it held, its kind and date."""
    kind = labels().resource_types.get(ref.split("/", 1)[0], "record")
    record = records.get(ref)
    if record is None:
        return kind
    return f"{record.what} ({kind}, {record.when})" if record.when else f"{record.what} ({kind})"


def from_line(refs: Iterable[str], records: Mapping[str, Record], shown: int = SHOWN) -> str:
    """A card's references named in words: the first few (records alike counted once), then how
    many more the assessment holds; empty when there are none."""
    named = list(Counter(name(r, records) for r in dict.fromkeys(refs)).items())
    texts = [text if n == 1 else f"{n} × {text}" for text, n in named[:shown]]
    more = sum(n for _, n in named[shown:])
    return "; ".join(texts + ([f"{more} more in the assessment"] if more else []))
