"""Groups from facts that may be unknown (CLINICAL_RULES §1.4a): a group only when every possible
value of the missing facts gives it; otherwise indeterminate, naming the fact and which value
leads where.  A known fact is never reported as missing or deciding."""

from __future__ import annotations

import pytest
from scenarios import assess_cell

from service.engine.schemes import bfm, cog, ibfm, ukall
from service.engine.stratify import INDETERMINATE, Dimension, Inputs, Result, describe, result


def bfm_family(inputs: Inputs) -> dict[str, Result]:
    """BFM, UK ALLR3 and I-BFM read the same inputs (one registry entry each)."""
    return {s.id: result(s, inputs) for s in (bfm.SCHEME, ukall.SCHEME, ibfm.SCHEME)}


def cog_result(inputs: Inputs) -> Result:
    return result(cog.SCHEME, inputs)


def missing(result: dict) -> dict[str, dict]:
    return {m["fact"]: m for m in result.get("missing", [])}


def test_known_diagnosis_date_is_not_missing_when_only_mrd_decides_cog() -> None:
    """B late marrow relapse, MRD unknown: COG low or intermediate pending MRD (000 Table 1).
    The diagnosis date is recorded (40 months): it decides nothing and is not missing."""
    result = assess_cell("B", "BM", "late")
    cog = result["strata"]["cog"]
    assert cog["group"] == "low-or-intermediate"
    assert cog["depends_on"] == ["mrd-end-of-reinduction"]
    found = missing(result)
    assert "diagnosis-date" not in found
    # the COG reading first; the advice layer adds what the value decides for the pathway
    assert found["mrd-end-of-reinduction"]["decides"].startswith(
        "end-block-1 MRD vs 0.1%: below → low; at-or-above → intermediate")


def test_unknown_lineage_names_the_value_that_leads_to_each_group() -> None:
    """B isolated marrow early is BFM S3, T is S4 (§2.1); UK is high either way (§2.2)."""
    result = assess_cell(None, "BM", "early")
    bfm = result["strata"]["bfm"]
    assert bfm["group"] == "indeterminate"
    assert bfm["risk"] == "high"  # S3 and S4 are both high risk
    assert bfm["depends_on"] == ["immunophenotype"]
    assert bfm["reason"] == ("indeterminate: immunophenotype: B → S3; T → S4 "
                             "(001 Table 1; 002 Table 5)")
    assert result["strata"]["ukall"]["group"] == "high"
    assert "depends_on" not in result["strata"]["ukall"]
    decides = missing(result)["immunophenotype"]["decides"]
    assert decides.startswith("immunophenotype: B → S3; T → S4 | advice: ")


@pytest.mark.parametrize(("site", "label", "group"), [
    ("BM", "isolated marrow", "S2"), ("COMB", "combined", "S2"),
    ("IEM-cns", "isolated extramedullary", "S1"), ("IEM-testis", "isolated extramedullary", "S1")])
def test_the_reason_names_the_site_category(site: str, label: str, group: str) -> None:
    reason = assess_cell("B", site, "late")["strata"]["bfm"]["reason"]
    assert reason.startswith(f"B-lineage, {label}, 40 months from diagnosis")
    assert reason.endswith(f"→ {group} (001 Table 1; 002 Table 5)")


def test_a_known_group_reads_its_facts() -> None:
    result = assess_cell("B", "BM", "late")
    assert result["strata"]["bfm"]["reason"] == (
        "B-lineage, isolated marrow, 40 months from diagnosis, BFM timing late → S2 "
        "(001 Table 1; 002 Table 5)")
    assert result["strata"]["bfm"]["risk"] == "intermediate"


# --- direct: the evaluation over every combination ---------------------------------------------

def _inputs(phenotype=("B",), site=("BM",), timing=("late",), months=(40, 40),
            mrd=("below", "at-or-above")) -> Inputs:
    return Inputs(
        phenotype=Dimension("immunophenotype", "immunophenotype", phenotype),
        site=Dimension("relapse-site", "site", site),
        bfm_timing=Dimension("frontline-end-date", "BFM timing", timing),
        months=months,
        mrd=Dimension("mrd-end-of-reinduction", "MRD", mrd),
        described={"immunophenotype": "B-lineage", "relapse-site": "isolated marrow"},
    )


def test_bfm_family_all_combinations() -> None:
    results = bfm_family(_inputs(site=("BM", "COMB"), timing=("early", "late")))
    bfm = results["bfm"]
    # B: BM E S3, BM L S2, COMB E S2, COMB L S2
    assert bfm.group == INDETERMINATE
    assert bfm.combos == {("B", "BM", "early"): "S3", ("B", "BM", "late"): "S2",
                          ("B", "COMB", "early"): "S2", ("B", "COMB", "late"): "S2"}
    assert [d.fact for d in bfm.deciding] == ["relapse-site", "frontline-end-date"]
    assert bfm.decides == ("site: BM → S2 or S3; COMB → S2 | "
                           "BFM timing: early → S2 or S3; late → S2")
    # UK: BM E high, BM L intermediate, COMB E/L intermediate; I-BFM: BM E high, others standard
    assert results["ukall"].group == INDETERMINATE
    assert results["ibfm"].group == INDETERMINATE
    single = bfm_family(_inputs())
    assert single["bfm"].group == "S2" and single["bfm"].deciding == []
    assert single["bfm"].decides is None


@pytest.mark.parametrize(("months", "site", "mrd", "group"), [
    ((40, 40), ("BM",), ("below",), "low"),
    ((40, 40), ("BM",), ("at-or-above",), "intermediate"),
    ((40, 40), ("BM",), ("below", "at-or-above"), "low-or-intermediate"),
    ((35, 35), ("BM",), ("below", "at-or-above"), "high"),     # early marrow: high either way
    ((35, 36), ("BM",), ("below",), INDETERMINATE),            # early high or late low
    ((35, 36), ("BM",), ("below", "at-or-above"), INDETERMINATE),
    ((20, 20), ("IEM",), ("below",), "low"),                   # IEM late from 18 months
    ((17, 17), ("IEM",), ("below",), "high"),
    ((20, 20), ("COMB",), ("below",), "high"),                 # combined counts as marrow
    ((20, 20), ("IEM", "COMB"), ("below",), INDETERMINATE),
    (None, ("BM",), ("below",), INDETERMINATE),
])
def test_cog_result(months, site, mrd, group) -> None:
    result = cog_result(_inputs(site=site, months=months, mrd=mrd))
    assert result.group == group


def test_cog_t_lineage_is_high_whatever_is_missing() -> None:
    result = cog_result(_inputs(phenotype=("T",), site=("BM", "COMB", "IEM"), months=None))
    assert result.group == "high"
    assert result.deciding == []


def test_describe() -> None:
    inputs = _inputs()
    known = bfm_family(inputs)["bfm"]
    assert describe(known, inputs, "src", ["immunophenotype", "relapse-site", "diagnosis-date"]) \
        == "B-lineage, isolated marrow → S2 (src)"
    unknown = bfm_family(_inputs(phenotype=("B", "T")))["bfm"]
    assert describe(unknown, inputs, "src", []) == \
        "indeterminate: immunophenotype: B → S2; T → S4 (src)"


# §2.1 outcomes to display (001 Table 1): share of relapses; CR2; 5-y OS chemotherapy; 5-y OS HSCT
BFM_OUTCOMES = {
    "S1": ("5% of relapses", "CR2 99%", "60–70% with chemotherapy", "HSCT not used"),
    "S2": ("55% of relapses", "CR2 97%", "40% with chemotherapy", "60% with HSCT"),
    "S3": ("15% of relapses", "CR2 80–85%", "< 5% with chemotherapy", "30% with HSCT"),
    "S4": ("25% of relapses", "CR2 70–75%", "< 5% with chemotherapy", "25% with HSCT"),
}


@pytest.mark.parametrize(("phenotype", "site", "timing", "group"), [
    ("B", "IEM-cns", "late", "S1"), ("B", "BM", "late", "S2"), ("B", "BM", "early", "S3"),
    ("B", "BM", "very-early", "S4")])
def test_bfm_outcomes_shown_for_the_group(phenotype: str, site: str, timing: str,
                                          group: str) -> None:
    bfm = assess_cell(phenotype, site, timing)["strata"]["bfm"]
    assert bfm["group"] == group
    for figure in BFM_OUTCOMES[group]:
        assert figure in bfm["outcomes"]
    others = [f for g, figures in BFM_OUTCOMES.items() if g != group for f in figures
              if not any(f in mine for mine in BFM_OUTCOMES[group])]
    assert not [f for f in others if f in bfm["outcomes"]]
