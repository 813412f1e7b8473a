"""The advice machinery (evaluate.py, coherence.py, advice/__init__.py) on the paths the shipped
tables are built never to reach — parameters that disagree, contradicting codes — and on the
records that leave the lineage or the COG timing open (CLINICAL_RULES §1.4a; issue 16)."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
import pytest
from advice_helpers import assess, codes, missing
from scenarios import DIAGNOSIS, first_relapse, iso

from service.engine import advice
from service.engine.advice import coherence
from service.engine.advice.conditions import B_LINEAGE
from service.engine.advice.evaluate import Item, Outcome, check_tables, evaluate
from service.engine.advice.rules import Rule, Table
from service.engine.advice.situation import REF_GROUPS, VALUE_NAMES, Situation, situation
from service.engine.case import Case
from service.engine.core import build_case, stratify_case
from service.extract import extract_facts
from service.mapping import default_code_maps


def _case(bundle: dict[str, Any], months: int) -> Case:
    as_of = date.fromisoformat(iso(months))
    resources = [e["resource"] for e in bundle["entry"]]
    facts = extract_facts(resources, default_code_maps(), as_of, None, {})
    case = build_case(facts, as_of, [])
    assert case is not None
    stratify_case(case)
    return case


def _situation() -> Situation:
    return situation(_case(first_relapse("B", "BM", 24, None), 25))


def _table(*rules: Rule) -> Table:
    return Table("test", "000", "says", rules=rules)


# evaluate: rules for one code that ask for different parameters withhold it, never pick one
def test_rules_that_disagree_on_a_parameter_withhold_the_code() -> None:
    table = _table(*(Rule("cranial-radiation", (B_LINEAGE,), "a.", ("001",), (),
                          {"dose_gy": gy, "dose_cgy": gy * 100}) for gy in (18, 15, 12)))
    outcome = evaluate([table], _situation(), "recommendation", [])
    assert "cranial-radiation" not in outcome.items
    assert outcome.conflicts == ["cranial-radiation"]


def test_rules_that_agree_make_one_item_with_every_reason_source_and_the_higher_severity() -> None:
    table = _table(
        Rule("mrd-assessment", (B_LINEAGE,), "a.", ("000",), ("mrd",), {"timepoint": "day 29"}),
        Rule("mrd-assessment", (B_LINEAGE,), "b.", ("002",), ("relapse-date",),
             {"timepoint": "day 29", "threshold_percent": 0.01}),
        Rule("cd19-negative", (B_LINEAGE,), "w.", ("000",), (), severity="info"),
        Rule("cd19-negative", (B_LINEAGE,), "x.", ("000",), (), severity="critical"),
        Rule("cd19-negative", (B_LINEAGE,), "y.", ("000",), (), severity="warning"))
    s = _situation()
    mrd = evaluate([table], s, "recommendation", []).items["mrd-assessment"]
    assert mrd.params == {"timepoint": "day 29", "threshold_percent": 0.01}
    assert (mrd.reasons, mrd.sources, mrd.rests_on) == (["a.", "b."], ["000", "002"],
                                                         ["mrd", "relapse-date"])
    assert evaluate([table], s, "warning", []).items["cd19-negative"].severity == "critical"


def test_load_check_names_an_unknown_reference_group() -> None:
    rule = Rule("hsct-cr2", (B_LINEAGE,), "x", ("000",), (), refs=("no-such-group",))
    problems = check_tables([_table(rule)], VALUE_NAMES, REF_GROUPS)
    assert len(problems) == 1 and "unknown reference groups" in problems[0]


# coherence: every pair that must never go out together is found
@pytest.mark.parametrize("row", coherence.NEVER_TOGETHER, ids=lambda r: r.because[:30])
def test_each_contradicting_pair_is_found(row: coherence.Never) -> None:
    found = coherence.violations({row.first[0], row.second[-1]}, "B")
    assert found == [({row.first[0], row.second[-1]}, row.because)]
    assert coherence.violations({row.first[0]}, "B") == []


@pytest.mark.parametrize(("phenotype", "found"), [("B", False), ("T", True), (None, True)])
def test_cd19_directed_therapy_only_for_b_lineage(phenotype: str | None, found: bool) -> None:
    assert bool(coherence.violations({"car-t-cd19"}, phenotype)) is found


# advice: contradicting recommendations are withheld with a warning, never sent
def test_contradicting_recommendations_are_withheld_and_said_so() -> None:
    case = _case(first_relapse("B", "BM", 24, None), 25)
    s = situation(case)
    recs = evaluate([_table(Rule("blinatumomab-consolidation", (B_LINEAGE,), "a.", ("000",), (),
                                 {"cycles": 2}),
                            Rule("chemotherapy-continuation", (B_LINEAGE,), "b.", ("000",), ()),
                            Rule("donor-search", (B_LINEAGE,), "c.", ("000",), ()))],
                    s, "recommendation", [])
    warnings = evaluate([_table(Rule("cd19-negative", (B_LINEAGE,), "w.", ("000",), (),
                                     severity="warning"))], s, "warning", [])
    warnings.conflicts.append("cd19-negative")
    advice._emit(case, recs, warnings)
    assert [r.code for r in case.recommendations] == ["donor-search"]
    incoherent = [w for w in case.warnings if w.code == "incoherent-advice"]
    assert [w.code for w in case.warnings] == ["incoherent-advice"]
    assert incoherent[0].params["withheld"] == ", ".join(
        ["blinatumomab-consolidation", "cd19-negative", "chemotherapy-continuation"])
    assert incoherent[0].severity == "warning"


# advice/__init__: merging the variants of an open lineage or timing
def _item(code: str, reasons: list[str], **params: object) -> Item:
    return Item(code, dict(params), reasons, ["000"], [], [], None)


def test_variants_that_disagree_on_parameters_withhold_the_code() -> None:
    merged, depends = advice._merge([Outcome(items={"x": _item("x", ["a"], n=1)}),
                                     Outcome(items={"x": _item("x", ["a"], n=2)})], ["B", "T"])
    assert "x" not in merged.items and merged.conflicts == ["x"] and depends == {}


def test_variants_with_the_same_reason_say_it_once_and_different_reasons_are_labelled() -> None:
    same, _ = advice._merge([Outcome(items={"x": _item("x", ["a"])}),
                             Outcome(items={"x": _item("x", ["a"])})], ["B", "T"])
    assert same.items["x"].reasons == ["a"]
    differ, _ = advice._merge([Outcome(items={"x": _item("x", ["a"])}),
                               Outcome(items={"x": _item("x", ["b"])})], ["B", "T"])
    assert differ.items["x"].reasons == ["If B: a", "If T: b"]


# §1.4a COG timing open: what is common is given, the rest depends on the missing fact
def test_no_diagnosis_date_gives_the_common_advice_and_asks_for_the_date() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    del bundle["entry"][1]["resource"]["onsetDateTime"]
    result = assess(bundle, 25)
    assert "reinduction-4-drug" in codes(result)
    assert not codes(result) & {"blinatumomab-consolidation", "chemotherapy-continuation"}
    decides = missing(result)["diagnosis-date"]["decides"]
    assert "COG early → " in decides and "COG late → " in decides
    assert any("Only the advice common to every possible value" in n for n in result["notes"])


def test_site_unknown_with_timing_depending_on_it_asks_for_the_site() -> None:
    """20 months, CNS3 and no marrow result: early if combined (< 36 months), late if isolated
    CNS (≥ 18 months), so the COG timing waits for the site."""
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                      b.relapse(iso(20)), b.medication("103", iso(6), status="active"),
                      *b.csf(iso(20), 12, 0, True))
    result = assess(bundle, 21)
    assert "advice: COG late → donor-search" in missing(result)["relapse-site"]["decides"]
