"""Quantities normalised to the unit the engine uses (UCUM codes, FHIR_INPUT.md)."""

from __future__ import annotations

import math
from collections.abc import Container
from decimal import Decimal

from service.fhir.lean import Quantity

# Factor to "per microlitre": /uL, {cells}/uL and 10*6/L are equal (FHIR_INPUT.md "CSF
# leukocytes").  UCUM codes first, then units as laboratories write them without a system
# (FHIR_INPUT.md "Units as labs write them"): K/uL and x10E3/uL are thousands per microlitre;
# German labs write G/l (giga per litre = 10^9/L) and /nl (per nanolitre = 1000/uL).
_PER_UL = {
    "/uL": Decimal(1), "{cells}/uL": Decimal(1), "10*6/L": Decimal(1), "/mm3": Decimal(1),
    "{cells}/mm3": Decimal(1), "10*3/uL": Decimal(1000), "10*9/L": Decimal(1000),
    "10*3/mm3": Decimal(1000),
    "cells/uL": Decimal(1), "/µL": Decimal(1), "cells/µL": Decimal(1), "/mcL": Decimal(1),
    "/cumm": Decimal(1), "K/uL": Decimal(1000), "K/µL": Decimal(1000), "K/mcL": Decimal(1000),
    "10^3/uL": Decimal(1000), "10^3/µL": Decimal(1000), "x10E3/uL": Decimal(1000),
    "x10^3/uL": Decimal(1000), "10*3/µL": Decimal(1000), "10^9/L": Decimal(1000),
    "x10^9/L": Decimal(1000), "x10E9/L": Decimal(1000), "G/L": Decimal(1000),
    "G/l": Decimal(1000), "/nL": Decimal(1000), "/nl": Decimal(1000), "10^6/L": Decimal(1),
}


_PERCENT_OR_FRACTION = ("%", "1")


class UnitProblem(ValueError):
    """The quantity cannot be used; the message says why (no patient data)."""


def _unit(q: Quantity, known: Container[str]) -> str | None:
    """The unit to read: the code, else the written unit (a lab that puts its own text in
    ``code`` may still write a known unit in ``unit``)."""
    code, unit = q.get("code"), q.get("unit")
    if code in known:  # as usual: a known unit as it is (none has spaces around it to strip)
        return code
    for candidate in (code, unit):
        if candidate is not None and candidate.strip() in known:
            return candidate.strip()
    return code or unit


def _value(q: Quantity) -> float:
    value = q.get("value")
    if value is None:
        raise UnitProblem("has no value")
    if not math.isfinite(value):  # NaN or infinity (replay reads JSON that allows them)
        raise UnitProblem("is not a finite number")
    if value < 0:
        raise UnitProblem("is negative")
    return value


def _scaled(value: float, factor: Decimal | int) -> float:
    """``value`` times ``factor`` as the decimal numbers they are written as (0.29 × 100 is 29,
    where float arithmetic gives 28.999999999999996); times 1 is the value itself (a shortcut: the
    result is the same either way, so a mutant of it is equivalent)."""
    return value if factor == 1 else float(Decimal(str(value)) * factor)


def percent(q: Quantity) -> float:
    """A percentage (0–100); a fraction given with unit ``1`` is turned into percent."""
    value, unit = _value(q), _unit(q, _PERCENT_OR_FRACTION)
    if unit == "%":
        pass
    elif unit == "1":
        value = _scaled(value, 100)
    else:
        raise UnitProblem(f"unit '{unit}' is not a percentage" if unit else "has no unit")
    if value > 100:
        raise UnitProblem("is over 100%")
    return value


def per_microlitre(q: Quantity) -> float:
    value, unit = _value(q), _unit(q, _PER_UL)
    if unit not in _PER_UL:
        raise UnitProblem(f"unit '{unit}' is not a count per volume" if unit else "has no unit")
    return _scaled(value, _PER_UL[unit])


def fraction(q: Quantity) -> float:
    """MRD as a fraction of nucleated cells: ``%`` is divided by 100, ``1`` is kept."""
    value, unit = _value(q), _unit(q, _PERCENT_OR_FRACTION)
    if unit not in ("%", "1"):
        raise UnitProblem(f"unit '{unit}' is ambiguous for MRD" if unit else
                          "has no unit (ambiguous: percent or fraction)")
    if value > (100 if unit == "%" else 1):
        raise UnitProblem("is over 100%")
    return float(Decimal(str(value)) / 100) if unit == "%" else value


def count(q: Quantity, unit_family: str) -> float:
    """A value in the engine's unit for the observation's unit family."""
    if unit_family == "percent":
        return percent(q)
    return per_microlitre(q)
