"""The named conditions of the advice tables (service/engine/advice/conditions.py), each on both
sides, through the public pipeline: CLINICAL_RULES §3–§6 (issue 16)."""

from __future__ import annotations

from typing import Any

import builders as b
import pytest
from advice_helpers import (
    BLINATUMOMAB,
    HSCT_CODE,
    ICDO3,
    assess,
    codes,
    genetic,
    item,
    later_relapse,
    missing,
    reinduced,
    run,
    severity,
)
from scenarios import DIAGNOSIS, first_relapse, iso


def _icdo3_diagnosis(code: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "dx-icdo3", "subject": b.ref(),
            "code": {"coding": [{"system": ICDO3, "code": code}]},
            "onsetDateTime": DIAGNOSIS.isoformat()}


# §3.5: every adverse finding the schemes do not capture gives the warning, naming it
@pytest.mark.parametrize(("genes", "finding"), [
    (["KMT2A"], "KMT2A"), (["TCF3", "PBX1"], "TCF3-PBX1"), (["BCR", "ABL1"], "BCR-ABL1"),
    (["TP53"], "TP53"), (["TCF3", "HLF"], "TCF3-HLF"),
])
def test_each_adverse_finding_gives_the_not_in_scheme_warning(genes: list[str], finding: str) -> None:
    result = run("B", "BM", 24, None, genetic(genes, iso(24)))
    warning = item(result, "adverse-genetics-not-in-scheme", "warnings")
    assert warning["severity"] == "warning" and warning["params"]["findings"] == finding


def test_hypodiploidy_coded_on_the_diagnosis_is_adverse() -> None:
    result = run("B", "BM", 24, None, _icdo3_diagnosis("9816/3"))
    assert item(result, "adverse-genetics-not-in-scheme", "warnings")["params"]["findings"] \
        == "hypodiploidy"


def test_etv6_runx1_is_not_adverse_and_says_better_outcome() -> None:
    result = run("B", "BM", 24, None, genetic(["ETV6", "RUNX1"], iso(24)))
    assert "adverse-genetics-not-in-scheme" not in codes(result, "warnings")
    assert any("ETV6-RUNX1" in n for n in result["notes"])
    assert "genomic-profiling" not in codes(result)  # genetics recorded


# §3.1 the site: marrow involved, whether isolated or combined, is Figure 1A
def _marrow_no_csf(*extra: Any) -> dict[str, Any]:
    """An early B-ALL relapse with an M3 marrow and no lumbar puncture: isolated or combined."""
    return b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                    b.relapse(iso(24)), b.medication("103", iso(6), status="active"),
                    b.marrow(iso(24), 60), *extra)


def test_m3_marrow_without_csf_follows_figure_1a_whether_isolated_or_combined() -> None:
    result = assess(_marrow_no_csf(*reinduced(24, b.mrd(iso(24, 30), 0.5))), 26)
    assert result["relapse"]["site"] == "indeterminate"
    assert item(result, "blinatumomab-consolidation")["params"]["cycles"] == 2
    assert "hsct-cr2" in codes(result)


def test_site_not_yet_clear_reinduction_says_so() -> None:
    unclear = assess(_marrow_no_csf(), 25)
    assert "Site not yet clear" in item(unclear, "reinduction-4-drug")["text"]
    clear = run("B", "BM", 24, None)
    assert "Site not yet clear" not in item(clear, "reinduction-4-drug")["text"]


def test_cns3_without_a_marrow_result_is_reinduced_as_a_marrow_relapse_until_clear() -> None:
    """Combined or isolated CNS: neither Figure 1A nor 1B is settled, reinduction is (000)."""
    bundle = b.bundle(b.patient("2010-05-05"), b.diagnosis(DIAGNOSIS.isoformat(), "B"),
                      b.relapse(iso(24)), b.medication("103", iso(6), status="active"),
                      *b.csf(iso(24), 12, 0, True))
    result = assess(bundle, 25)
    assert "Site not yet clear" in item(result, "reinduction-4-drug")["text"]
    assert {"intrathecal-therapy", "infection-prophylaxis"} <= codes(result)


# §3.3 other extramedullary sites: no local therapy unless disease persists
def test_other_extramedullary_note_only_with_another_site() -> None:
    note = "Other extramedullary site"
    marrow_only = run("B", "BM", 24, None)
    skin_bundle = first_relapse("B", "BM", 24, None)
    skin_bundle["entry"][2]["resource"]["bodySite"] = [
        {"coding": [{"system": b.SCT, "code": b.SITE_CODE["skin"]}]}]
    with_skin = assess(skin_bundle, 25)
    assert any(note in n for n in with_skin["notes"])
    assert not any(note in n for n in marrow_only.get("notes", []))


# §3.1 blinatumomab: two 28-day cycles, then HSCT; persistent MRD after both → alternatives
def _blinatumomab(cycles: int, mrd_after: float) -> dict[str, Any]:
    blina = [b.medication(BLINATUMOMAB, iso(25, d), iso(25, d + 27)) for d in (0, 42)[:cycles]]
    return run("B", "BM", 24, None, *reinduced(24, b.mrd(iso(24, 30), 0.5)), *blina,
               b.mrd(iso(27, 20), mrd_after), as_of=28)


def test_after_two_blinatumomab_cycles_and_negative_mrd_hsct_without_more_blinatumomab() -> None:
    result = _blinatumomab(2, 0.005)
    assert "hsct-cr2" in codes(result)
    assert not codes(result) & {"blinatumomab-consolidation", "inotuzumab", "car-t-cd19"}


def test_after_one_blinatumomab_cycle_one_more_is_due_even_with_positive_mrd() -> None:
    result = _blinatumomab(1, 0.05)
    assert item(result, "blinatumomab-consolidation")["params"]["cycles"] == 1
    assert "hsct-cr2" in codes(result)
    assert not codes(result) & {"inotuzumab", "car-t-cd19"}  # not yet persistent after 2 cycles


# §4 second or later relapse: the goals-of-care reason names the patient's history
@pytest.mark.parametrize("history", ["hsct", "car-t"])
def test_second_relapse_after_only_one_of_hsct_or_car_t_is_not_multiply_treated(history: str) -> None:
    prior = (b.procedure(HSCT_CODE, iso(14)) if history == "hsct"
             else b.procedure("car-t-infusion", iso(14), system=b.LOCAL))
    result = later_relapse(30, 10, "BM", prior, b.coded_obs("cd19-blasts", iso(30), False))
    text = item(result, "goals-of-care")["text"]
    assert "Remission rates fall" in text and "after HSCT and CAR-T" not in text


def test_second_relapse_after_hsct_and_car_t_explores_quality_of_life() -> None:
    result = later_relapse(40, 10, "BM", b.procedure(HSCT_CODE, iso(14)),
                           b.procedure("car-t-infusion", iso(30), system=b.LOCAL),
                           b.coded_obs("cd19-blasts", iso(40), False))
    assert "after HSCT and CAR-T" in item(result, "goals-of-care")["text"]


# §6 prior blinatumomab and CAR-T in the record (an order for the product, not only a procedure)
def test_prior_blinatumomab_and_car_t_product_ordered() -> None:
    ordered = b.planned("tisagenlecleucel", iso(24, 3), system=b.LOCAL)
    prior = b.medication(BLINATUMOMAB, iso(6), iso(7))
    assert severity(run("B", "BM", 24, None, prior, ordered), "prior-blinatumomab-before-car-t") \
        == "info"
    assert severity(run("B", "BM", 24, None, prior), "prior-blinatumomab-before-car-t") is None


# §6 CD19 and CD22 decide the immunotherapy options: asked for only until tested
@pytest.mark.parametrize("tested", [True, False])
def test_cd19_and_cd22_are_asked_for_until_tested(tested: bool) -> None:
    markers = (b.coded_obs("cd19-blasts", iso(24), True), b.coded_obs("cd22-blasts", iso(24), True))
    result = run("B", "BM", 24, None, *(markers if tested else ()))
    assert ("cd19-status" in missing(result)) is not tested
    assert ("cd22-status" in missing(result)) is not tested
