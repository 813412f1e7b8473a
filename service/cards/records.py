"""The records behind a card, named as a clinician knows them: "marrow blasts 65% (result,
2022-07-19)".

The assessment keeps only FHIR references (``Observation/obs-20``); the facts read from the
record know what each one held.  :func:`records_of` indexes them by reference, and
:func:`from_line` names a card's references with it, never showing the references themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from service.cards.labels import labels
from service.facts import Fact, FuzzyDate, PatientFacts

SHOWN = 3  # records a "from" line names; the rest are counted


class Record(NamedTuple):  # a tuple: half the cost of a frozen dataclass to make
    what: str  # "marrow blasts 65%"
    when: str | None  # "2022-07-19"


def _when(day: date | FuzzyDate | None) -> str | None:
    if day is None:
        return None
    # date first: isinstance of a pydantic model class costs as much as the isoformat
    return day.isoformat() if isinstance(day, date) else day.text


def _number(value: float) -> str:
    return f"{value:g}"


def _described(facts: PatientFacts) -> Iterable[tuple[Fact, Record]]:
    words = labels()
    for dx in facts.diagnoses:
        lineage = f" ({words.value(dx.lineage)})" if dx.lineage else ""
        yield dx, Record(words.record("all-diagnosis")[0] + lineage, _when(dx.onset))
    for relapse in facts.relapses:
        yield relapse, Record(words.record("all-relapse")[0], _when(relapse.onset))
    for refractory in facts.refractory:
        yield refractory, Record(words.record("all-refractory")[0], _when(refractory.recorded))
    for cns in facts.cns_conditions:
        yield cns, Record(words.record("cns-leukemia")[0], _when(cns.onset))
    for m in facts.measurements:
        name, unit = words.record(m.kind)
        value = f" {m.comparator or ''}{_number(m.value)}{unit}" if unit else ""
        yield m, Record(name + value, _when(m.when))
    for f in facts.findings:
        name = words.record(f.kind)[0]
        result = "positive" if f.positive else "negative"
        percent = f", {_number(f.percent)}%" if f.percent is not None else ""
        yield f, Record(f"{name} {result}{percent}", _when(f.when))
    for mrd in facts.mrd:
        comparator = "" if mrd.comparator == "=" else f"{mrd.comparator} "
        yield mrd, Record(f"{words.record('mrd')[0]} {comparator}{mrd.fraction * 100:.4g}%",
                          _when(mrd.when))
    for g in facts.genetics:
        yield g, Record(f"{words.record('genetics')[0]} {g.finding}", _when(g.when))
    for t in facts.therapies:
        agent = words.agents.get(t.agent, t.agent)
        route = " intrathecal" if t.intrathecal else ""
        yield t, Record(f"{agent}{route}, {t.status}", _when(t.start))
    for p in facts.procedures:
        yield p, Record(f"{words.record(p.kind)[0]}, {p.status}", _when(p.when))


def records_of(facts: PatientFacts) -> dict[str, Record]:
    """FHIR reference → what the record held; a reference read as two facts keeps the first."""
    index: dict[str, Record] = {}
    for fact, record in _described(facts):
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
