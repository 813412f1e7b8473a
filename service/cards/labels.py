"""The human words for the assessment's internal names, read from ``labels.yaml``.

Every text a card shows from the engine passes through :func:`words`, which replaces the
enumeration values and advice codes the engine writes (``isolated-marrow``,
``low-or-intermediate``, ``hsct-cr2``) with their labels, and the seed ids it cites
(``000 Table 1``) with the article's short name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from service.sources import SOURCES
from service.yaml_text import safe_load

# A seed id as the engine cites it ("(000 Figure 1A)", "001 prefers"), never part of a number.
# The ids come first so that the regex engine skips straight to them (a leading look-behind made
# it try every position); what may not precede an id is checked looking back from the id's end,
# which needs every id to have the same length (re.compile raises otherwise).
_IDS = "|".join(SOURCES)
SEED_ID = re.compile(rf"({_IDS})(?<![\w.,](?:{_IDS}))(?![\w.,]\d)(?!%)")


@dataclass(frozen=True)
class Step:
    """Recommendations shown together on one card."""

    summary: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Labels:
    facts: dict[str, str]
    affects: dict[str, str]
    schemes: dict[str, dict[str, str]]
    values: dict[str, str]
    adult_approach: dict[str, str]
    records: dict[str, str | dict[str, str]]
    resource_types: dict[str, str]
    agents: dict[str, str]
    advice: dict[str, str]
    steps: tuple[Step, ...]

    def fact(self, name: str) -> str:
        return self.facts.get(name, name.replace("-", " "))

    def value(self, value: Any) -> str:
        return self.values.get(str(value), str(value))

    def scheme(self, key: str) -> str:
        return self.schemes[key]["name"] if key in self.schemes else key

    def record(self, kind: str) -> tuple[str, str | None]:
        """The name of a kind of record and the unit its values are in (None: not shown)."""
        entry = self.records.get(kind, kind.replace("-", " "))
        if isinstance(entry, dict):
            return entry["name"], entry.get("unit")
        return entry, None


@lru_cache(maxsize=1)
def labels() -> Labels:
    text = resources.files("service.cards").joinpath("labels.yaml").read_text("utf-8")
    data = safe_load(text)
    steps = tuple(Step(s["summary"], tuple(s["codes"])) for s in data.pop("steps"))
    return Labels(**data, steps=steps)


@lru_cache(maxsize=1)
def _value_words() -> dict[str, str]:
    """The label of every internal name a text may hold (a value's label where an advice code
    has the same name), merged once instead of on every call of :func:`words`."""
    return {**labels().advice, **labels().values}


# From the first hyphen of a run of word characters and hyphens to the run's end.  Every name
# words() replaces is such a run with a hyphen, so the search stops at hyphens only: a pattern
# of the names themselves made the regex engine try each of them at every word.
HYPHEN_ONWARD = re.compile(r"-[\w-]*")


def _names_in_words(text: str) -> str:
    """``text`` with every internal name written with a hyphen replaced by its label, where the
    name is a whole run of word characters and hyphens."""
    if "-" not in text:
        return text
    known, pieces, done = _value_words(), [], 0
    for onward in HYPHEN_ONWARD.finditer(text):
        start = onward.start()
        while start and (text[start - 1].isalnum() or text[start - 1] == "_"):  # \w, back
            start -= 1
        label = known.get(text[start:onward.end()])
        if label is not None:
            pieces += [text[done:start], label]
            done = onward.end()
    return "".join(pieces) + text[done:]


@cache  # one entry per source: the citation never changes
def short_cite(seed: str) -> str:
    """A seed as a clinician cites it: "Hunger & Raetz 2020"."""
    source = SOURCES[seed]
    authors, rest = source.label.split(", ", 1)
    year = re.search(r"\b(19|20)\d\d\b", rest)
    return f"{authors} {year.group(0)}" if year else authors


def words(text: str) -> str:
    """An engine text with internal values and seed ids replaced by words."""
    return SEED_ID.sub(_cited, _names_in_words(text))


def _cited(seed_id: re.Match[str]) -> str:
    return short_cite(seed_id.group(1))
