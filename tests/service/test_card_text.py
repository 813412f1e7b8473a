"""What a clinician reads on the cards: labels, values and dates, never the assessment's internal
names, raw FHIR references or JSON (OUTPUT.md §2).  Scanned over the cards of every fixture and
of engine scenarios that cover the populations, sites and special situations; the summary card of
every seed vignette fits on one screen."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import builders as b
import pytest
from cds_rules import assert_valid_card
from scenarios import first_relapse, iso

from service.cards.labels import labels
from service.cards.records import Record
from service.engine.advice.catalogue import CATALOGUE, ENGINE_WARNINGS
from service.engine.case import HOW
from service.engine.schemes import SCHEMES
from service.mapping import FACTS
from service.pipeline import assess_bundle
from service.render import render_cards
from service.vocabulary import BfmTiming, CogTiming, Phenotype, Population, Site

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SUMMARY_DETAIL_MAX = 1000  # characters of markdown: one screen
FHIR_REFERENCE = re.compile(r"\b(Patient|Condition|Observation|Medication\w*|Procedure)/")
SNAKE_CASE = re.compile(r"\b[a-z0-9]+\\?_[a-z0-9]")
SEED_ID = re.compile(r"(?<![\w.,])00[0-4](?![\w.,]?\d)")
JSON_OR_PARAMETER = re.compile(r"[{}=]")


def _internal_names() -> set[str]:
    """Names of the assessment a card must translate: fact names, advice codes and enumeration
    values written with a hyphen (single words such as "genetics" read as English)."""
    names = set(labels().facts) | set(HOW) | set(CATALOGUE) | set(ENGINE_WARNINGS)
    names |= set(labels().values) | set(labels().affects)
    return {n for n in names if "-" in n}


INTERNAL = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _internal_names()),
                                                        key=len, reverse=True)) + r")(?![\w-])")


def _cards(bundle: dict[str, Any], as_of: date) -> list[dict[str, Any]]:
    records: dict[str, Record] = {}
    assessment = assess_bundle(bundle, as_of=as_of, records=records)
    rendered = render_cards(assessment, "hook-1", str(assessment.get("patient") or "Patient"),
                            records)
    for r in rendered:
        assert_valid_card(r.card)
    return [r.card for r in rendered]


@cache
def fixture_cards(name: str) -> list[dict[str, Any]]:
    folder = FIXTURES / name
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    bundle = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    return _cards(bundle, date.fromisoformat(expected["as_of"]))


def _scenario(phenotype: str | None, site: str, months: int, end: int | None,
              birth: str = "2010-05-05", extra: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    bundle = first_relapse(phenotype, site, months, end, birth=birth, extra=extra)
    return _cards(bundle, date.fromisoformat(iso(months + 1)))


SCENARIOS = {
    "pediatric B marrow late": lambda: _scenario("B", "BM", 40, 26),
    "pediatric T combined early": lambda: _scenario("T", "COMB", 24, None),
    "isolated CNS very early": lambda: _scenario("B", "IEM-cns", 12, None),
    "isolated testicular late": lambda: _scenario("B", "IEM-testis", 40, 26),
    "phenotype indeterminate": lambda: _scenario(None, "BM", 24, None),
    "AYA (20 at diagnosis)": lambda: _scenario("B", "BM", 24, None, birth="1995-01-01"),
    "adult (40 at diagnosis)": lambda: _scenario("B", "COMB", 10, None, birth="1975-01-01"),
    "after CAR-T": lambda: _scenario("B", "BM", 40, 26, extra=(
        b.procedure("car-t-infusion", iso(36), system=b.LOCAL),)),
}

ALL_CARDS = [pytest.param(lambda n=n: fixture_cards(n), id=n)
             for n in sorted(p.parent.name for p in FIXTURES.glob("*/bundle.json"))]
ALL_CARDS += [pytest.param(f, id=name) for name, f in SCENARIOS.items()]


def card_texts(card: dict[str, Any]) -> list[str]:
    """Every text of a card a user may see (not the FHIR resources of its suggestions)."""
    texts = [card["summary"], card.get("detail", ""), card["source"]["label"],
             card["source"]["topic"]["display"]]
    for suggestion in card.get("suggestions", []):
        texts += [suggestion["label"], *(a["description"] for a in suggestion["actions"])]
    texts += [r["display"] for r in card.get("overrideReasons", [])]
    texts += [link["label"] for link in card.get("links", [])]
    return texts


@pytest.mark.parametrize("make", ALL_CARDS)
def test_no_card_text_carries_an_internal_name_a_reference_or_json(make: Any) -> None:
    for card in make():
        for text in card_texts(card):
            where = f"{card['source']['topic']['code']}: {text}"
            assert not INTERNAL.search(text), (INTERNAL.search(text), where)
            assert not FHIR_REFERENCE.search(text), where
            assert not JSON_OR_PARAMETER.search(text), where
            assert not SNAKE_CASE.search(text), where
            assert not SEED_ID.search(text), where


SEEDS = sorted(p.parent.name for p in FIXTURES.glob("seed*/bundle.json"))


@pytest.mark.parametrize("name", SEEDS)
def test_the_summary_of_a_seed_vignette_fits_on_one_screen(name: str) -> None:
    summary = fixture_cards(name)[0]
    assert summary["source"]["topic"]["code"] == "summary"
    assert len(summary["detail"]) < SUMMARY_DETAIL_MAX, summary["detail"]
    assert "Risk:" in summary["summary"]


def test_every_name_the_engine_emits_has_a_label() -> None:
    words = labels()
    enumerations = {*Site, *Phenotype, *CogTiming, *BfmTiming, *Population}
    assert {str(v) for v in enumerations if "-" in v or v in ("B", "T")} <= set(words.values)
    assert set(HOW) <= set(words.facts)
    assert {s.id for s in SCHEMES} == set(words.schemes)
    observation_kinds = {k for k, (role, _) in FACTS.items() if role == "observation"}
    assert observation_kinds - {"mrd", "genetic-variant-assessment", "gene-studied",
                                "dna-change-type", "iscn", "disease-status", "morphology",
                                "immunophenotype"} <= set(words.records)
    assert {c for step in words.steps for c in step.codes} <= set(CATALOGUE)

