"""Quantities normalised to the unit the engine uses (UCUM codes, FHIR_INPUT.md)."""

from __future__ import annotations

from decimal import Decimal

from service.fhir.lean import Quantity

# per microlitre: /uL, {cells}/uL and 10*6/L are equal (FHIR_INPUT.md "CSF leukocytes")
_PER_UL = {
    "/uL": Decimal(1), "{cells}/uL": Decimal(1), "10*6/L": Decimal(1), "/mm3": Decimal(1),
    "{cells}/mm3": Decimal(1), "10*3/uL": Decimal(1000), "10*9/L": Decimal(1000),
    "10*3/mm3": Decimal(1000),
}


class UnitProblem(ValueError):
    """The quantity cannot be used; the message says why (no patient data)."""


def _unit(q: Quantity) -> str | None:
    return q.code or q.unit


def _value(q: Quantity) -> Decimal:
    if q.value is None:
        raise UnitProblem("has no value")
    value = Decimal(str(q.value))
    if value < 0:
        raise UnitProblem("is negative")
    return value


def percent(q: Quantity) -> float:
    """A percentage (0–100); a fraction given with unit ``1`` is turned into percent."""
    value, unit = _value(q), _unit(q)
    if unit == "%":
        pass
    elif unit == "1":
        value *= 100
    else:
        raise UnitProblem(f"unit '{unit}' is not a percentage" if unit else "has no unit")
    if value > 100:
        raise UnitProblem("is over 100%")
    return float(value)


def per_microlitre(q: Quantity) -> float:
    value, unit = _value(q), _unit(q)
    if unit not in _PER_UL:
        raise UnitProblem(f"unit '{unit}' is not a count per volume" if unit else "has no unit")
    return float(value * _PER_UL[unit])


def fraction(q: Quantity) -> float:
    """MRD as a fraction of nucleated cells: ``%`` is divided by 100, ``1`` is kept."""
    value, unit = _value(q), _unit(q)
    if unit == "%":
        value /= 100
    elif unit != "1":
        raise UnitProblem(f"unit '{unit}' is ambiguous for MRD" if unit else
                          "has no unit (ambiguous: percent or fraction)")
    if value > 1:
        raise UnitProblem("is over 100%")
    return float(value)


def count(q: Quantity, unit_family: str) -> float:
    """A value in the engine's unit for the observation's unit family."""
    if unit_family == "percent":
        return percent(q)
    return per_microlitre(q)
