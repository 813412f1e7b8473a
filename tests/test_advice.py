"""CLINICAL_RULES §3–§6: each rule and threshold, on both sides where it has one."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
import pytest
from advice_helpers import REFRACTORY_CODE, codes, genetic, item, severity
from scenarios import first_relapse, iso

from service.pipeline import assess_bundle


def run(phenotype: str, site: str, months: int, end: int | None, *extra: Any,
        as_of: int | None = None, birth: str = "2010-05-05") -> dict[str, Any]:
    bundle = first_relapse(phenotype, site, months, end, extra=extra, birth=birth)
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(as_of or months + 1)))


def reinduced(months: int, *more: Any) -> tuple[Any, ...]:
    return (b.medication("3264", iso(months), iso(months, 28)), *more)


# §3.1 B-ALL first marrow relapse (000 Figure 1A)
def test_before_reinduction_four_drug_reinduction_and_prophylaxis() -> None:
    result = run("B", "BM", 24, None)
    assert {"reinduction-4-drug", "infection-prophylaxis", "donor-search"} <= codes(result)


def test_early_marrow_relapse_blinatumomab_two_cycles_then_hsct() -> None:
    result = run("B", "BM", 24, None, *reinduced(24, b.mrd(iso(24, 30), 0.5)), as_of=26)
    assert "reinduction-4-drug" not in codes(result)  # already under way
    assert item(result, "blinatumomab-consolidation")["params"]["cycles"] == 2
    assert "hsct-cr2" in codes(result)


def test_m3_after_reinduction_is_refractory() -> None:
    result = run("B", "BM", 24, None, *reinduced(24, b.marrow(iso(24, 30), 40)), as_of=26)
    assert {"inotuzumab", "car-t-cd19"} <= codes(result)
    assert "blinatumomab-consolidation" not in codes(result)


def test_m2_after_reinduction_is_not_refractory() -> None:
    result = run("B", "BM", 24, None, *reinduced(24, b.marrow(iso(24, 30), 25)), as_of=26)
    assert "blinatumomab-consolidation" in codes(result)


def test_late_relapse_low_mrd_chemotherapy_no_hsct() -> None:
    result = run("B", "BM", 40, 26, *reinduced(40, b.mrd(iso(40, 30), 0.05)), as_of=42)
    assert "chemotherapy-continuation" in codes(result)
    assert "hsct-cr2" not in codes(result) and "blinatumomab-consolidation" not in codes(result)


def test_late_relapse_mrd_pending_asks_for_it() -> None:
    result = run("B", "BM", 40, 26)
    assert "mrd-assessment" in codes(result)
    assert "mrd-end-of-reinduction" in {m["fact"] for m in result["missing"]}


def test_mrd_positive_after_two_blinatumomab_cycles_alternatives() -> None:
    blina = [b.medication("1597258", iso(25, d), iso(25, d + 27)) for d in (0, 42)]
    extra = (*reinduced(24, b.mrd(iso(24, 30), 0.5)), *blina, b.mrd(iso(27, 20), 0.02))
    result = run("B", "BM", 24, None, *extra, as_of=28)
    assert {"inotuzumab", "car-t-cd19"} <= codes(result)
    assert "hsct-cr2" not in codes(result)
    assert "inotuzumab-vod-risk" not in codes(result, "warnings")


@pytest.mark.parametrize(("value", "flagged"), [(0.01, True), (0.009, False)])
def test_hsct_planned_with_positive_mrd_asks_for_mrd_directed_therapy(value: float, flagged: bool) -> None:
    blina = [b.medication("1597258", iso(25, d), iso(25, d + 27)) for d in (0, 42)]
    extra = (*reinduced(24, b.mrd(iso(24, 30), 0.5)), *blina, b.mrd(iso(27, 20), value),
             b.procedure("234336002", iso(28), status="preparation"))
    result = run("B", "BM", 24, None, *extra, as_of=28)
    assert ("mrd-directed-therapy-before-hsct" in codes(result)) is flagged
    if flagged:
        step = item(result, "mrd-directed-therapy-before-hsct")
        assert "blinatumomab or inotuzumab" in step["text"] and "not a bar to HSCT" in step["text"]


# §3.2 isolated CNS (000 Figure 1B)
def test_early_isolated_cns_three_blocks_then_hsct() -> None:
    result = run("B", "IEM-cns", 15, None)
    text = item(result, "hsct-cr2")["text"]
    assert "after 3 blocks" in text and "TBI conditioning and a CNS boost" in text
    assert "intrathecal-therapy" in codes(result)
    assert "cranial-radiation" not in codes(result)  # HSCT with TBI and a CNS boost


def test_late_isolated_cns_chemotherapy_and_18_gy() -> None:
    result = run("B", "IEM-cns", 30, 24)
    assert "chemotherapy-continuation" in codes(result)
    assert item(result, "cranial-radiation")["params"]["dose_gy"] == 18


# §3.3 testicular
def test_testicular_local_therapy_doses() -> None:
    result = run("B", "IEM-testis", 40, 26)
    radiation = item(result, "testicular-radiation")["params"]
    assert (radiation["dose_gy"], radiation["bilateral_dose_gy"]) == (15, 24)
    assert "orchiectomy" in codes(result)


def test_early_isolated_testicular_goes_to_hsct() -> None:
    """Early by COG timing (< 18 months, 002 Table 6)."""
    assert "hsct-cr2" in codes(run("B", "IEM-testis", 17, None))
    assert "hsct-cr2" not in codes(run("B", "IEM-testis", 18, None))


# §3.4 T-ALL (000 Figure 1C)
def test_t_all_hsct_regardless_and_nelarabine_option() -> None:
    result = run("T", "BM", 40, 26)
    assert {"hsct-cr2", "nelarabine-regimen", "donor-search"} <= codes(result)


def test_t_all_mrd_positive_early_phase_trial() -> None:
    positive = run("T", "BM", 17, None, *reinduced(17, b.mrd(iso(17, 30), 0.01)), as_of=19)
    negative = run("T", "BM", 17, None, *reinduced(17, b.mrd(iso(17, 30), 0.009)), as_of=19)
    assert "early-phase-trial" in codes(positive)
    assert "early-phase-trial" not in codes(negative)


# §3.5 genetic modifiers
@pytest.mark.parametrize(("genes", "recommendation"), [
    (["BCR", "ABL1"], "tki"), (["ABL1", "EBF1"], "tki"), (["PDGFRB", "EBF1"], "tki"),
    (["JAK2", "PAX5"], "ruxolitinib-if-refractory"),
])
def test_targetable_fusions(genes: list[str], recommendation: str) -> None:
    assert recommendation in codes(run("B", "BM", 24, None, genetic(genes, iso(24))))


def test_jak2_alone_is_not_a_fusion() -> None:
    assert "ruxolitinib-if-refractory" not in codes(run("B", "BM", 24, None, genetic(["JAK2"], iso(24))))


@pytest.mark.parametrize("genes", [["TP53"], ["TCF3", "HLF"]])
def test_hsct_regardless_of_mrd_in_a_late_relapse(genes: list[str]) -> None:
    result = run("B", "BM", 40, 26, *reinduced(40, b.mrd(iso(40, 30), 0.05)), genetic(genes, iso(40)),
                 as_of=42)
    assert "hsct-cr2" in codes(result)
    assert "adverse-genetics-not-in-scheme" in codes(result, "warnings")


def test_absent_result_is_no_finding_and_no_profiling_request() -> None:
    result = run("B", "BM", 24, None, genetic(["KMT2A"], iso(24), present=False))
    assert "adverse-genetics-not-in-scheme" not in codes(result, "warnings")
    assert "genomic-profiling" not in codes(result)
    assert "genomic-profiling" in codes(run("B", "BM", 24, None))


# §4 special situations
def _post_hsct(months_after: int, cd3: float | None = None) -> dict[str, Any]:
    extra: list[Any] = [b.procedure("234336002", iso(24 - months_after))]
    if cd3 is not None:
        extra.append(b.quantity_obs("cd3-count", iso(24), cd3, "/uL", system=b.LOCAL))
    bundle = first_relapse("B", "BM", 24, None, extra=tuple(extra))
    # a second relapse: the first one before the HSCT
    bundle["entry"].append({"resource": b.relapse(iso(24 - months_after - 6), ("marrow",))})
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(25)))


@pytest.mark.parametrize(("months_after", "warned"), [(11, True), (12, False)])
def test_early_post_hsct_relapse_under_12_months(months_after: int, warned: bool) -> None:
    result = _post_hsct(months_after)
    assert result["relapse"]["after_hsct"] is True and result["relapse"]["number"] == 2
    assert ("early-post-hsct-relapse" in codes(result, "warnings")) is warned
    assert ("dli-or-second-hsct" in codes(result)) is not warned


@pytest.mark.parametrize(("cd3", "says_collect_now"), [(201, True), (200, False)])
def test_t_cell_collection_above_200_cd3(cd3: float, says_collect_now: bool) -> None:
    result = _post_hsct(13, cd3)
    assert "car-t-cd19" in codes(result)
    text = item(result, "t-cell-collection")["text"]
    assert (f"The blood CD3 count is {cd3:g}/µL: collect now" in text) is says_collect_now


def test_relapse_after_hsct_heads_for_car_t_without_inotuzumab() -> None:
    """000 scenario 2: prefer to avoid inotuzumab before CAR-T."""
    result = _post_hsct(13, 350)
    assert {"car-t-cd19", "t-cell-collection"} <= codes(result)
    assert "inotuzumab" not in codes(result)


def test_cd19_negative_relapse_after_car_t() -> None:
    extra = (b.procedure("car-t-infusion", iso(10), system=b.LOCAL),
             b.coded_obs("cd19-blasts", iso(24), False), b.coded_obs("cd22-blasts", iso(24), True),
             b.planned("1597258", iso(24)))
    bundle = first_relapse("B", "BM", 24, None, extra=extra)
    bundle["entry"].append({"resource": b.relapse(iso(8), ("marrow",))})
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(25)))
    assert {"inotuzumab", "car-t-cd22-trial", "hsct-after-car-t"} <= codes(result)
    assert not codes(result) & {"car-t-cd19", "blinatumomab-consolidation"}
    warning = next(w for w in result["warnings"] if w["code"] == "cd19-negative"
                   and w["severity"] == "critical")
    assert "blinatumomab" in warning["text"]


def test_cd19_from_percentage_uses_20_percent_cut_off() -> None:
    low = run("B", "BM", 24, None, b.quantity_obs("cd19-blasts", iso(24), 19, "%", system=b.LOCAL))
    high = run("B", "BM", 24, None, b.quantity_obs("cd19-blasts", iso(24), 20, "%", system=b.LOCAL))
    assert "cd19-negative" in codes(low, "warnings")
    assert "cd19-negative" not in codes(high, "warnings")


def test_b_cell_recovery_within_six_months_of_car_t_means_hsct() -> None:
    infusion = b.procedure("car-t-infusion", iso(26), system=b.LOCAL)
    early = run("B", "BM", 24, None, infusion,
                b.coded_obs("b-cell-recovery", iso(31), True), as_of=33)
    late = run("B", "BM", 24, None, infusion,
               b.coded_obs("b-cell-recovery", iso(32), True), as_of=33)
    assert "car-t-monitoring" in codes(early)
    assert "hsct-after-car-t" in codes(early)
    assert "hsct-after-car-t" not in codes(late)


def test_second_relapse_goals_of_care_and_no_schemes() -> None:
    bundle = first_relapse("B", "BM", 40, 26)
    bundle["entry"].append({"resource": b.relapse(iso(20), ("marrow",))})
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(41)))
    assert result["relapse"]["number"] == 2
    assert set(result["strata"].values()) == {"not-applicable"}
    assert {"goals-of-care", "clofarabine-regimen", "early-phase-trial"} <= codes(result)


def test_two_records_of_one_relapse_are_one_relapse() -> None:
    bundle = first_relapse("B", "BM", 24, None)
    bundle["entry"].append({"resource": b.relapse(iso(24, 5), ("marrow",))})
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(25)))
    assert result["relapse"]["number"] == 1


# §5 adults (004)
def _adult(phenotype: str, site: str, *extra: Any, months: int = 24) -> dict[str, Any]:
    return run(phenotype, site, months, None, *extra, birth="1960-01-01")


def test_adult_t_lineage() -> None:
    result = _adult("T", "BM")
    assert result["population"] == "adult"
    assert set(result["strata"].values()) == {"not-applicable"}
    assert {"hsct-cr2", "donor-search", "nelarabine-regimen", "cns-testes-reevaluation",
            "intrathecal-therapy"} <= codes(result)


def test_adult_b_lineage_cns_relapse_blinatumomab_caveat() -> None:
    result = _adult("B", "IEM-cns")
    assert {"blinatumomab-salvage", "inotuzumab", "intrathecal-therapy", "repeat-marrow"} <= codes(result)
    assert item(result, "blinatumomab-cns-disease", "warnings")["severity"] == "warning"


@pytest.mark.parametrize(("months", "phrase"), [(12, "within 1 year"), (13, "more than 1 year")])
def test_adult_salvage_by_time_since_induction(months: int, phrase: str) -> None:
    assert phrase in item(_adult("B", "BM", months=months), "salvage-regimen")["text"]


def test_adult_ph_positive_outside_004() -> None:
    result = _adult("B", "BM", genetic(["BCR", "ABL1"], iso(24)))
    assert "outside-trial-population" in codes(result, "warnings")
    assert "tki" in codes(result)


def test_young_adult_gets_cog_and_adult_advice() -> None:
    result = run("B", "BM", 24, None, birth="1995-01-01")
    assert result["population"] == "aya"
    assert result["strata"]["bfm"] == "not-applicable"
    assert result["strata"]["cog"]["group"] == "high"
    assert "hsct-cr2" in codes(result)


# §6 safety checks
def test_blinatumomab_planned_with_cns_disease_is_critical() -> None:
    result = run("B", "COMB", 24, None, b.planned("1597258", iso(24)))
    assert item(result, "blinatumomab-cns-disease", "warnings")["severity"] == "critical"


def test_blinatumomab_planned_before_the_csf_is_read_says_the_cns_is_unchecked() -> None:
    """A marrow relapse with no lumbar puncture yet: the §6 CNS check cannot be made, and the
    order must not pass as safe; once the CSF is read and clear, no warning."""
    no_csf = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(24)),
                      b.medication("103", iso(6), status="active"), b.marrow(iso(24), 60),
                      b.planned("1597258", iso(24)), b.coded_obs("cd19-blasts", iso(24), True))
    result = assess_bundle(no_csf, as_of=date.fromisoformat(iso(25)))
    assert severity(result, "blinatumomab-cns-status-unknown") == "warning"
    assert "blinatumomab-cns-disease" not in codes(result, "warnings")
    read = run("B", "BM", 24, None, b.planned("1597258", iso(24)),
               b.coded_obs("cd19-blasts", iso(24), True))
    assert not {"blinatumomab-cns-status-unknown", "cd19-status-unknown"} & codes(read, "warnings")


def test_cd19_directed_therapy_ordered_before_cd19_is_tested_says_the_target_is_unchecked() -> None:
    result = run("B", "BM", 24, None, b.planned("1597258", iso(24)))
    assert severity(result, "cd19-status-unknown") == "warning"
    assert "cd19-negative" not in codes(result, "warnings")


def test_blinatumomab_with_cns_disease_is_not_also_called_unchecked() -> None:
    result = run("B", "COMB", 24, None, b.planned("1597258", iso(24)))
    assert "blinatumomab-cns-status-unknown" not in codes(result, "warnings")


def test_blinatumomab_for_refractory_disease_without_a_csf_result_is_unchecked() -> None:
    refractory = b.diagnosis(iso(1), "B", code={"coding": [{"system": b.SCT, "code": REFRACTORY_CODE}]})
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), refractory,
                      b.planned("1597258", iso(2)), b.coded_obs("cd19-blasts", iso(2), True))
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(3)))
    assert result["relapse"]["refractory"] is True
    assert severity(result, "blinatumomab-cns-status-unknown") == "warning"


def test_a_safety_warning_cites_the_planned_orders_it_concerns_not_the_done_ones() -> None:
    """The references order cards use to name the drafts concerned (service/orders)."""
    done_car_t = b.procedure("car-t-infusion", iso(12), system=b.LOCAL)
    planned_car_t = b.procedure("car-t-infusion", iso(24, 20), status="preparation", system=b.LOCAL)
    cd19_negative = b.coded_obs("cd19-blasts", iso(24), False)
    result = run("B", "BM", 24, None, done_car_t, planned_car_t, cd19_negative)
    refs = item(result, "cd19-negative", "warnings")["refs"]
    assert f"Procedure/{planned_car_t['id']}" in refs and f"Procedure/{done_car_t['id']}" not in refs
    done_hsct = b.procedure("234336002", iso(12))
    planned_hsct = b.procedure("234336002", iso(26), status="preparation")
    result = run("B", "BM", 24, None, b.medication("1942950", iso(24, 1), iso(24, 20)),
                 done_hsct, planned_hsct, as_of=25)
    refs = item(result, "inotuzumab-vod-risk", "warnings")["refs"]
    assert f"Procedure/{planned_hsct['id']}" in refs and f"Procedure/{done_hsct['id']}" not in refs


def test_inotuzumab_given_and_hsct_planned() -> None:
    result = run("B", "BM", 24, None, b.medication("1942950", iso(24, 1), iso(24, 20)),
                 b.procedure("234336002", iso(26), status="preparation"), as_of=25)
    assert item(result, "inotuzumab-vod-risk", "warnings")["severity"] == "critical"


def test_nelarabine_with_intrathecal_chemotherapy() -> None:
    result = run("T", "BM", 17, None, b.planned("274771", iso(17)),
                 b.medication("6851", iso(17), status="active", intrathecal=True))
    assert item(result, "nelarabine-intrathecal-neurotoxicity", "warnings")["severity"] == "critical"


@pytest.mark.parametrize(("prior_cgy", "dose"), [(2400, 15), (2000, 18)])
def test_prior_cranial_irradiation_over_20_gy_reduces_to_15(prior_cgy: float, dose: int) -> None:
    prior = b.procedure("108290001", iso(3), body_sites=("12738006",), dose_cgy=prior_cgy)
    result = run("B", "IEM-cns", 30, 24, prior)
    assert item(result, "cranial-radiation")["params"]["dose_gy"] == dose
    assert ("cranial-radiation-dose-reduction" in codes(result, "warnings")) is (dose == 15)


def test_prior_blinatumomab_before_car_t() -> None:
    bundle = first_relapse("B", "BM", 24, None, extra=(
        b.procedure("234336002", iso(10)), b.medication("1597258", iso(6), iso(7))))
    bundle["entry"].append({"resource": b.relapse(iso(4), ("marrow",))})
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(25)))
    assert "car-t-cd19" in codes(result)
    assert item(result, "prior-blinatumomab-before-car-t", "warnings")["severity"] == "info"


def test_medication_referenced_by_urn_uuid_full_url() -> None:
    """A transaction-style bundle: the MedicationStatement points at a Medication by fullUrl."""
    statement = b.medication("103", iso(6), status="active")
    del statement["medicationCodeableConcept"]
    statement["medicationReference"] = {"reference": "urn:uuid:7f7c1f5e-0000-4000-8000-000000000001"}
    bundle = first_relapse("B", "BM", 24, None)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "MedicationStatement"]
    bundle["entry"] += [
        {"fullUrl": "urn:uuid:7f7c1f5e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Medication", "id": "med-mp",
                      "code": {"coding": [{"system": b.RXNORM, "code": "103"}]}}},
        {"resource": statement}]
    result = assess_bundle(bundle, as_of=date.fromisoformat(iso(25)))
    assert result["relapse"]["relapse_on_therapy"] is True  # mercaptopurine running at relapse
    assert result["relapse"]["timing"]["bfm"] == "early"


def test_every_advice_names_its_sources() -> None:
    result = run("B", "COMB", 24, None, b.planned("1597258", iso(24)))
    for advice in result["recommendations"] + result["warnings"]:
        assert advice["sources"] and advice["text"]
