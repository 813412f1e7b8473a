"""FHIR R4 resources → typed facts (``service.facts``), through the code maps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from service.extract.conditions import (
    add_condition,
    finish_relapse_statuses,
    report_undated_relapses,
)
from service.extract.context import INVALID_FHIR as INVALID_FHIR  # re-exported (replay)
from service.extract.context import Context
from service.extract.medications import add_medication, is_medication_use
from service.extract.observations import add_observation
from service.extract.procedures import add_procedure
from service.facts import Measurement, PatientFacts, Therapy
from service.fhir.lean import (
    RESOURCE_TYPES,
    AnyResource,
    Medication,
    Patient,
    error_message,
    medication_adapter,
    resource_adapter,
    resources_adapter,
)
from service.mapping import NOT_READ, CodeMaps

_MEASUREMENTS = TypeAdapter(list[Measurement])
_THERAPIES = TypeAdapter(list[Therapy])


def _describe(exc: ValidationError) -> str:
    """Where and what, without the values (they may be patient data): only the location and
    the message are read, and neither holds the input."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"][1:]) or "(resource)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error_message(first)}{more}"


def _not_read(observation: Mapping[str, Any], maps: CodeMaps) -> bool:
    """An Observation whose code means a fact no rule reads (``mapping.NOT_READ``): left out
    before it costs a validation."""
    code = observation.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    for coding in codings if isinstance(codings, list) else ():
        if isinstance(coding, dict) and (concept := maps.find(
                "observation", coding.get("system"), coding.get("code"))) is not None:
            return concept.fact in NOT_READ  # the first known coding decides, as in extraction
    return False


def is_read(resource: Mapping[str, Any], maps: CodeMaps) -> bool:
    """A resource extraction reads: of a type with a lean shape, and not an Observation of a
    fact no rule reads."""
    kind = resource.get("resourceType")
    return isinstance(kind, str) and kind in RESOURCE_TYPES \
        and not (kind == "Observation" and _not_read(resource, maps))


def extract_facts(resources: Iterable[dict[str, Any]], maps: CodeMaps, as_of: date,
                  patient_id: str | None = None,
                  full_urls: dict[str, dict[str, Any]] | None = None) -> PatientFacts:
    """The facts of one patient's resources; unusable resources become ``problems``."""
    ctx = Context(maps=maps, as_of=as_of)
    candidates = [raw for raw in resources if isinstance(raw, dict) and is_read(raw, maps)]
    try:  # one call for the whole list: the usual case, every resource valid
        parsed = resources_adapter.validate_python(candidates)
    except ValidationError:  # one by one, to report each invalid resource and keep the rest
        parsed = []
        for raw in candidates:
            try:
                parsed.append(resource_adapter.validate_python(raw))
            except ValidationError as exc:
                rid = raw.get("id")
                ref = f"{raw['resourceType']}/{rid if isinstance(rid, str) else '(no id)'}"
                ctx.problem(ref[:120], f"{INVALID_FHIR}, ignored: {_describe(exc)}")
    by_url = {}
    for url, raw in (full_urls or {}).items():  # references by fullUrl, e.g. urn:uuid:…
        if raw.get("resourceType") == "Medication":
            with suppress(ValidationError):
                by_url[url] = medication_adapter.validate_python(raw)
    return _facts(ctx, parsed, by_url, patient_id)


def facts_of_lean(resources: list[AnyResource], medications_by_url: dict[str, Medication],
                  maps: CodeMaps, as_of: date, patient_id: str | None = None) -> PatientFacts:
    """The facts of resources already read into their lean shapes (all of them valid, and only
    those ``is_read`` keeps), with the Medications that references name by ``fullUrl``."""
    return _facts(Context(maps=maps, as_of=as_of), resources, medications_by_url, patient_id)


def _facts(ctx: Context, parsed: list[AnyResource], medications_by_url: dict[str, Medication],
           patient_id: str | None) -> PatientFacts:
    facts = PatientFacts(patient=f"Patient/{patient_id}" if patient_id else None)
    for res in parsed:
        if res["resourceType"] == "Medication" and res.get("id"):
            ctx.medications[f"Medication/{res['id']}"] = res
    ctx.medications.update(medications_by_url)
    for res in parsed:  # Conditions first: the others refer to the ALL Conditions
        if res["resourceType"] == "Patient":
            _add_patient(ctx, res, facts)
        elif res["resourceType"] == "Condition":
            add_condition(ctx, res, facts)
    finish_relapse_statuses(ctx, facts)
    for res in parsed:
        if res["resourceType"] == "Observation":
            add_observation(ctx, res, facts)
        elif is_medication_use(res):
            add_medication(ctx, res)
        elif res["resourceType"] == "Procedure":
            add_procedure(ctx, res, facts)
    report_undated_relapses(ctx, facts)
    facts.measurements = _MEASUREMENTS.validate_python(ctx.measurements)
    facts.therapies = _THERAPIES.validate_python(ctx.therapies)
    facts.problems = ctx.problems
    return facts


def _add_patient(ctx: Context, patient: Patient, facts: PatientFacts) -> None:
    ref = f"Patient/{patient.get('id') or '(no id)'}"
    if facts.patient is None:
        facts.patient = ref
    facts.birth_date = ctx.date(ref, patient.get("birthDate"), "birthDate")
    facts.gender = patient.get("gender")
