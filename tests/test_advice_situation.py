"""What the advice reads from the case (service/engine/advice/situation.py): each threshold and
window on both sides, through the public pipeline (CLINICAL_RULES §3–§6; issue 16)."""

from __future__ import annotations

import builders as b
import pytest
from advice_helpers import (
    BLINATUMOMAB,
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


# §6 concomitant, either order and across a course of several days
@pytest.mark.parametrize("nelarabine_first", [True, False])
@pytest.mark.parametrize(("gap", "critical"), [(18, True), (19, False)])
def test_concomitance_is_counted_from_the_end_of_a_course(nelarabine_first: bool, gap: int,
                                                           critical: bool) -> None:
    """A 5-day course (days 0–4) and a single dose ``gap`` days after its start: within 14 days of
    the course's last day is concomitant (§6), whichever drug comes first."""
    course, dose = (NELARABINE, METHOTREXATE) if nelarabine_first else (METHOTREXATE, NELARABINE)
    first = b.medication(course, iso(14), iso(14, 4), intrathecal=course == METHOTREXATE)
    then = b.medication(dose, iso(14, gap), iso(14, gap), intrathecal=dose == METHOTREXATE)
    result = run("T", "BM", 17, None, first, then, as_of=18)
    assert (severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical") is critical


@pytest.mark.parametrize(("it_day", "critical"), [(49, True), (50, False)])
def test_nelarabine_and_intrathecal_in_the_same_reinduction_block(it_day: int, critical: bool) -> None:
    """Both in the current reinduction block (days 1–49) is concomitant however far apart."""
    result = run("T", "BM", 17, None, b.medication(NELARABINE, iso(17), iso(17, 4)),
                 b.medication(METHOTREXATE, iso(17, it_day - 1), iso(17, it_day - 1), intrathecal=True),
                 as_of=20)
    assert (severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical") is critical


def test_nelarabine_before_the_block_is_not_in_it() -> None:
    result = run("T", "BM", 17, None, b.medication(NELARABINE, iso(17, -20), iso(17, -20)),
                 b.medication(DEXAMETHASONE, iso(17), iso(17, 28)),
                 b.medication(METHOTREXATE, iso(17, 10), iso(17, 10), intrathecal=True), as_of=19)
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") != "critical"


def test_an_undated_nelarabine_order_and_a_dated_old_intrathecal_dose_are_not_concomitant() -> None:
    nelarabine = b.planned(NELARABINE, iso(17))
    del nelarabine["authoredOn"]
    result = run("T", "BM", 17, None, nelarabine,
                 b.medication(METHOTREXATE, iso(12), iso(12), intrathecal=True))
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") != "critical"


def test_an_intrathecal_order_running_for_weeks_is_in_the_record() -> None:
    running = b.medication(METHOTREXATE, iso(15), status="active", intrathecal=True)
    result = run("T", "IEM-testis", 17, None, running)
    warning = item(result, "nelarabine-intrathecal-neurotoxicity", "warnings")
    assert "intrathecal chemotherapy is in the record" in warning["text"]


# §6 the references shown are the orders that fired the check, nothing else
def test_cd19_negative_critical_warning_cites_the_order() -> None:
    order = b.planned(BLINATUMOMAB, iso(24, 2))
    result = run("B", "BM", 24, None, b.coded_obs("cd19-blasts", iso(24), False), order)
    assert item(result, "cd19-negative", "warnings")["refs"] == [f"MedicationRequest/{order['id']}"]


# §1.5 refractory means M3 *after reinduction*: without one recorded, a later M3 is not read
def test_m3_marrow_a_month_after_relapse_without_recorded_reinduction_is_not_refractory() -> None:
    result = run("B", "BM", 24, None, b.marrow(iso(24, 29), 40), as_of=26)
    assert "clofarabine-regimen" not in codes(result)


# blinatumomab cycles are counted from the relapse day on
def test_a_blinatumomab_cycle_started_on_the_relapse_day_counts() -> None:
    result = run("B", "BM", 24, None, b.medication(BLINATUMOMAB, iso(24), iso(24, 27)), as_of=25)
    assert item(result, "blinatumomab-consolidation")["params"]["cycles"] == 1


# §4 CAR-T for this relapse: infused on or after the relapse day, by procedure or product
def test_car_t_infused_on_the_relapse_day_is_for_this_relapse() -> None:
    result = run("B", "BM", 24, None, b.procedure("car-t-infusion", iso(24), system=b.LOCAL))
    assert "car-t-monitoring" in codes(result)
    assert result["relapse"]["after_car_t"] is False


@pytest.mark.parametrize(("status", "infused"), [("completed", True), ("active", False)])
def test_car_t_product_given_after_the_relapse(status: str, infused: bool) -> None:
    product = b.medication("tisagenlecleucel", iso(25), iso(25), status=status, system=b.LOCAL)
    result = run("B", "BM", 24, None, product, as_of=26)
    assert ("car-t-monitoring" in codes(result)) is infused


@pytest.mark.parametrize(("days", "months", "failing"), [(0, 0, False), (1, 0, True), (0, 5, True),
                                                         (0, 6, False)])
def test_mrd_recurrence_within_6_months_of_car_t(days: int, months: int, failing: bool) -> None:
    """MRD ≥ 0.01% after the infusion day and within 6 months of it → HSCT (000)."""
    result = run("B", "BM", 24, None, b.procedure("car-t-infusion", iso(26), system=b.LOCAL),
                 b.mrd(iso(26 + months, days), 0.05), as_of=33)
    assert "car-t-monitoring" in codes(result)
    assert ("hsct-after-car-t" in codes(result)) is failing


def test_b_cell_recovery_on_the_infusion_day_counts() -> None:
    result = run("B", "BM", 24, None, b.procedure("car-t-infusion", iso(26), system=b.LOCAL),
                 b.coded_obs("b-cell-recovery", iso(26), True), as_of=27)
    assert "hsct-after-car-t" in codes(result)


# §5 more than 1 year from diagnosis: only when every reading of the dates says so
def test_adult_salvage_more_than_a_year_only_when_the_dates_say_so() -> None:
    bundle = first_relapse("B", "BM", 13, None, birth="1960-01-01")
    bundle["entry"][1]["resource"]["onsetDateTime"] = iso(0)[:7]  # month precision only
    result = assess(bundle, 14)
    assert result["relapse"].get("months_from_diagnosis") is None  # 12 or 13 months
    assert "within 1 year" in item(result, "salvage-regimen")["text"]


@pytest.mark.parametrize("course_drug", [NELARABINE, METHOTREXATE])
def test_a_dose_14_days_before_a_course_is_concomitant(course_drug: str) -> None:
    dose_drug = METHOTREXATE if course_drug == NELARABINE else NELARABINE
    dose = b.medication(dose_drug, iso(14), iso(14), intrathecal=dose_drug == METHOTREXATE)
    course = b.medication(course_drug, iso(14, 14), iso(14, 18),
                          intrathecal=course_drug == METHOTREXATE)
    result = run("T", "BM", 17, None, dose, course, as_of=18)
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical"


def test_a_course_starting_on_day_47_of_the_block_is_in_the_block() -> None:
    result = run("T", "BM", 17, None, b.medication(DEXAMETHASONE, iso(17), iso(17, 28)),
                 b.medication(METHOTREXATE, iso(17), iso(17), intrathecal=True),
                 b.medication(NELARABINE, iso(17, 46), iso(17, 50)), as_of=20)
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") == "critical"


def test_a_course_started_before_the_block_is_not_in_it() -> None:
    result = run("T", "BM", 17, None, b.medication(NELARABINE, iso(17, -3), iso(17, 2)),
                 b.medication(DEXAMETHASONE, iso(17), iso(17, 28)),
                 b.medication(METHOTREXATE, iso(17, 29), iso(17, 29), intrathecal=True), as_of=20)
    assert severity(result, "nelarabine-intrathecal-neurotoxicity") != "critical"


def test_an_undated_intrathecal_order_is_in_the_record() -> None:
    order = b.planned(METHOTREXATE, iso(17))
    del order["authoredOn"]
    order["dosageInstruction"] = [{"route": {"coding": [{"system": b.SCT, "code": "72607000"}]}}]
    result = run("T", "IEM-testis", 17, None, order)
    warning = item(result, "nelarabine-intrathecal-neurotoxicity", "warnings")
    assert "intrathecal chemotherapy is in the record" in warning["text"]


def test_car_t_product_given_on_the_relapse_day_is_for_this_relapse() -> None:
    product = b.medication("tisagenlecleucel", iso(24), iso(24), system=b.LOCAL)
    assert "car-t-monitoring" in codes(run("B", "BM", 24, None, product))


def test_intrathecal_course_that_ended_within_14_days_is_in_the_record() -> None:
    course = b.medication(METHOTREXATE, iso(17, -20), iso(17, -3), intrathecal=True)
    result = run("T", "IEM-testis", 17, None, course, as_of=17)
    warning = item(result, "nelarabine-intrathecal-neurotoxicity", "warnings")
    assert "intrathecal chemotherapy is in the record" in warning["text"]
