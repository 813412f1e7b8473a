"""One straight line: FHIR resources → facts → assessment (the same for the service and replay)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from service.cards.records import Record, records_of
from service.engine import assess
from service.extract import extract_facts, facts_of_lean
from service.extract.bundle_text import LeanRecord
from service.facts import PatientFacts
from service.fhir.bundle import bundle_resources
from service.mapping import CodeMaps, default_code_maps


def assess_resources(
    resources: Iterable[dict[str, Any]],
    *,
    patient_id: str | None = None,
    as_of: date | None = None,
    maps: CodeMaps | None = None,
    full_urls: dict[str, dict[str, Any]] | None = None,
    records: dict[str, Record] | None = None,
) -> dict[str, Any]:
    """The assessment (OUTPUT.md §1, JSON-ready) of one patient's FHIR R4 resources.
    ``full_urls``: a Bundle's ``fullUrl`` → resource, for references such as ``urn:uuid:…``.
    ``records``, when given, receives what each referenced record held (for the cards)."""
    as_of = as_of or date.today()
    facts = extract_facts(resources, maps or default_code_maps(), as_of, patient_id, full_urls)
    return _assessed(facts, as_of, records)


def assess_lean(record: LeanRecord, *, patient_id: str | None = None, as_of: date | None = None,
                maps: CodeMaps | None = None, records: dict[str, Record] | None = None
                ) -> dict[str, Any]:
    """The assessment of resources read from their text into the lean shapes (a Bundle by
    ``extract.bundle_text``, a call's prefetch by ``hooks.call_text``): the same as
    ``assess_bundle`` or ``assess_resources`` gives for the parsed resources."""
    as_of = as_of or date.today()
    facts = facts_of_lean(record.resources, record.medications_by_url,
                          maps or default_code_maps(), as_of, patient_id)
    return _assessed(facts, as_of, records)


def _assessed(facts: PatientFacts, as_of: date, records: dict[str, Record] | None
              ) -> dict[str, Any]:
    if records is not None:
        records.update(records_of(facts))
    return assess(facts, as_of).to_json()


def assess_bundle(
    bundle: dict[str, Any], *, as_of: date | None = None, maps: CodeMaps | None = None,
    records: dict[str, Record] | None = None,
) -> dict[str, Any]:
    """The assessment of a FHIR Bundle holding one patient's record."""
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    # only a Medication is looked up by fullUrl (a medicationReference to ``urn:uuid:…``)
    full_urls = {e["fullUrl"]: resource for e in entries or []
                 if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)
                 and isinstance(resource := e.get("resource"), dict)
                 and resource.get("resourceType") == "Medication"}
    return assess_resources(bundle_resources(bundle), as_of=as_of, maps=maps, full_urls=full_urls,
                            records=records)
