"""The words of the cards, as :func:`service.cards.labels.words` makes them (seed ids and internal
names replaced) and as the summary card reads a scheme's reason (without the table it cites), held
to their plain definitions: the patterns and helpers are written for speed, and must find exactly
what the plain ones find."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from service.cards.labels import SEED_ID, labels, short_cite, words
from service.cards.summary import _without_citation
from service.sources import SOURCES

# A seed id is cited only where no word, decimal point or comma precedes it, and no number or
# percent sign follows it: the definition, with the look-behind in front.
PLAIN_SEED_ID = re.compile(r"(?<![\w.,])(" + "|".join(SOURCES) + r")(?![\w.,]\d)(?!%)")
NAMES = sorted({*labels().values, *labels().advice})
PIECES = [*SOURCES, *NAMES, "0", "1", "x", "é", "_", "-", ".", ",", "%", " ", "(", ")",
          "1000", "0.001"]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


def plain_words(text: str) -> str:
    """words() as first written: every hyphenated name, longest first, then every seed id."""
    known = {**labels().advice, **labels().values}
    names = sorted((v for v in known if "-" in v), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    text = pattern.sub(lambda m: known[m.group(1)], text)
    return PLAIN_SEED_ID.sub(lambda m: short_cite(m.group(1)), text)


@given(texts)
@example("(000 Figure 1A), 001 prefers 0.001 and 1000, 004%, x003, 002.5 ,004")
def test_seed_ids_are_found_where_the_plain_pattern_finds_them(text: str) -> None:
    assert ([(m.span(), m.group(1)) for m in SEED_ID.finditer(text)]
            == [(m.span(), m.group(1)) for m in PLAIN_SEED_ID.finditer(text)])


@given(texts)
@example("hsct-cr2 after isolated-marrow relapse (000 Table 1); low-or-intermediate-risk")
@example("_hsct-cr2 hsct-cr2_ éhsct-cr2 ²hsct-cr2 -hsct-cr2 hsct-cr2- x-hsct-cr2 car-t car-t-cd19")
def test_words_replaces_what_its_plain_definition_replaces(text: str) -> None:
    assert words(text) == plain_words(text)


def test_a_seed_is_cited_by_its_authors_and_year() -> None:
    assert short_cite("000") == "Hunger & Raetz 2020"
    assert short_cite("001") == "Locatelli et al. 2012"
    assert words("as in 000 and 004") == "as in Hunger & Raetz 2020 and Frey & Luger 2015"


def test_every_hyphenated_name_is_a_run_of_word_characters_and_hyphens() -> None:
    """words() finds names as such runs: a name with a space or other punctuation in it would
    never be replaced (change how words() finds names before adding one)."""
    assert [n for n in NAMES if "-" in n and not re.fullmatch(r"[\w-]+", n)] == []


PLAIN_CITATION = re.compile(r"\s*\(([^()]*)\)$")  # a reason's cited table, white space before it
reasons = st.lists(st.sampled_from(["(", ")", " ", "\n", "\t", "\u2003", "x", "000 Table 1", "→"]),
                   max_size=12).map("".join)


@given(reasons)
@example("B-lineage, late → S2 (001 Table 1; 002 Table 5)")
@example("a (b) (c)\n")
@example("a (b (c)")
def test_a_reason_loses_its_citation_as_the_plain_pattern_removes_it(reason: str) -> None:
    assert _without_citation(reason) == PLAIN_CITATION.sub("", reason)
