"""The terminology survey (docs/TERMINOLOGY.md) is kept honest: every code its table lists maps
to the listed fact, with the listed meaning, through the real code maps in mappings/."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.mapping import FACTS, default_code_maps

SURVEY = Path(__file__).resolve().parent.parent / "docs" / "TERMINOLOGY.md"


def _table(marker: str) -> list[list[str]]:
    """The rows (cells stripped) of the Markdown table right after ``<!-- marker -->``."""
    lines = SURVEY.read_text(encoding="utf-8").split(f"<!-- {marker} -->", 1)[1].splitlines()
    rows = []
    for line in lines[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[2:]  # without the header and its rule


SYSTEMS = {name: uri for name, uri in _table("survey-systems")}
ROWS = _table("survey-table")
CODES = [(fact, means, system, code, sources)
         for fact, means, system, codes, sources in ROWS for code in codes.split()]
SOURCES = {row[0] for row in _table("survey-sources")}


def _means(text: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for pair in ([] if text == "-" else text.split(",")):
        name, value = (part.strip() for part in pair.split("="))
        found[name] = {"true": True, "false": False}.get(value, value)
    return found


def test_the_survey_table_is_read_and_names_its_sources() -> None:
    assert len(ROWS) > 100 and len(CODES) > 500
    assert all(len(row) == 5 for row in ROWS)
    for *_, sources in ROWS:
        keys = {part.split("(")[0].strip() for part in sources.split(",")}
        assert keys <= SOURCES, f"{keys - SOURCES} not in the Sources table"


@pytest.mark.parametrize(("fact", "means", "system", "code", "sources"), CODES,
                         ids=[f"{s}|{c}" for _, _, s, c, _ in CODES])
def test_each_surveyed_code_maps_to_its_fact(fact: str, means: str, system: str, code: str,
                                             sources: str) -> None:
    assert fact in FACTS, f"unknown fact {fact}"
    assert sources, "every row names its source"
    concept = default_code_maps().find(FACTS[fact][0], SYSTEMS[system], code)
    assert concept is not None, f"{system}|{code} is not in mappings/"
    assert concept.fact == fact
    for name, value in _means(means).items():
        assert concept.get(name) == value, f"{system}|{code}: {name} is {concept.get(name)!r}"


def test_every_blinatumomab_product_the_issue_names_is_surveyed() -> None:
    listed = {code for fact, means, system, code, _ in CODES
              if system == "rxnorm" and means == "agent=blinatumomab"}
    assert {"1597258", "1597260", "1597262", "1597267", "1651249", "1651250", "1651252",
            "1651253"} <= listed
