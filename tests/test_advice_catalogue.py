"""What each code says, against the numbers of CLINICAL_RULES (issue 16: a dose, threshold or
interval changed in the catalogue would change the card and the parameter together, so the
property test alone cannot see it), and the declared exclusions, each member on a case that
would otherwise get it."""

from __future__ import annotations

from datetime import date
from typing import Any

import builders as b
import pytest
from advice_helpers import codes, item
from scenarios import first_relapse, iso

from service.engine.advice.catalogue import CATALOGUE, CD19_DIRECTED, PRE_CAR_T_THERAPY
from service.pipeline import assess_bundle

# code, parameter, value, the words the card must carry, where the spec says it
SPEC_NUMBERS = [
    ("blinatumomab-consolidation", "cycle_days", 28, "of 28 days", "§3.1: 2 cycles, 28 days each"),
    ("chemotherapy-continuation", "duration_years", 2, "total of 2 years", "§3.1: to 2 years"),
    ("hsct-cr2", "mrd_threshold_percent", 0.01, "below 0.01%", "§3.1: HSCT once MRD < 0.01%"),
    ("mrd-directed-therapy-before-hsct", "threshold_percent", 0.01, "at or above 0.01%",
     "§2.5: pre-HSCT MRD ≥ 10⁻⁴"),
    ("t-cell-collection", "cd3_threshold_per_ul", 200, "above 200/µL", "§4: CD3 > 200/µL"),
    ("t-cell-collection", "alc_threshold_per_ul", 500, "above 500/µL", "§4: ALC > 500/µL"),
    ("orchiectomy", "bilateral_dose_gy", 24, "radiation 24 Gy", "§3.3: bilateral 24 Gy"),
    ("testicular-radiation", "dose_gy", 15, "Radiation 15 Gy", "§3.3: 15 Gy to the remaining testis"),
    ("testicular-radiation", "bilateral_dose_gy", 24, "24 Gy when both", "§3.3: bilateral 24 Gy"),
    ("car-t-monitoring", "b_cell_watch_months", 6, "at least 6 months", "§4: B cells monthly ≥ 6 months"),
    ("nelarabine-intrathecal-neurotoxicity", "window_days", 14, "within 14 days",
     "§6: concomitant = within 14 days"),
    ("cranial-radiation-dose-reduction", "prior_limit_gy", 20, "above 20 Gy", "§3.2, §6: > 20 Gy"),
    ("cranial-radiation-dose-reduction", "dose_gy", 15, "to 15 Gy", "§3.2, §6: reduce to 15 Gy"),
    ("early-post-hsct-relapse", "threshold_months", 12, "under 12", "§4: < 12 months"),
]


@pytest.mark.parametrize(("code", "param", "value", "words", "spec"), SPEC_NUMBERS)
def test_each_number_a_card_states_is_the_spec_number(code: str, param: str, value: float,
                                                      words: str, spec: str) -> None:
    entry = CATALOGUE[code]
    assert entry.params[param] == value, spec
    defaults = {k: v for k, v in entry.params.items()}
    needed = {"cycles": 2, "timepoint": "x", "agents": "x", "months_after_hsct": 3, "findings": "x",
              "withheld": "x", "answers": "x", "followed": "x", "dose_cgy": 0}
    text = entry.text.format(**{**needed, **defaults})
    assert words in text, (spec, text)


def _assess(bundle: dict[str, Any], months: int) -> dict[str, Any]:
    return assess_bundle(bundle, as_of=date.fromisoformat(iso(months)))


def test_the_blinatumomab_card_says_two_cycles_of_28_days() -> None:
    blina = item(_assess(first_relapse("B", "BM", 24, None), 25), "blinatumomab-consolidation")
    assert blina["params"] == {"cycles": 2, "cycle_days": 28}
    assert "2 more cycle(s) of 28 days" in blina["text"]


# CAR-T given for this relapse: each pre-CAR-T code, on a case whose pathway would give it
def _car_t_given(phenotype: str, site: str, months: int, end: int | None, *extra: Any,
                 birth: str = "2010-05-05") -> dict[str, Any]:
    car_t = (b.procedure("car-t-infusion", iso(months, 10), system=b.LOCAL),
             b.coded_obs("b-cell-recovery", iso(months, 40), False), *extra)
    return _assess(first_relapse(phenotype, site, months, end, extra=car_t, birth=birth), months + 2)


CAR_T_CASES = {
    "early B marrow, nothing else given": (("B", "BM", 24, None), ()),
    "late B marrow, MRD pending": (("B", "BM", 40, 26), ()),
    "late B marrow, MRD low": (("B", "BM", 40, 26), (b.medication("3264", iso(40), iso(40, 9)),
                                                     b.mrd(iso(40, 30), 0.01))),
    "refractory": (("B", "BM", 24, None), (b.medication("3264", iso(24), iso(24, 9)),
                                           b.marrow(iso(24, 30), 40))),
    "T-ALL": (("T", "BM", 24, None), ()),
    "Ph-positive": (("B", "BM", 24, None), (b.diagnosis(iso(0), "B", code={"coding": [
        {"system": b.SCT, "code": "425688002"}]}),)),
}


@pytest.mark.parametrize("case", list(CAR_T_CASES))
def test_after_car_t_for_this_relapse_no_pre_car_t_therapy_is_recommended(case: str) -> None:
    args, extra = CAR_T_CASES[case]
    result = _car_t_given(*args, *extra)
    assert "car-t-monitoring" in codes(result)
    assert not codes(result) & set(PRE_CAR_T_THERAPY), codes(result) & set(PRE_CAR_T_THERAPY)


def test_after_car_t_an_adult_gets_no_salvage_again() -> None:
    result = _car_t_given("B", "BM", 24, None, birth="1980-01-01")
    assert "car-t-monitoring" in codes(result)
    assert not codes(result) & {"salvage-regimen", "blinatumomab-salvage", "inotuzumab", "car-t-cd19"}


# CD19-negative: every CD19-directed code, on cases whose pathway would give it
@pytest.mark.parametrize(("label", "bundle", "months"), [
    ("adult B-lineage", first_relapse("B", "BM", 24, None, birth="1980-01-01",
                                      extra=(b.coded_obs("cd19-blasts", iso(24), False),)), 25),
    ("child refractory to reinduction", first_relapse(
        "B", "BM", 24, None, extra=(b.coded_obs("cd19-blasts", iso(24), False),
                                    b.medication("3264", iso(24), iso(24, 9)),
                                    b.marrow(iso(24, 30), 40))), 26),
    ("child early marrow relapse", first_relapse(
        "B", "BM", 24, None, extra=(b.coded_obs("cd19-blasts", iso(24), False),)), 25),
])
def test_cd19_negative_excludes_every_cd19_directed_therapy(label: str, bundle: dict[str, Any],
                                                            months: int) -> None:
    result = _assess(bundle, months)
    assert not codes(result) & set(CD19_DIRECTED), label
    assert "cd19-negative" in codes(result, "warnings")


def test_the_same_cases_with_cd19_positive_do_get_cd19_directed_therapy() -> None:
    """The exclusion above is what removes them (the cases would otherwise get them)."""
    adult = _assess(first_relapse("B", "BM", 24, None, birth="1980-01-01"), 25)
    assert {"blinatumomab-salvage", "car-t-cd19"} <= codes(adult)
    refractory = _assess(first_relapse("B", "BM", 24, None, extra=(
        b.medication("3264", iso(24), iso(24, 9)), b.marrow(iso(24, 30), 40))), 26)
    assert "car-t-cd19" in codes(refractory)
