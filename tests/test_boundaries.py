"""Boundaries of CLINICAL_RULES §1.1, §1.2, §1.5 and §2: each cut-off on both sides."""

from __future__ import annotations

from datetime import date

import builders as b
import pytest
from scenarios import DIAGNOSIS, first_relapse, iso

from service.engine.dates import months_between
from service.pipeline import assess_bundle


@pytest.mark.parametrize(("start", "end", "months"), [
    ("2020-01-15", "2021-07-14", 17),  # §1.1 examples
    ("2020-01-15", "2021-07-15", 18),
    ("2021-01-31", "2021-02-28", 0),
    ("2021-01-31", "2021-03-31", 2),
    ("2020-02-29", "2021-02-28", 11),  # the formula, not dateutil's 12
    ("2021-03-31", "2021-01-31", -2),
])
def test_whole_calendar_months(start: str, end: str, months: int) -> None:
    assert months_between(date.fromisoformat(start), date.fromisoformat(end)) == months


def _assess(bundle: dict, months: int) -> dict:
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(months + 2)))


def test_17_vs_18_months_very_early_vs_early() -> None:
    # one day short of 18 months is 17 whole months → very early (BFM S4 for B marrow)
    day_before = first_relapse("B", "BM", 0, None)
    day_before["entry"][2]["resource"]["onsetDateTime"] = iso(18, -1)
    for e in day_before["entry"]:
        if e["resource"]["resourceType"] == "Observation":
            e["resource"]["effectiveDateTime"] = iso(18, -1)
    short = _assess(day_before, 18)
    exact = _assess(first_relapse("B", "BM", 18, None), 18)
    assert short["relapse"]["months_from_diagnosis"] == 17
    assert short["relapse"]["timing"]["bfm"] == "very-early"
    assert short["strata"]["bfm"]["group"] == "S4"
    assert exact["relapse"]["months_from_diagnosis"] == 18
    assert exact["relapse"]["timing"]["bfm"] == "early"
    assert exact["strata"]["bfm"]["group"] == "S3"


@pytest.mark.parametrize(("site", "months", "cog"), [
    ("IEM-cns", 17, "early"), ("IEM-cns", 18, "late"),
    ("BM", 35, "early"), ("BM", 36, "late"),
])
def test_cog_cut_offs(site: str, months: int, cog: str) -> None:
    result = _assess(first_relapse("B", site, months, months - 8), months)
    assert result["relapse"]["timing"]["cog"] == cog


@pytest.mark.parametrize(("months", "provisional"), [(29, "early"), (30, "late")])
def test_frontline_end_unknown_is_indeterminate_with_provisional_reading(
        months: int, provisional: str) -> None:
    bundle = first_relapse("B", "BM", months, None)
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "MedicationStatement"]
    result = _assess(bundle, months)
    assert result["relapse"]["timing"]["bfm"] == "indeterminate"
    assert result["relapse"]["timing"]["bfm_provisional"] == provisional
    assert result["strata"]["bfm"]["group"] == "indeterminate"  # B marrow: S3 (E) or S2 (L)
    assert result["strata"]["ukall"]["group"] in ("high", "indeterminate")
    missing = {m["fact"]: m for m in result["missing"]}
    assert "bfm" in missing["frontline-end-date"]["affects"]


def test_t_marrow_needs_no_frontline_end_but_lists_it() -> None:
    """§1.4a: a T-ALL marrow relapse is S4 whatever its timing."""
    bundle = first_relapse("T", "BM", 30, None)
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "MedicationStatement"]
    result = _assess(bundle, 30)
    assert result["strata"]["bfm"]["group"] == "S4"
    assert result["strata"]["ukall"]["group"] == "high"


@pytest.mark.parametrize(("end_months", "timing"), [(34, "late"), (35, "early")])
def test_exactly_six_months_after_frontline_end_is_late(end_months: int, timing: str) -> None:
    result = _assess(first_relapse("B", "BM", 40, end_months), 40)
    assert result["relapse"]["months_after_frontline_end"] == 40 - end_months
    assert result["relapse"]["timing"]["bfm"] == timing


def _late_with_mrd(*mrd_args, **mrd_kwargs) -> dict:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), *mrd_args, **mrd_kwargs))
    bundle = first_relapse("B", "BM", 40, 26, extra=extra)
    return _assess(bundle, 42)


@pytest.mark.parametrize(("value", "unit", "comparator", "group"), [
    (0.1, "%", None, "intermediate"),        # exactly 0.1 % is ≥ 0.1 %
    (0.001, "1", None, "intermediate"),      # the same as a fraction
    (0.099, "%", None, "low"),
    (0.00099, "1", None, "low"),
    (0.1, "%", "<", "low"),                  # "< 0.1 %" is below the cut-off
    (0.5, "%", "<", "low-or-intermediate"),  # "< 0.5 %" cannot tell
    (0.1, "%", ">=", "intermediate"),
])
def test_cog_mrd_cut_off(value: float, unit: str, comparator: str | None, group: str) -> None:
    result = _late_with_mrd(value, unit, comparator)
    assert result["strata"]["cog"]["group"] == group


@pytest.mark.parametrize(("value", "unit", "comparator", "hsct"), [
    (0.01, "%", None, True),      # 10⁻⁴ exactly is MRD-positive → HSCT (000 Figure 1B)
    (0.0001, "1", None, True),
    (0.009, "%", None, False),
    (0.01, "%", "<", False),      # "< 0.01 %" is negative at 10⁻⁴
])
def test_isolated_cns_late_hsct_only_from_mrd_0_01_percent(value, unit, comparator, hsct) -> None:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), value, unit, comparator))
    result = _assess(first_relapse("B", "IEM-cns", 40, 26, extra=extra), 42)
    codes = {r["code"] for r in result["recommendations"]}
    assert ("hsct-cr2" in codes) is hsct
    assert result["strata"]["cog"]["group"] == "low"  # < 0.1 %: the COG group is low anyway


def test_uk_intermediate_mrd_5e_4_goes_to_hsct_but_not_cog() -> None:
    """§2.5 / issue 3: UK sends intermediate-risk MRD 5×10⁻⁴ to HSCT, COG/000 does not."""
    result = _late_with_mrd(0.05, "%")
    assert result["strata"]["ukall"]["group"] == "intermediate"
    discordance = [w for w in result["warnings"] if w["code"] == "allocation-discordance"]
    assert discordance, result["warnings"]
    assert "UK ALLR3: HSCT" in discordance[0]["params"]["answers"]
    assert discordance[0]["params"]["followed"] == "chemotherapy"  # what the cards recommend
    assert "chemotherapy-continuation" in {r["code"] for r in result["recommendations"]}


def test_partial_dates_straddling_a_cut_off_are_indeterminate() -> None:
    bundle = first_relapse("B", "BM", 18, None)
    bundle["entry"][1]["resource"]["onsetDateTime"] = DIAGNOSIS.strftime("%Y-%m")[:4]  # year only
    result = _assess(bundle, 18)
    assert result["relapse"]["timing"]["bfm"] == "indeterminate"
    assert "months_from_diagnosis" not in result["relapse"]
