"""Reading a coded result (positive / negative) from an Observation's value or interpretation."""

from __future__ import annotations

from service.extract.context import Context
from service.fhir.lean import Observation


def coded_result(ctx: Context, obs: Observation) -> bool | None:
    concept = ctx.concept("result-value", obs.get("valueCodeableConcept"))
    if concept is None:
        for interp in obs.get("interpretation", ()):
            concept = concept or ctx.concept("result-value", interp)
    return None if concept is None else concept.get("meaning") == "positive"
