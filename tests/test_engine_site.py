"""Site of relapse (CLINICAL_RULES §1.3, seed 002 Table 2) read through the public pipeline:
marrow M1/M2/M3 cut-offs, blood blasts, CSF CNS1/CNS2/CNS3 and the traumatic tap, testicular
biopsy, coded sites and every disagreement between coding and results (`data-conflict`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import builders as b
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scenarios import DIAGNOSIS, iso

from service.engine.episodes import Episode
from service.engine.index import FactIndex
from service.engine.site import read_site
from service.facts import Finding, FuzzyDate, Measurement, PatientFacts, RelapseRecord
from service.pipeline import assess_bundle

RELAPSE_MONTHS = 24  # B-lineage, on frontline therapy: BFM early, COG early
DAY = iso(RELAPSE_MONTHS)


def _shift(days: int) -> str:
    return (date.fromisoformat(DAY) + timedelta(days=days)).isoformat()


def assess(*results: Any, coded: tuple[str, ...] = (), phenotype: str | None = "B") -> dict:
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), phenotype),
                      b.relapse(DAY, coded), b.medication("103", iso(6), status="active"),
                      *results)
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(RELAPSE_MONTHS + 1)))


def blood(percent: float, when: str = DAY) -> dict:
    return b.quantity_obs("26446-5", when, percent, "%")


def cns1(when: str = DAY) -> list[dict]:
    return b.csf(when, 1, 0, False)


def cns2(when: str = DAY) -> list[dict]:
    return b.csf(when, 4, 0, True)


def cns3(when: str = DAY) -> list[dict]:
    return b.csf(when, 12, 0, True)


def biopsy(positive: bool, when: str = DAY) -> dict:
    return b.coded_obs("testicular-biopsy-leukemia", when, positive)


def cns_condition(onset: str) -> dict:
    return {"resourceType": "Condition", "id": f"mening-{onset}", "subject": b.ref(),
            "code": {"coding": [{"system": b.SCT, "code": "722795004"}]}, "onsetDateTime": onset}


def clinical_cns(positive: bool, when: str = DAY) -> dict:
    return b.coded_obs("cns-clinical-involvement", when, positive)


def site(result: dict) -> str:
    return result["relapse"]["site"]


def groups(result: dict) -> dict[str, str]:
    return {k: v["group"] if isinstance(v, dict) else v for k, v in result["strata"].items()}


def missing(result: dict) -> set[str]:
    return {m["fact"] for m in result.get("missing", [])}


def recommended(result: dict) -> set[str]:
    return {r["code"] for r in result.get("recommendations", [])}


def conflicts(result: dict) -> list[str]:
    return [w["text"] for w in result.get("warnings", []) if w["code"] == "data-conflict"]


def unconfirmed(result: dict) -> bool:
    """§1.3: the relapse is not confirmed, so every stratum is indeterminate."""
    return (site(result) == "indeterminate"
            and all(g == "indeterminate" for g in groups(result).values())
            and "relapse-site" in missing(result))


# --- marrow morphology: M1 < 5 %, M2 5–25 % (25 % is M2), M3 > 25 % ---------------------------

@pytest.mark.parametrize(("percent", "level"), [
    (0, "M1"), (4.9, "M1"), (5, "M2"), (5.1, "M2"), (24.9, "M2"), (25, "M2"), (25.1, "M3"),
    (90, "M3"),
])
def test_marrow_level_cut_offs(percent: float, level: str) -> None:
    result = assess(b.marrow(DAY, percent), *cns1())
    assert result["relapse"]["marrow_status"] == f"{level} ({percent:g}% blasts)"
    if level == "M3":  # marrow relapse, no extramedullary disease
        assert site(result) == "isolated-marrow"
        assert groups(result)["bfm"] == "S3"  # B, isolated marrow, early
    else:  # M1 or M2 alone: not a relapse by 002 Table 2
        assert unconfirmed(result)
    assert ("repeat-marrow" in recommended(result)) is (level == "M2")
    m2_note = any("M2 marrow" in n and "repeat the marrow" in n for n in result.get("notes", []))
    assert m2_note is (level == "M2")


@pytest.mark.parametrize("percent", [5, 25])
def test_m2_with_blood_blasts_is_a_marrow_relapse(percent: float) -> None:
    result = assess(b.marrow(DAY, percent), blood(1), *cns1())
    assert site(result) == "isolated-marrow"
    assert "repeat-marrow" not in recommended(result)


def test_m2_with_zero_blood_blasts_is_not_a_relapse() -> None:
    result = assess(b.marrow(DAY, 20), blood(0), *cns1())
    assert unconfirmed(result)
    assert "repeat-marrow" in recommended(result)


def test_m1_with_blood_blasts_is_not_isolated_extramedullary() -> None:
    """IEM needs < 5 % marrow blasts *and* no blasts in peripheral blood (002 Table 2)."""
    without = assess(b.marrow(DAY, 2), *cns3())
    with_blood = assess(b.marrow(DAY, 2), blood(3), *cns3())
    assert site(without) == "isolated-cns"
    assert site(with_blood) == "indeterminate"


@pytest.mark.parametrize("percent", [5, 25, 60])
def test_marrow_from_5_percent_with_cns3_is_combined(percent: float) -> None:
    result = assess(b.marrow(DAY, percent), *cns3())
    assert site(result) == "combined"
    assert result["relapse"].get("extramedullary_sites", []) == ["cns"]
    assert groups(result)["bfm"] == "S2"  # B combined early


def test_m1_with_cns3_is_isolated_cns() -> None:
    result = assess(b.marrow(DAY, 4.9), *cns3())
    assert site(result) == "isolated-cns"
    assert result["relapse"]["cns_status"] == "CNS3"
    assert groups(result)["bfm"] == "S2"  # IEM early


# --- CSF: CNS3 ≥ 5 leukocytes/µL with blasts, CNS2 < 5 with blasts, CNS1 no blasts -------------

@pytest.mark.parametrize(("wbc", "status"), [(0, "CNS2"), (4.9, "CNS2"), (5, "CNS3"), (5.1, "CNS3"),
                                             (50, "CNS3")])
def test_csf_leukocyte_cut_off_with_blasts(wbc: float, status: str) -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, wbc, 0, True))
    assert result["relapse"]["cns_status"] == status
    if status == "CNS3":
        assert site(result) == "combined"
    else:  # §1.3: M3 + CNS2 is isolated marrow, with a note on intrathecal therapy
        assert site(result) == "isolated-marrow"
        assert any("CNS2" in n and "intrathecal" in n for n in result["notes"])


@pytest.mark.parametrize("wbc", [0, 4.9, 5, 50])
def test_no_blasts_on_cytospin_is_cns1_whatever_the_count(wbc: float) -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, wbc, 0, False))
    assert result["relapse"]["cns_status"] == "CNS1"
    assert site(result) == "isolated-marrow"
    assert "csf-findings" not in missing(result)


def test_m1_with_cns2_is_unconfirmed_and_asks_for_a_repeat_lumbar_puncture() -> None:
    result = assess(b.marrow(DAY, 1), *cns2())
    assert unconfirmed(result)
    assert result["relapse"]["cns_status"] == "CNS2"
    assert "repeat-lumbar-puncture" in recommended(result)
    assert "repeat-marrow" not in recommended(result)


def test_m1_with_cns1_is_unconfirmed_without_repeat_actions() -> None:
    result = assess(b.marrow(DAY, 1), *cns1())
    assert unconfirmed(result)
    assert not {"repeat-lumbar-puncture", "repeat-marrow"} & recommended(result)
    assert any("do not meet relapse criteria" in n for n in result["notes"])


# --- traumatic tap: a count calls CNS disease only with ≤ 20 erythrocytes/µL ------------------

@pytest.mark.parametrize(("rbc", "traumatic"), [(0, False), (20, False), (20.5, True), (100, True),
                                                (200, True), (5000, True)])
def test_traumatic_tap_cut_off(rbc: float, traumatic: bool) -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, 12, rbc, True))
    if traumatic:
        assert result["relapse"]["cns_status"] == "traumatic tap with blasts"
        assert site(result) == "indeterminate"  # marrow relapse, CNS unknown: isolated or combined
        assert "repeat-lumbar-puncture" in recommended(result)
        assert "csf-findings" not in missing(result)  # the CSF exists; it must be repeated
        assert any("traumatic" in n for n in result["notes"])
    else:
        assert result["relapse"]["cns_status"] == "CNS3"
        assert site(result) == "combined"
        assert "repeat-lumbar-puncture" not in recommended(result)


def test_bloody_tap_without_blasts_is_cns1() -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, 12, 500, False))
    assert result["relapse"]["cns_status"] == "CNS1"
    assert site(result) == "isolated-marrow"


def test_traumatic_tap_with_m1_marrow_is_not_a_confirmed_relapse() -> None:
    result = assess(b.marrow(DAY, 1), *b.csf(DAY, 12, 300, True))
    assert unconfirmed(result)
    assert "repeat-lumbar-puncture" in recommended(result)


def test_cns3_count_without_erythrocyte_count_cannot_be_called() -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, 12, None, True))
    assert result["relapse"]["cns_status"] == "CNS3 by count, erythrocytes not recorded"
    assert site(result) == "indeterminate"
    assert "csf-findings" in missing(result)
    assert any("erythrocyte count not recorded" in n for n in result["notes"])


def test_cns2_count_without_erythrocyte_count_is_still_cns2() -> None:
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, 3, None, True))
    assert result["relapse"]["cns_status"] == "CNS2"
    assert site(result) == "isolated-marrow"


def test_blasts_without_leukocyte_count() -> None:
    blasts = b.quantity_obs("35068-6", DAY, 3, "/uL")
    result = assess(b.marrow(DAY, 60), blasts, b.quantity_obs("26454-9", DAY, 0, "/uL"))
    assert result["relapse"]["cns_status"] == "blasts, leukocyte count unknown"
    assert site(result) == "indeterminate"
    assert "csf-findings" in missing(result)


def test_leukocyte_count_without_cytospin() -> None:
    result = assess(b.marrow(DAY, 60), b.quantity_obs("26465-5", DAY, 40, "/uL"))
    assert result["relapse"]["cns_status"] == "unknown (no cytospin result)"
    assert site(result) == "indeterminate"
    assert "csf-findings" in missing(result)


def test_no_csf_and_no_coded_site_is_indeterminate_not_isolated_marrow() -> None:
    result = assess(b.marrow(DAY, 60))
    assert site(result) == "indeterminate"
    assert "cns_status" not in result["relapse"]
    assert {"csf-findings", "relapse-site"} <= missing(result)
    # B marrow relapse, early: isolated marrow S3, combined S2 — the CSF decides.
    assert groups(result)["bfm"] == "indeterminate"
    assert groups(result)["cog"] == "high"  # COG early marrow is high either way (§1.4a)


# --- clinical CNS disease and a CNS-leukaemia Condition ----------------------------------------

def test_clinical_cns_signs_are_cns_disease_despite_a_clean_csf() -> None:
    result = assess(b.marrow(DAY, 1), *cns1(), clinical_cns(True))
    assert result["relapse"]["cns_status"] == "CNS3 (clinical signs)"
    assert site(result) == "isolated-cns"


def test_negative_clinical_finding_leaves_the_csf_to_decide() -> None:
    result = assess(b.marrow(DAY, 60), *cns1(), clinical_cns(False))
    assert result["relapse"]["cns_status"] == "CNS1"
    assert site(result) == "isolated-marrow"


@pytest.mark.parametrize(("offset", "cns"), [(-15, False), (-14, True), (0, True), (14, True),
                                             (15, False)])
def test_cns_leukaemia_condition_within_14_days_is_cns_disease(offset: int, cns: bool) -> None:
    result = assess(b.marrow(DAY, 60), *cns1(), cns_condition(_shift(offset)))
    if cns:
        assert result["relapse"]["cns_status"] == "CNS3 (CNS leukaemia condition)"
        assert site(result) == "combined"
    else:
        assert result["relapse"]["cns_status"] == "CNS1"
        assert site(result) == "isolated-marrow"


def test_cns_leukaemia_condition_cites_the_condition() -> None:
    condition = cns_condition(DAY)
    result = assess(b.marrow(DAY, 60), condition)
    evidence = [e for e in result["evidence"] if e["fact"] == "relapse-site"]
    assert any(f"Condition/{condition['id']}" in e["from"] for e in evidence)


# --- testicular and other extramedullary sites ---------------------------------------------------

def test_positive_testicular_biopsy_with_m1_is_isolated_testicular() -> None:
    result = assess(b.marrow(DAY, 1), *cns1(), biopsy(True))
    assert site(result) == "isolated-testicular"
    assert result["relapse"].get("extramedullary_sites", []) == ["testis"]
    assert "testicular-biopsy" not in missing(result)


def test_negative_testicular_biopsy_is_no_testicular_relapse() -> None:
    result = assess(b.marrow(DAY, 60), *cns1(), biopsy(False))
    assert site(result) == "isolated-marrow"
    assert not conflicts(result)


def test_coded_testis_without_biopsy_is_used_but_asks_for_the_biopsy() -> None:
    result = assess(b.marrow(DAY, 1), *cns1(), coded=("testis",))
    assert site(result) == "isolated-testicular"
    assert "testicular-biopsy" in missing(result)
    assert any("biopsy-proven" in n for n in result["notes"])


def test_coded_testis_with_negative_biopsy_is_a_conflict_and_the_biopsy_decides() -> None:
    result = assess(b.marrow(DAY, 60), *cns1(), biopsy(False), coded=("marrow", "testis"))
    assert site(result) == "isolated-marrow"
    assert any("biopsy is negative" in c for c in conflicts(result))


def test_positive_biopsy_left_out_of_the_coded_sites_is_a_conflict() -> None:
    """§1.3: results decide and any disagreement with the coding is a data-conflict — a coded
    isolated CNS relapse with a positive testicular biopsy is not what the clinician coded."""
    result = assess(b.marrow(DAY, 1), *cns3(), biopsy(True), coded=("cns",))
    assert site(result) == "isolated-cns"
    assert result["relapse"]["extramedullary_sites"] == ["cns", "testis"]
    found = conflicts(result)
    assert len(found) == 1 and "testicular biopsy is positive" in found[0]
    agrees = assess(b.marrow(DAY, 1), *cns3(), biopsy(True), coded=("cns", "testis"))
    assert not conflicts(agrees)
    uncoded = assess(b.marrow(DAY, 1), *cns3(), biopsy(True))
    assert not conflicts(uncoded)


def test_coded_other_site_with_m1_is_isolated_other_extramedullary() -> None:
    result = assess(b.marrow(DAY, 1), *cns1(), coded=("skin",))
    assert site(result) == "isolated-other-extramedullary"
    assert result["relapse"].get("extramedullary_sites", []) == ["other"]


def test_several_extramedullary_sites_name_the_cns_first_then_the_testis() -> None:
    cns_and_testis = assess(b.marrow(DAY, 1), *cns3(), biopsy(True), coded=("skin",))
    assert site(cns_and_testis) == "isolated-cns"
    assert cns_and_testis["relapse"]["extramedullary_sites"] == ["cns", "testis", "other"]
    testis_and_other = assess(b.marrow(DAY, 1), *cns1(), biopsy(True), coded=("skin",))
    assert site(testis_and_other) == "isolated-testicular"


def test_m2_with_testicular_relapse_is_combined() -> None:
    result = assess(b.marrow(DAY, 10), *cns1(), biopsy(True))
    assert site(result) == "combined"


# --- coded sites: used without results, results decide, disagreement is a data-conflict -------

@pytest.mark.parametrize(("coded", "expected", "extramedullary"), [
    (("marrow",), "isolated-marrow", []),
    (("cns",), "isolated-cns", ["cns"]),
    (("marrow", "cns"), "combined", ["cns"]),
    (("testis",), "isolated-testicular", ["testis"]),
])
def test_coded_site_alone(coded: tuple[str, ...], expected: str,
                          extramedullary: list[str]) -> None:
    result = assess(coded=coded)
    assert site(result) == expected
    assert result["relapse"].get("extramedullary_sites", []) == extramedullary
    assert {"marrow-blasts", "csf-findings"} <= missing(result)
    evidence = [e for e in result["evidence"] if e["fact"] == "relapse-site"]
    assert evidence and "coded bodySite" in evidence[0]["note"]
    assert not conflicts(result)
    marrow_status = result["relapse"]["marrow_status"]
    assert marrow_status == ("involved (coded)" if "marrow" in coded else "not involved (coded)")


def test_coded_cns_status_only_when_coded() -> None:
    assert assess(coded=("cns",))["relapse"]["cns_status"] == "CNS involved (coded)"
    assert "cns_status" not in assess(coded=("marrow",))["relapse"]


def test_coded_isolated_cns_at_early_timing_says_what_the_marrow_would_change() -> None:
    """§1.3: a coded isolated CNS relapse is BFM S2; were the marrow involved it would be S2/S3
    (combined or isolated marrow) — the group stands but the marrow is listed as missing."""
    result = assess(coded=("cns",))
    assert groups(result)["bfm"] == "S2"
    assert "marrow-blasts" in missing(result)


def test_no_results_and_no_coding_is_indeterminate() -> None:
    result = assess()
    assert site(result) == "indeterminate"
    assert {"marrow-blasts", "csf-findings", "relapse-site"} <= missing(result)
    assert not conflicts(result)


def test_coded_marrow_with_m3_and_no_csf_is_isolated_marrow_from_coding() -> None:
    result = assess(b.marrow(DAY, 60), coded=("marrow",))
    assert site(result) == "isolated-marrow"
    assert "csf-findings" in missing(result)
    assert "marrow-blasts" not in missing(result)
    assert not conflicts(result)
    evidence = [e for e in result["evidence"] if e["fact"] == "relapse-site"]
    assert "coded bodySite" in evidence[0]["note"]  # the CNS part rests on the coding


@pytest.mark.parametrize(("results", "coded", "expected_site", "conflict"), [
    # coded CNS, CSF clean → the CSF decides
    ((b.marrow(DAY, 60), *cns1()), ("marrow", "cns"), "isolated-marrow", "coded with CNS"),
    # coded CNS, CSF CNS2 → not extramedullary
    ((b.marrow(DAY, 60), *cns2()), ("marrow", "cns"), "isolated-marrow", "coded with CNS"),
    # coded marrow only, CSF CNS3
    ((b.marrow(DAY, 60), *cns3()), ("marrow",), "combined", "coded without CNS"),
    # coded CNS only, marrow M3
    ((b.marrow(DAY, 60), *cns3()), ("cns",), "combined", "coded without marrow"),
    # coded marrow, marrow M1
    ((b.marrow(DAY, 1), *cns3()), ("marrow", "cns"), "isolated-cns", "coded with marrow"),
    # coded CNS only, marrow M2 (involved)
    ((b.marrow(DAY, 5), *cns3()), ("cns",), "combined", "coded without marrow"),
])
def test_coding_against_results_is_a_data_conflict_and_the_results_decide(
        results: tuple, coded: tuple[str, ...], expected_site: str, conflict: str) -> None:
    result = assess(*results, coded=coded)
    assert site(result) == expected_site
    found = conflicts(result)
    assert len(found) == 1 and conflict in found[0], found


@pytest.mark.parametrize(("results", "coded"), [
    ((b.marrow(DAY, 60), *cns3()), ("marrow", "cns")),
    ((b.marrow(DAY, 60), *cns1()), ("marrow",)),
    ((b.marrow(DAY, 1), *cns3()), ("cns",)),
    ((b.marrow(DAY, 10), *cns3()), ("marrow", "cns")),
])
def test_coding_that_agrees_with_the_results_is_no_conflict(results: tuple,
                                                              coded: tuple[str, ...]) -> None:
    result = assess(*results, coded=coded)
    assert not conflicts(result)
    assert not missing(result) & {"marrow-blasts", "csf-findings"}
    evidence = [e for e in result["evidence"] if e["fact"] == "relapse-site"]
    assert "note" not in evidence[0]  # read from the results, not the coding


def test_traumatic_tap_against_coded_cns_is_no_conflict() -> None:
    """An uncallable CSF cannot disagree with the coding; the tap is repeated."""
    result = assess(b.marrow(DAY, 60), *b.csf(DAY, 12, 300, True), coded=("marrow", "cns"))
    assert not conflicts(result)
    assert "repeat-lumbar-puncture" in recommended(result)


# --- "at relapse": within 14 days, closest first, the earlier on a tie -------------------------

@pytest.mark.parametrize(("offset", "used"), [(-15, False), (-14, True), (14, True), (15, False)])
def test_results_within_14_days_of_the_relapse(offset: int, used: bool) -> None:
    result = assess(b.marrow(_shift(offset), 60), *cns1(_shift(offset)))
    assert (site(result) == "isolated-marrow") is used
    assert ("marrow-blasts" in missing(result)) is not used


def test_the_closest_result_is_used() -> None:
    result = assess(b.marrow(_shift(-5), 60), b.marrow(_shift(3), 1), *cns1())
    assert result["relapse"]["marrow_status"].startswith("M1")
    result = assess(b.marrow(_shift(-3), 60), b.marrow(_shift(5), 1), *cns1())
    assert result["relapse"]["marrow_status"].startswith("M3")


def test_on_a_tie_the_earlier_result_is_used() -> None:
    result = assess(b.marrow(_shift(3), 1), b.marrow(_shift(-3), 60), *cns1())
    assert result["relapse"]["marrow_status"].startswith("M3")
    result = assess(b.marrow(_shift(3), 60), b.marrow(_shift(-3), 1), *cns1())
    assert result["relapse"]["marrow_status"].startswith("M1")


def test_site_evidence_cites_each_result_read() -> None:
    marrow = b.marrow(DAY, 60)
    csf = cns3()
    pb = blood(2)
    result = assess(marrow, *csf, pb)
    refs = {r for e in result["evidence"] if e["fact"] == "relapse-site" for r in e["from"]}
    for res in (marrow, *csf, pb):
        assert f"Observation/{res['id']}" in refs


# --- property: the site follows 002 Table 2 for any marrow, blood and CSF counts ----------------

def _expected_site(marrow: float, pb: float, wbc: float, rbc: float, blasts: bool) -> str:
    """002 Table 2 / CLINICAL_RULES §1.3, written from the spec independently of the engine."""
    level = "M3" if marrow > 25 else "M2" if marrow >= 5 else "M1"
    marrow_relapse = level == "M3" or (level == "M2" and pb > 0)
    if blasts and rbc > 20:  # traumatic tap: CNS cannot be called
        return "indeterminate"
    cns3 = blasts and wbc >= 5
    if cns3:
        if level != "M1":
            return "combined"
        return "isolated-cns" if pb == 0 else "indeterminate"
    return "isolated-marrow" if marrow_relapse else "indeterminate"


@given(marrow=st.floats(0, 100), pb=st.sampled_from([0.0, 0.5, 3.0]),
       wbc=st.floats(0, 50), rbc=st.floats(0, 60), blasts=st.booleans())
def test_site_property(marrow: float, pb: float, wbc: float, rbc: float, blasts: bool) -> None:
    day = date.fromisoformat(DAY)
    onset = FuzzyDate(earliest=day, latest=day, text=DAY)

    def m(kind: str, value: float) -> Measurement:
        return Measurement(kind=kind, when=day, value=value)

    facts = PatientFacts(
        measurements=[m("marrow-blasts", marrow), m("pb-blasts", pb), m("csf-wbc", wbc),
                      m("csf-rbc", rbc)],
        findings=[Finding(kind="csf-blasts", when=day, positive=blasts)])
    reading = read_site(facts, Episode(onset=onset, records=[RelapseRecord(onset=onset)]),
                        FactIndex(facts))
    assert reading.site == _expected_site(marrow, pb, wbc, rbc, blasts)
