"""What the advice reads from the case (service/engine/advice/situation.py): each threshold and
window on both sides, through the public pipeline (CLINICAL_RULES §3–§6; issue 16)."""

from __future__ import annotations

import builders as b
import pytest
from advice_helpers import (
    DEXAMETHASONE,
    HSCT_CODE,
    INOTUZUMAB,
    METHOTREXATE,
    NELARABINE,
    assess,
    codes,
    item,
    missing,
    refractory_condition,
    reinduced,
    run,
    severity,
)
from scenarios import first_relapse, iso


# §5 applies to anyone ≥ 18 at diagnosis: a known adult age is never read as "age unknown"
def test_adult_with_primary_refractory_disease_gets_the_adult_advice_not_the_pediatric() -> None:
    bundle = b.bundle(b.patient("1960-01-01"), b.diagnosis(iso(0), "B"), refractory_condition(iso(2)))
    result = assess(bundle, 3)
    assert result["age_at_diagnosis_years"] == 55
    assert {"blinatumomab-salvage", "inotuzumab", "car-t-cd19", "donor-search"} <= codes(result)
    assert "clofarabine-regimen" not in codes(result)  # the pediatric refractory table (001)


def test_child_with_primary_refractory_disease_gets_the_pediatric_refractory_table() -> None:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), refractory_condition(iso(2)))
    result = assess(bundle, 3)
    assert {"inotuzumab", "car-t-cd19", "clofarabine-regimen", "donor-search"} <= codes(result)
    assert not codes(result) & {"blinatumomab-salvage", "hsct-cr2", "blinatumomab-consolidation"}


@pytest.mark.parametrize(("birth", "adult"), [("1997-01-10", True), ("1997-01-11", False)])
def test_primary_refractory_adult_advice_from_exactly_18_at_diagnosis(birth: str, adult: bool) -> None:
    bundle = b.bundle(b.patient(birth), b.diagnosis(iso(0), "B"), refractory_condition(iso(2)))
    result = assess(bundle, 3)
    assert result["age_at_diagnosis_years"] == (18 if adult else 17)
    assert ("blinatumomab-salvage" in codes(result)) is adult
    assert ("clofarabine-regimen" in codes(result)) is not adult


# §6 concomitant: an intrathecal dose within 14 days before or after a nelarabine dose
@pytest.mark.parametrize(("gap", "critical"), [(14, True), (15, False)])
def test_nelarabine_and_intrathecal_dose_14_days_apart(gap: int, critical: bool) -> None:
    result = run("T", "BM", 17, None,
                 b.medication(METHOTREXATE, iso(15), iso(15), intrathecal=True),
                 b.medication(NELARABINE, iso(15, gap), iso(15, gap)), as_of=18)
    assert (severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical") is critical


def test_a_non_intrathecal_drug_with_nelarabine_is_not_concomitant() -> None:
    result = run("T", "BM", 17, None, b.planned(NELARABINE, iso(17)),
                 b.medication(DEXAMETHASONE, iso(17), status="active"))
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") != "critical"


def test_undated_nelarabine_and_intrathecal_orders_are_read_as_one_block() -> None:
    nelarabine = b.planned(NELARABINE, iso(17))
    del nelarabine["authoredOn"]
    intrathecal = b.medication(METHOTREXATE, iso(17), status="active", intrathecal=True)
    del intrathecal["effectivePeriod"]
    result = run("T", "BM", 17, None, nelarabine, intrathecal)
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical"


@pytest.mark.parametrize(("days_ago", "in_record"), [(14, True), (15, False)])
def test_intrathecal_dose_given_within_14_days_counts_against_recommended_nelarabine(
        days_ago: int, in_record: bool) -> None:
    """T-ALL: nelarabine is recommended here; an intrathecal dose given 14 days ago is in the
    record, 15 days ago it is not (§6)."""
    dose = b.medication(METHOTREXATE, iso(17, -days_ago), iso(17, -days_ago), intrathecal=True)
    result = assess(first_relapse("T", "IEM-testis", 17, None, extra=(dose,)), 17)
    warning = [w for w in result.get("warnings", [])
               if w["code"] == "nelarabine-intrathecal-neurotoxicity"]
    assert any("intrathecal chemotherapy is in the record" in w["text"] for w in warning) is in_record


# §4 CD3 count read within 30 days of the relapse
@pytest.mark.parametrize(("days_before", "read"), [(30, True), (31, False)])
def test_cd3_count_read_within_30_days_of_the_relapse(days_before: int, read: bool) -> None:
    bundle = first_relapse("B", "BM", 24, None, extra=(
        b.procedure(HSCT_CODE, iso(11)),
        b.quantity_obs("cd3-count", iso(24, -days_before), 350, "/uL", system=b.LOCAL)))
    bundle["entry"].append({"resource": b.relapse(iso(5), ("marrow",))})
    text = item(assess(bundle, 25), "t-cell-collection")["text"]
    assert ("The blood CD3 count is 350/µL: collect now" in text) is read


# §6 inotuzumab and HSCT: only an HSCT procedure in preparation is "HSCT planned"
def test_inotuzumab_given_with_a_planned_radiotherapy_is_not_the_hsct_vod_check() -> None:
    result = run("B", "BM", 24, None, b.medication(INOTUZUMAB, iso(24, 1), iso(24, 20)),
                 b.procedure("108290001", iso(26), status="preparation", body_sites=("12738006",)),
                 as_of=25)
    assert severity(result, "inotuzumab-vod-risk") != "critical"


def test_hsct_done_before_is_not_hsct_planned() -> None:
    bundle = first_relapse("B", "BM", 24, None, extra=(
        b.procedure(HSCT_CODE, iso(11)), b.medication(INOTUZUMAB, iso(24, 1), iso(24, 20))))
    bundle["entry"].append({"resource": b.relapse(iso(5), ("marrow",))})
    assert severity(assess(bundle, 25), "inotuzumab-vod-risk") != "critical"


# §3.1 / §2.5 the MRD-directed therapy before HSCT names what the CD19 status allows
@pytest.mark.parametrize(("cd19", "agents"), [(True, "blinatumomab or inotuzumab"),
                                              (False, "inotuzumab")])
def test_pre_hsct_mrd_directed_agents_follow_cd19(cd19: bool, agents: str) -> None:
    result = run("B", "BM", 24, None, *reinduced(24, b.mrd(iso(24, 30), 0.05)),
                 b.coded_obs("cd19-blasts", iso(24), cd19),
                 b.procedure(HSCT_CODE, iso(27), status="preparation"), as_of=26)
    assert item(result, "mrd-directed-therapy-before-hsct")["params"]["agents"] == agents


# §6 CD19-negative and a CAR-T infusion in preparation: the order is in the record
def test_cd19_negative_with_car_t_infusion_in_preparation_is_critical() -> None:
    result = run("B", "BM", 24, None, b.coded_obs("cd19-blasts", iso(24), False),
                 b.procedure("car-t-infusion", iso(25), status="preparation", system=b.LOCAL))
    assert severity(result, "cd19-negative") == "critical"
    done = run("B", "BM", 24, None, b.coded_obs("cd19-blasts", iso(24), False),
               b.procedure("car-t-infusion", iso(20), system=b.LOCAL), as_of=25)
    assert severity(done, "cd19-negative") == "warning"  # given before, not ordered now


# §6 prior cranial irradiation > 20 Gy: the record's check needs CNS radiation *planned*
def test_prior_cranial_irradiation_alone_is_not_planned_cns_radiation() -> None:
    prior = b.procedure("108290001", iso(3), body_sites=("12738006",), dose_cgy=2400)
    assert severity(run("B", "BM", 24, None, prior), "cranial-radiation-dose-reduction") is None
    planned = b.procedure("108290001", iso(25), status="preparation", body_sites=("12738006",))
    assert severity(run("B", "BM", 24, None, prior, planned),
                    "cranial-radiation-dose-reduction") == "critical"


# §4 the months after HSCT are stated on the warning
def test_early_post_hsct_warning_states_the_months() -> None:
    bundle = first_relapse("B", "BM", 24, None, extra=(b.procedure(HSCT_CODE, iso(13)),))
    bundle["entry"].append({"resource": b.relapse(iso(7), ("marrow",))})
    warning = item(assess(bundle, 25), "early-post-hsct-relapse", "warnings")
    assert warning["params"]["months_after_hsct"] == 11 and "Relapse 11 months after" in warning["text"]


# §3.4 MRD after reinduction: end-block-1, else the latest since reinduction began
def test_t_all_positive_mrd_after_block_1_window_means_early_phase_trial() -> None:
    result = run("T", "BM", 17, None, *reinduced(17, b.mrd(iso(17, 60), 0.05)), as_of=20)
    assert "early-phase-trial" in codes(result)


def test_mrd_on_the_first_day_of_reinduction_is_not_after_it() -> None:
    result = run("T", "BM", 17, None, *reinduced(17, b.mrd(iso(17), 40)), as_of=18)
    assert "early-phase-trial" not in codes(result)


# §3.1 M3 marrow on day 22–49 of reinduction is refractory; outside it, not read
@pytest.mark.parametrize(("day", "refractory"), [(21, False), (22, True), (49, True), (50, False)])
def test_m3_marrow_window_after_reinduction(day: int, refractory: bool) -> None:
    result = run("B", "BM", 24, None, *reinduced(24, b.marrow(iso(24, day - 1), 40)), as_of=27)
    assert ("clofarabine-regimen" in codes(result)) is refractory


# CD19 at this relapse: the latest result from 14 days before it on
@pytest.mark.parametrize(("days_before", "counts"), [(14, True), (15, False)])
def test_cd19_result_up_to_14_days_before_the_relapse_counts(days_before: int, counts: bool) -> None:
    result = run("B", "BM", 24, None, b.coded_obs("cd19-blasts", iso(24, -days_before), False))
    assert ("cd19-negative" in codes(result, "warnings")) is counts
    assert ("cd19-status" in missing(result)) is not counts


def test_the_latest_cd19_result_decides() -> None:
    result = run("B", "BM", 24, None, b.coded_obs("cd19-blasts", iso(24, -5), True),
                 b.coded_obs("cd19-blasts", iso(24), False))
    assert "cd19-negative" in codes(result, "warnings")
