"""Units as laboratories write them (FHIR_INPUT.md "CSF leukocytes", "Units as labs write them",
"MRD values"): every spelling read with its factor, the edges of what a value may be.

The factors here are written from what the units mean (UCUM and lab usage), not copied from
the code: a wrong factor turns a CNS2 tap into CNS3, a 0.1% MRD into 1%."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from typing import Any

import builders as b
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.extract import extract_facts
from service.extract.units import _PER_UL, _unit
from service.fhir.lean import Quantity
from service.mapping import default_code_maps
from service.pipeline import assess_bundle

AS_OF = date(2020, 7, 30)
DAY = "2020-07-20"
# PB_BLAST_COUNT: a count in blood (unit family "count"), CSF_WBC: per microlitre ("per-ul")
CSF_WBC, PB_BLAST_COUNT, MARROW, MRD_FLOW = "26465-5", "30376-8", "11150-0", "67128-9"

# unit as written → how many per microlitre one of it is
PER_MICROLITRE = {
    # one per microlitre, however it is written (a mm³ is a µL; 10⁶/L is 1/µL)
    "/uL": 1, "{cells}/uL": 1, "10*6/L": 1, "/mm3": 1, "{cells}/mm3": 1, "cells/uL": 1,
    "/µL": 1, "cells/µL": 1, "/mcL": 1, "/cumm": 1, "10^6/L": 1,
    # thousands per microlitre (10⁹/L = G/l = per nanolitre = 1000/µL)
    "10*3/uL": 1000, "10*9/L": 1000, "10*3/mm3": 1000, "K/uL": 1000, "K/µL": 1000,
    "K/mcL": 1000, "10^3/uL": 1000, "10^3/µL": 1000, "x10E3/uL": 1000, "x10^3/uL": 1000,
    "10*3/µL": 1000, "10^9/L": 1000, "x10^9/L": 1000, "x10E9/L": 1000, "G/L": 1000,
    "G/l": 1000, "/nL": 1000, "/nl": 1000,
}


def _obs(code: str, quantity: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": b._id("lab"), "status": "final",
            "subject": b.ref(), "code": {"coding": [{"system": b.LOINC, "code": code}]},
            "effectiveDateTime": DAY, "valueQuantity": quantity}


def _read(code: str, quantity: dict[str, Any]) -> tuple[list[float], list[str]]:
    """(values of the measurements or MRD fractions, problems) of one result."""
    facts = extract_facts([_obs(code, quantity)], default_code_maps(), AS_OF)
    values = [m.value for m in facts.measurements] + [m.fraction for m in facts.mrd]
    return values, [p.problem for p in facts.problems]


@pytest.mark.parametrize(("unit", "factor"), sorted(PER_MICROLITRE.items()))
def test_every_count_unit_is_read_with_its_factor(unit: str, factor: int) -> None:
    for code in (CSF_WBC, PB_BLAST_COUNT):
        # as a UCUM code, and as text only (a lab interface without a system)
        assert _read(code, {"value": 4, "unit": unit, "system": b.UCUM, "code": unit}) == (
            [4.0 * factor], []), (code, unit)
        assert _read(code, {"value": 4, "unit": unit}) == ([4.0 * factor], []), (code, unit)


def test_a_known_unit_is_read_even_when_the_code_holds_the_labs_own_text() -> None:
    """Some interfaces put their own unit text in ``code`` and the real unit in ``unit``."""
    assert _read(CSF_WBC, {"value": 12, "unit": "K/uL", "code": "THOU/UL"}) == ([12000.0], [])
    assert _read(MARROW, {"value": 60, "unit": "%", "code": "PCT"}) == ([60.0], [])
    assert _read(MRD_FLOW, {"value": 0.001, "unit": "1", "code": "FRACTION"}) == ([0.001], [])
    assert _read(MARROW, {"value": 60, "unit": " % ", "code": "PCT"}) == ([60.0], [])


def test_an_unknown_unit_is_named_from_the_code_when_no_text_is_given() -> None:
    values, problems = _read(CSF_WBC, {"value": 3, "system": b.UCUM, "code": "/HPF"})
    assert values == [] and "'/HPF'" in problems[0]
    values, problems = _read(CSF_WBC, {"value": 3})
    assert values == [] and "has no unit" in problems[0]


def test_zero_and_small_counts_are_values_and_a_negative_one_is_not() -> None:
    assert _read(CSF_WBC, {"value": 0, "unit": "/uL"}) == ([0.0], [])
    assert _read(CSF_WBC, {"value": 0.5, "unit": "/uL"}) == ([0.5], [])
    values, problems = _read(CSF_WBC, {"value": -0.5, "unit": "/uL"})
    assert values == [] and "negative" in problems[0]
    values, problems = _read(CSF_WBC, {"unit": "/uL"})
    assert values == [] and "no value" in problems[0]


def test_percent_and_fraction_of_marrow_blasts() -> None:
    assert _read(MARROW, {"value": 0.6, "unit": "1"}) == ([60.0], [])  # a fraction → percent
    assert _read(MARROW, {"value": 100, "unit": "%"}) == ([100.0], [])
    assert _read(MARROW, {"value": 99.5, "unit": "%"}) == ([99.5], [])
    for too_much in ({"value": 100.5, "unit": "%"}, {"value": 1.01, "unit": "1"}):
        values, problems = _read(MARROW, too_much)
        assert values == [] and "over 100%" in problems[0], too_much
    values, problems = _read(MARROW, {"value": 60, "unit": "/uL"})
    assert values == [] and "'/uL' is not a percentage" in problems[0]
    values, problems = _read(MARROW, {"value": 60})
    assert values == [] and "has no unit" in problems[0]


def test_mrd_percent_is_divided_by_100_and_a_fraction_kept() -> None:
    assert _read(MRD_FLOW, {"value": 0.1, "unit": "%"}) == ([0.001], [])
    assert _read(MRD_FLOW, {"value": 0.001, "unit": "1"}) == ([0.001], [])
    assert _read(MRD_FLOW, {"value": 100, "unit": "%"}) == ([1.0], [])
    assert _read(MRD_FLOW, {"value": 1, "unit": "1"}) == ([1.0], [])
    for too_much in ({"value": 100.5, "unit": "%"}, {"value": 1.5, "unit": "1"}):
        values, problems = _read(MRD_FLOW, too_much)
        assert values == [] and "over 100%" in problems[0], too_much
    values, problems = _read(MRD_FLOW, {"value": 0.1, "unit": "/uL"})
    assert values == [] and "ambiguous" in problems[0]
    values, problems = _read(MRD_FLOW, {"value": 0.1})
    assert values == [] and "ambiguous" in problems[0]


def _cns_status(wbc: dict[str, Any], rbc: dict[str, Any]) -> str:
    csf = [_obs(CSF_WBC, wbc), _obs("26454-9", rbc), b.quantity_obs("35068-6", DAY, 2, "/uL")]
    bundle = b.bundle(b.patient(), b.diagnosis("2018-01-15", "B"), b.relapse(DAY),
                      b.marrow(DAY, 60), csf)
    return str(assess_bundle(bundle, as_of=AS_OF)["relapse"]["cns_status"])


def test_csf_counts_in_si_units_give_the_cns_status() -> None:
    """4 × 10⁶/L leukocytes with blasts is CNS2 (read as thousands it would be CNS3); 6 per mm³
    is CNS3; 0.03 G/l erythrocytes (30/µL) with blasts is a traumatic tap."""
    clean = {"value": 0, "unit": "10*6/L"}
    assert _cns_status({"value": 4, "unit": "10*6/L"}, clean) == "CNS2"
    assert _cns_status({"value": 6, "unit": "/mm3"}, clean) == "CNS3"
    assert _cns_status({"value": 6, "unit": "/mm3"},
                       {"value": 0.03, "unit": "G/l"}) == "traumatic tap with blasts"


UNIT_TEXTS = st.sampled_from([None, "", " ", "%", " % ", "1", "1 ", "/uL", " /uL", "K/uL", "mg",
                              "10*9/L", "\t10*9/L\n"])


@given(code=UNIT_TEXTS, unit=UNIT_TEXTS, known=st.sampled_from([_PER_UL, ("%", "1")]))
def test_a_known_code_as_it_is_is_read_as_the_long_way_reads_it(
        code: str | None, unit: str | None, known: Container[str]) -> None:
    """_unit takes a code that is a known unit as it is before stripping anything: the same,
    since no known unit has spaces around it."""
    assert all(u == u.strip() for u in (*_PER_UL, "%", "1"))
    quantity: Quantity = {"code": code, "unit": unit}
    stripped = [c.strip() for c in (code, unit) if c is not None and c.strip() in known]
    assert _unit(quantity, known) == (stripped[0] if stripped else code or unit)
