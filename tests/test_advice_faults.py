"""Issue 8's clinical faults, each on a record written the way another system writes it
(MedicationAdministration histories, orders without the fields we use, generic codes), with the
answer CLINICAL_RULES gives."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
from scenarios import first_relapse, iso

from service.pipeline import assess_bundle

GENE_SYSTEM = "http://www.genenames.org"


def codes(result: dict[str, Any], field: str = "recommendations") -> set[str]:
    return {i["code"] for i in result.get(field, [])}


def item(result: dict[str, Any], code: str, field: str = "recommendations") -> dict[str, Any]:
    return next(i for i in result[field] if i["code"] == code)


def assess(bundle: dict[str, Any], months: int) -> dict[str, Any]:
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(months)))


def administration(rxcui: str, when: str, intrathecal: bool = False) -> dict[str, Any]:
    """An EHR's medication administration record (MAR): a completed dose on a date."""
    res: dict[str, Any] = {
        "resourceType": "MedicationAdministration", "id": f"mar-{rxcui}-{when}", "status": "completed",
        "subject": b.ref(), "effectiveDateTime": f"{when}T09:30:00+01:00",
        "medicationCodeableConcept": {"coding": [{"system": b.RXNORM, "code": rxcui}]}}
    if intrathecal:
        res["dosage"] = {"route": {"coding": [{"system": b.SCT, "code": "72607000",
                                               "display": "Intrathecal route"}]}}
    return res


def order(rxcui: str, authored: str | None, intent: str = "order") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": f"rx-{rxcui}-{authored}",
                           "status": "active", "intent": intent, "subject": b.ref(),
                           "medicationCodeableConcept": {"coding": [{"system": b.RXNORM, "code": rxcui}]}}
    if authored:
        res["authoredOn"] = authored
    return res


def gene_study(when: str, *genes: str) -> dict[str, Any]:
    hgnc = {"TCF3": "HGNC:11633", "HLF": "HGNC:4977"}
    obs = b.coded_obs("69548-6", when, True, system=b.LOINC)
    obs["valueCodeableConcept"] = {"coding": [{"system": b.LOINC, "code": "LA9633-4"}]}
    obs["component"] = [{"code": {"coding": [{"system": b.LOINC, "code": "48018-6"}]},
                         "valueCodeableConcept": {"coding": [{"system": GENE_SYSTEM, "code": hgnc[g]}]}}
                        for g in genes]
    return obs


# §6 "concomitant": an intrathecal dose already given counts, within 14 days of nelarabine
def test_intrathecal_dose_already_given_with_nelarabine_ordered_is_critical() -> None:
    extra = (administration("6851", iso(17, 3), intrathecal=True), order("274771", iso(17, 10)))
    result = assess(first_relapse("T", "BM", 17, None, extra=extra), 18)
    warning = item(result, "nelarabine-intrathecal-neurotoxicity", "warnings")
    assert warning["severity"] == "critical"
    assert "14 days" in warning["text"]  # the operational reading is stated on the card


def test_intrathecal_dose_given_long_before_nelarabine_is_not_concomitant() -> None:
    extra = (administration("6851", iso(16), intrathecal=True), order("274771", iso(18, 20)))
    result = assess(first_relapse("T", "BM", 18, None, extra=extra), 19)
    severities = {w["severity"] for w in result.get("warnings", [])
                  if w["code"] == "nelarabine-intrathecal-neurotoxicity"}
    assert "critical" not in severities


# §4 after CAR-T for this relapse: monitoring, not the pre-CAR-T pathway
def _after_car_t(recovery: bool) -> dict[str, Any]:
    extra = (b.medication("3264", iso(24), iso(24, 28)), b.mrd(iso(24, 30), 0.5),
             b.procedure("car-t-infusion", iso(26), system=b.LOCAL),
             b.mrd(iso(27), 0.001, comparator="<"),
             b.coded_obs("b-cell-recovery", iso(28), recovery))
    return assess(first_relapse("B", "BM", 24, None, extra=extra), 29)


def test_mrd_negative_with_b_cell_aplasia_after_car_t_is_monitoring_only() -> None:
    result = _after_car_t(recovery=False)
    assert "car-t-monitoring" in codes(result)
    assert not codes(result) & {"car-t-cd19", "inotuzumab", "clofarabine-regimen",
                                "blinatumomab-consolidation", "reinduction-4-drug",
                                "hsct-after-car-t", "hsct-cr2"}
    assert any("monitor closely" in n for n in result["notes"])


def test_b_cell_recovery_within_6_months_of_car_t_indicates_hsct() -> None:
    result = _after_car_t(recovery=True)
    assert {"car-t-monitoring", "hsct-after-car-t", "donor-search"} <= codes(result)
    assert not codes(result) & {"car-t-cd19", "inotuzumab", "clofarabine-regimen"}


# Contradictory pairs: HSCT regardless of MRD never goes with chemotherapy without HSCT
def test_tcf3_hlf_late_relapse_with_low_mrd_goes_to_hsct_not_chemotherapy() -> None:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), 0.05),
             gene_study(iso(40), "TCF3", "HLF"))
    result = assess(first_relapse("B", "BM", 40, 26, extra=extra), 42)
    assert "hsct-cr2" in codes(result)
    assert "chemotherapy-continuation" not in codes(result)
    discordance = [w for w in result["warnings"] if w["code"] == "allocation-discordance"]
    for w in discordance:  # the warning describes the cards that go with it
        assert w["params"]["followed"] == "HSCT"


def test_late_isolated_cns_with_positive_mrd_goes_to_hsct_without_chemotherapy_or_radiation() -> None:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), 0.02))
    result = assess(first_relapse("B", "IEM-cns", 40, 26, extra=extra), 42)
    assert "hsct-cr2" in codes(result)
    assert not codes(result) & {"chemotherapy-continuation", "cranial-radiation"}


def test_late_isolated_cns_mrd_request_carries_the_threshold_its_text_states() -> None:
    result = assess(first_relapse("B", "IEM-cns", 40, 26), 40)
    mrd = item(result, "mrd-assessment")
    assert mrd["params"]["threshold_percent"] == 0.01
    assert "0.01%" in mrd["text"] and "0.1%" not in mrd["text"]


# Lineage not known (a generic SNOMED "acute lymphoid leukemia"): §1.4a applied to advice
def test_unknown_lineage_gets_no_cd19_therapy_and_says_what_each_lineage_would_get() -> None:
    result = assess(first_relapse(None, "BM", 12, None), 13)
    assert not codes(result) & {"blinatumomab-consolidation", "car-t-cd19"}
    assert {"reinduction-4-drug", "hsct-cr2", "donor-search"} <= codes(result)  # both lineages
    decides = next(m for m in result["missing"] if m["fact"] == "immunophenotype")["decides"]
    assert "B-lineage → blinatumomab-consolidation" in decides and "T-lineage" in decides


def test_unknown_lineage_late_isolated_cns_does_not_apply_the_b_all_pathway() -> None:
    result = assess(first_relapse(None, "IEM-cns", 40, 26), 41)
    assert not codes(result) & {"chemotherapy-continuation", "cranial-radiation", "hsct-cr2"}
    assert "intrathecal-therapy" in codes(result)
    decides = next(m for m in result["missing"] if m["fact"] == "immunophenotype")["decides"]
    assert "T-lineage → " in decides and "hsct-cr2" in decides


# §2.5 I-BFM standard risk: MRD ≥ 10⁻⁴ after reinduction → HSCT (002 Figure 1)
def test_ibfm_standard_with_positive_mrd_is_allocated_to_hsct() -> None:
    extra = (b.medication("3264", iso(40), iso(40, 28)), b.mrd(iso(40, 30), 0.05))
    result = assess(first_relapse("B", "BM", 40, 26, extra=extra), 42)
    assert result["strata"]["ibfm"]["group"] == "standard"
    discordance = item(result, "allocation-discordance", "warnings")
    assert "I-BFM: HSCT" in discordance["params"]["answers"]


# §1.4b populations outside the source trials: a warning, not a note
def test_infant_at_diagnosis_gets_the_outside_trial_population_warning() -> None:
    bundle = first_relapse("B", "BM", 12, None, birth="2014-06-01")  # 7 months old at diagnosis
    warning = item(assess(bundle, 13), "outside-trial-population", "warnings")
    assert warning["severity"] == "warning" and "infant" in warning["text"]


# A recorded diagnosis date is never asked for
def test_diagnosis_date_is_not_listed_missing_when_recorded_and_the_site_is_open() -> None:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(iso(0), "B"), b.relapse(iso(24)),
                      b.medication("103", iso(6), status="active"))
    result = assess(bundle, 25)
    assert "diagnosis-date" not in {m["fact"] for m in result["missing"]}
    assert "relapse-site" in {m["fact"] for m in result["missing"]}


# One warning per code, at the record's severity
def test_cd19_negative_with_blinatumomab_ordered_is_one_critical_warning() -> None:
    extra = (b.coded_obs("cd19-blasts", iso(24), False), order("1597258", iso(24, 2)))
    result = assess(first_relapse("B", "BM", 24, None, extra=extra), 25)
    cd19 = [w for w in result["warnings"] if w["code"] == "cd19-negative"]
    assert len(cd19) == 1 and cd19[0]["severity"] == "critical"
    assert not codes(result) & {"blinatumomab-consolidation", "car-t-cd19"}


# §1.6 a second relapse does not show the first relapse's timing as its own
def test_second_relapse_reports_first_relapse_timing_only_as_the_first() -> None:
    extra = (b.relapse(iso(60)), b.marrow(iso(60), 50))
    result = assess(first_relapse("B", "BM", 24, None, extra=extra), 61)
    relapse = result["relapse"]
    assert relapse["number"] == 2 and relapse["months_from_diagnosis"] == 60
    assert "timing" not in relapse and "relapse_on_therapy" not in relapse
    assert relapse["months_since_previous_relapse"] == 36
    first = relapse["first_relapse"]
    assert first["date"] == iso(24) and first["timing"]["cog"] == "early"
    assert first["relapse_on_therapy"] is True


# A relapse known only from the problem-list status flip has no date: indeterminate, not "n/a"
def test_status_flip_relapse_without_a_date_is_indeterminate_in_every_scheme() -> None:
    flipped = b.diagnosis(iso(0), "B", clinicalStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "relapse"}]})
    result = assess(b.bundle(b.patient("2010-05-05"), flipped), 30)
    assert result["relapse"]["number"] == 1
    for scheme in ("bfm", "ukall", "ibfm", "cog"):
        assert result["strata"][scheme]["group"] == "indeterminate"
        assert result["strata"][scheme]["depends_on"] == ["relapse-date"]
    relapse_date = next(m for m in result["missing"] if m["fact"] == "relapse-date")
    assert set(relapse_date["affects"]) == {"bfm", "ukall", "ibfm", "cog"}


# FHIR_INPUT.md time points: an MRD on or before day 7 of reinduction is the diagnostic baseline
def test_a_baseline_mrd_is_not_read_as_the_response_before_hsct() -> None:
    baseline = (b.medication("3264", iso(24), iso(24, 28)), b.mrd(iso(24, 6), 40.0),
                b.procedure("234336002", iso(27), status="preparation"))
    assert "mrd-directed-therapy-before-hsct" not in codes(
        assess(first_relapse("B", "BM", 24, None, extra=baseline), 25))
    day_8 = (*baseline[:1], b.mrd(iso(24, 7), 40.0), baseline[2])  # day 8 is a response
    assert "mrd-directed-therapy-before-hsct" in codes(
        assess(first_relapse("B", "BM", 24, None, extra=day_8), 25))


# §5 covers relapsed *and refractory* adults: primary refractory disease gets the 004 Table 1 regimens
def test_an_adult_with_primary_refractory_disease_gets_an_alternative_regimen() -> None:
    refractory = {"resourceType": "Condition", "id": "refr", "subject": b.ref(),
                  "code": {"coding": [{"system": b.SCT, "code": "12311000132101"}]},
                  "recordedDate": "2021-03-01"}
    bundle = b.bundle(b.patient("1970-04-01"), b.diagnosis("2020-11-02", "B"), refractory)
    result = assess_bundle(bundle, as_of=date(2021, 3, 5))
    salvage = item(result, "salvage-regimen")
    assert "FLAG-IDA" in salvage["text"] and "004" in salvage["sources"]
    assert "clofarabine-regimen" not in codes(result)  # the pediatric refractory table is not used
