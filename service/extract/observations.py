"""Observations → measurements, positive/negative findings and MRD; genetics and disease
descriptions are read by ``genetics`` and ``disease`` (FHIR_INPUT.md)."""

from __future__ import annotations

import re
from datetime import date

from service.extract.context import Context, ref_of
from service.extract.disease import add_disease_status, add_lineage_result
from service.extract.genetics import add_genetics
from service.extract.results import coded_result
from service.extract.units import UnitProblem, count, fraction, percent
from service.facts import Finding, Mrd, PatientFacts
from service.fhir.lean import Observation

COUNTED_STATUSES = {"final", "amended", "corrected"}
# CD19/CD22 given as % of blasts: positive from 20% (FHIR_INPUT.md; the cut-off is stated on
# the evidence so that a reader sees it).
ANTIGEN_POSITIVE_PERCENT = 20.0
# A negative MRD given as a code is negative at the usual flow sensitivity, taken as < 0.01%.
CODED_NEGATIVE_MRD = 1e-4
POSITIVE_NEGATIVE = ("cns-clinical-involvement", "testicular-biopsy", "cd19", "cd22",
                     "b-cell-recovery", "csf-blasts")


def add_observation(ctx: Context, obs: Observation, facts: PatientFacts) -> None:
    if obs.get("status") not in COUNTED_STATUSES:
        return
    concept = ctx.concept("observation", obs.get("code"))
    ref = ref_of(obs)
    if concept is None:
        unread = _looks_relevant(obs)
        if unread:
            ctx.problem(ref, f"looks like {unread} but its code is not in the code maps; not used")
        return
    period = obs.get("effectivePeriod")
    when_text = obs.get("effectiveDateTime") or (period.get("start") if period is not None else None)
    when = ctx.date(ref, when_text, "effective date")
    if when is None:
        if when_text is None:
            ctx.problem(ref, f"{concept.fact} result without an effective date; ignored")
        return
    day = when.earliest
    kind = concept.fact
    quantity = obs.get("valueQuantity")
    try:
        if kind == "mrd":
            _add_mrd(ctx, obs, facts, ref, day, concept.get("method"))
        elif kind == "genetic-variant-assessment":
            add_genetics(ctx, obs, facts, ref, day)
        elif kind in ("morphology", "immunophenotype"):
            add_lineage_result(ctx, obs, facts, ref, kind)
        elif kind == "disease-status":
            add_disease_status(ctx, obs, facts, ref, day)
        elif kind in POSITIVE_NEGATIVE:
            _add_finding(ctx, obs, facts, ref, day, kind)
        elif (unit := concept.get("unit")) and quantity is not None:
            value = count(quantity, unit)
            ctx.measurements.append({"refs": (ref,), "kind": kind, "when": day, "value": value,
                                     "comparator": quantity.get("comparator")})
        elif unit:
            ctx.problem(ref, f"{kind} result without a quantity; ignored")
    except UnitProblem as exc:
        ctx.problem(ref, f"{kind} value {exc}; ignored")


def _add_finding(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date,
                 kind: str) -> None:
    positive = coded_result(ctx, obs)
    pct = None
    quantity = obs.get("valueQuantity")
    if positive is None and quantity is not None:
        if kind == "csf-blasts":  # a count: > 0 means blasts present; no value says nothing
            value = quantity.get("value")
            if value is not None:
                positive = value > 0
        elif kind in ("cd19", "cd22"):
            pct = percent(quantity)
            positive = pct >= ANTIGEN_POSITIVE_PERCENT
    if positive is None:
        ctx.problem(ref, f"{kind} result is neither a known positive/negative code nor a usable "
                         "quantity; ignored")
        return
    facts.findings.append(Finding(refs=(ref,), kind=kind, when=day, positive=positive, percent=pct))


def _add_mrd(ctx: Context, obs: Observation, facts: PatientFacts, ref: str, day: date,
             method: str) -> None:
    quantity = obs.get("valueQuantity")
    if quantity is not None:
        value = fraction(quantity)
        comparator = quantity.get("comparator") or "="
        if comparator not in ("<", "<=", "=", ">", ">="):
            ctx.problem(ref, "MRD comparator not understood; ignored")
            return
        facts.mrd.append(Mrd(refs=(ref,), when=day, fraction=value, comparator=comparator,
                             method=method))
        return
    positive = coded_result(ctx, obs)
    if positive is False:
        facts.mrd.append(Mrd(refs=(ref,), when=day, fraction=CODED_NEGATIVE_MRD, comparator="<",
                             method=method))
    else:
        ctx.problem(ref, "MRD without a quantity (a coded positive has no level); ignored")


# What makes an unmapped Observation look relevant (FHIR_INPUT.md "Relevant but unreadable"):
# a component "gene studied", or words for marrow / CSF in its name.
GENE_STUDIED = ("http://loinc.org", "48018-6")
RELEVANT_TEXT = re.compile(
    r"bone marrow|marrow|knochenmark|cerebrospinal|\bCSF\b|liquor|\bMRD\b|minimal residual",
    re.IGNORECASE)


def _looks_relevant(obs: Observation) -> str | None:
    for comp in obs.get("component", ()):
        code = comp.get("code")
        if code is not None and any((c.get("system"), c.get("code")) == GENE_STUDIED
                                    for c in code.get("coding", ())):
            return "a genetic result (it names a gene studied)"
    code = obs.get("code")
    names = ([code.get("text") or "", *(c.get("display") or "" for c in code.get("coding", ()))]
             if code is not None else [])
    if any(RELEVANT_TEXT.search(n) for n in names) and (
            obs.get("valueQuantity") is not None or obs.get("valueCodeableConcept") is not None
            or obs.get("valueString")):
        return "a marrow, CSF or MRD result (by its name)"
    return None
