"""The advice tables as a whole: checked at load, coherent on every generated case, and every
parameter sent is a parameter shown (issue 8)."""

from __future__ import annotations

import re
from datetime import date
from graphlib import CycleError
from typing import Any

import builders as b
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import first_relapse, iso

from service.assessment import assessment_schema
from service.engine.advice import ALL_TABLES, coherence
from service.engine.advice.catalogue import CATALOGUE, ENGINE_WARNINGS, Entry, index
from service.engine.advice.conditions import B_LINEAGE, COG_LATE
from service.engine.advice.evaluate import check_tables, exclusion_order
from service.engine.advice.rules import Rule, Table, Value
from service.engine.advice.situation import REF_GROUPS, VALUE_NAMES
from service.pipeline import assess_bundle


def test_the_shipped_tables_pass_the_load_check() -> None:
    assert check_tables(ALL_TABLES, VALUE_NAMES, REF_GROUPS) == []


@pytest.mark.parametrize(("rule", "problem"), [
    (Rule("no-such-code", (B_LINEAGE,), "x", ("000",), ()), "no such code"),
    (Rule("mrd-assessment", (B_LINEAGE,), "x", ("000",), (), {"timepoint": "day 29"}),
     "needs parameters ['threshold_percent']"),
    (Rule("hsct-cr2", (B_LINEAGE,), "{no_such_value}", ("000",), ()), "unknown values"),
    (Rule("hsct-cr2", (B_LINEAGE,), "x", ("000",), (), {"p": Value("nope")}), "unknown values"),
    (Rule("cd19-negative", (B_LINEAGE,), "x", ("000",), ()), "needs a severity"),
    (Rule("hsct-cr2", (B_LINEAGE,), "x", ("000",), (), severity="warning"), "needs a severity"),
])
def test_load_check_names_the_rule_that_is_wrong(rule: Rule, problem: str) -> None:
    problems = check_tables([Table("t", "000", "says", rules=(rule,))], VALUE_NAMES, REF_GROUPS)
    assert len(problems) == 1 and problem in problems[0] and rule.code in problems[0]


def test_one_code_with_two_texts_is_refused() -> None:
    with pytest.raises(ValueError, match="hsct-cr2 is declared twice"):
        index((Entry("hsct-cr2", "recommendation", "A."), Entry("hsct-cr2", "recommendation", "B.")))


def test_a_cycle_of_exclusions_is_refused() -> None:
    entries = index((Entry("a", "recommendation", "A.", excludes=("b",)),
                     Entry("b", "recommendation", "B.", excludes=("a",))))
    with pytest.raises(CycleError):
        exclusion_order(entries)


def test_the_json_schema_lists_exactly_the_catalogue_codes() -> None:
    schema = assessment_schema()["properties"]
    recs = schema["recommendations"]["items"]["properties"]["code"]["enum"]
    warns = schema["warnings"]["items"]["properties"]["code"]["enum"]
    assert set(recs) == {c for c, e in CATALOGUE.items() if e.kind == "recommendation"}
    assert set(warns) == {c for c, e in CATALOGUE.items() if e.kind == "warning"} | set(ENGINE_WARNINGS)


def test_negated_conditions_read_as_sentences() -> None:
    assert str(~COG_LATE) == "not COG late" and str(COG_LATE) == "COG late"


# ---- generated cases ------------------------------------------------------------------------
AGES_AT_DIAGNOSIS = {"infant": "2014-08-01", "child": "2010-05-05", "teen": "1998-03-01",
                     "aya": "1985-03-01", "adult": "1960-03-01"}


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], date]:
    phenotype = draw(st.sampled_from(["B", "T", None]))
    site = draw(st.sampled_from(["BM", "COMB", "IEM-cns", "IEM-testis"]))
    months = draw(st.sampled_from([8, 17, 18, 24, 30, 35, 36, 40, 60]))
    on_therapy = draw(st.booleans()) or months < 24
    extra: list[Any] = []
    day = lambda d: iso(months, d)  # noqa: E731
    if draw(st.booleans()):
        extra.append(b.medication("3264", day(0), day(28)))
        mrd = draw(st.sampled_from([None, 0.005, 0.01, 0.05, 0.1, 0.5, 30.0]))
        if mrd is not None:
            extra.append(b.mrd(day(30), mrd))
        if draw(st.booleans()):
            extra.append(b.marrow(day(30), draw(st.sampled_from([1, 10, 40]))))
        if draw(st.booleans()):
            extra += [b.medication("1597258", day(42), day(69)), b.medication("1597258", day(84), day(111)),
                      b.mrd(day(115), draw(st.sampled_from([0.001, 0.05])))]
    for marker in ("cd19-blasts", "cd22-blasts"):
        value = draw(st.sampled_from([None, True, False]))
        if value is not None:
            extra.append(b.coded_obs(marker, day(0), value))
    genes = draw(st.sets(st.sampled_from(["TP53", "TCF3-HLF", "KMT2A", "BCR-ABL1", "JAK2", "ETV6-RUNX1"])))
    extra += [_gene(g, day(0)) for g in genes]
    history = draw(st.sampled_from(["none", "hsct-early", "hsct-late", "car-t-before", "car-t-after",
                                    "second-relapse"]))
    if history.startswith("hsct"):
        extra.append(b.procedure("234336002", iso(months - (6 if history == "hsct-early" else 14))))
    if history == "car-t-before":
        extra.append(b.procedure("car-t-infusion", iso(months - 4), system=b.LOCAL))
    if history == "car-t-after":
        extra += [b.procedure("car-t-infusion", day(60), system=b.LOCAL),
                  b.coded_obs("b-cell-recovery", day(120), draw(st.booleans()))]
    if history == "second-relapse":
        extra += [b.relapse(iso(months + 20)), b.marrow(iso(months + 20), 60)]
    for rxcui in draw(st.sets(st.sampled_from(["1597258", "274771", "1942950"]))):
        extra.append(b.planned(rxcui, day(10)))
    if draw(st.booleans()):
        extra.append(b.medication("6851", day(5), day(5), intrathecal=True))
    if draw(st.booleans()):
        extra.append(b.procedure("234336002", day(150), status="preparation"))
    if draw(st.booleans()):
        extra += [b.procedure("108290001", iso(3), body_sites=("12738006",), dose_cgy=2400),
                  b.procedure("108290001", day(90), status="preparation", body_sites=("12738006",))]
    birth = AGES_AT_DIAGNOSIS[draw(st.sampled_from(list(AGES_AT_DIAGNOSIS)))]
    bundle = first_relapse(phenotype, site, months, None if on_therapy else months - 8,
                           birth=birth, extra=tuple(extra))
    as_of = date.fromisoformat(iso(months + (24 if history == "second-relapse" else 5)))
    return bundle, as_of


GENE_PAIRS = {"TP53": ["HGNC:11998"], "TCF3-HLF": ["HGNC:11633", "HGNC:4977"], "KMT2A": ["HGNC:7132"],
              "BCR-ABL1": ["HGNC:1014", "HGNC:76"], "JAK2": ["HGNC:6192", "HGNC:8601"],
              "ETV6-RUNX1": ["HGNC:3495", "HGNC:10471"]}


def _gene(name: str, when: str) -> dict[str, Any]:
    obs = b.coded_obs("69548-6", when, True, system=b.LOINC)
    obs["valueCodeableConcept"] = {"coding": [{"system": b.LOINC, "code": "LA9633-4"}]}
    obs["component"] = [{"code": {"coding": [{"system": b.LOINC, "code": "48018-6"}]},
                         "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org",
                                                              "code": c}]}} for c in GENE_PAIRS[name]]
    return obs


def _numbers(value: object) -> list[str]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [f"{value:g}"]
    return re.findall(r"\d+(?:\.\d+)?", str(value)) if isinstance(value, str) else []


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_no_generated_case_gets_contradictory_advice(case: tuple[dict[str, Any], date]) -> None:
    bundle, as_of = case
    result = assess_bundle(bundle, as_of=as_of)
    if not result["applicable"]:
        return
    recommended = {r["code"] for r in result.get("recommendations", [])}
    warned = {w["code"] for w in result.get("warnings", [])}
    assert "incoherent-advice" not in warned, result["warnings"]
    assert coherence.violations(recommended | warned, result["relapse"]["immunophenotype"]) == []
    assert len(warned) == len(result.get("warnings", [])), "one warning per code"
    for advice in [*result.get("recommendations", []), *result.get("warnings", [])]:
        for name, value in advice.get("params", {}).items():
            for number in _numbers(value):
                assert number in advice["text"], (advice["code"], name, value, advice["text"])


def test_the_reviewable_rule_document_is_the_code() -> None:
    """docs/ADVICE_RULES.md is what clinicians review: it must be regenerated with the tables
    (python -m service.engine.advice.document > docs/ADVICE_RULES.md)."""
    from pathlib import Path

    from service.engine.advice.document import document

    shipped = (Path(__file__).resolve().parent.parent / "docs" / "ADVICE_RULES.md").read_text("utf-8")
    assert shipped == document()
