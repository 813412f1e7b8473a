"""FHIR resources → the relapse view's page, through the same extraction and engine as the
cards (``service.pipeline``), keeping the engine's case for the timeline and the time points."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from service.engine import assess
from service.engine.core import build_case
from service.extract import extract_facts
from service.fhir.bundle import bundle_resources
from service.mapping import CodeMaps, default_code_maps
from service.view.model import RelapseView, build_view
from service.view.page import render_page


def view_of_resources(resources: Iterable[dict[str, Any]], *, patient_id: str | None = None,
                      as_of: date | None = None, maps: CodeMaps | None = None,
                      full_urls: dict[str, dict[str, Any]] | None = None) -> RelapseView:
    as_of = as_of or date.today()
    facts = extract_facts(resources, maps or default_code_maps(), as_of, patient_id, full_urls)
    assessment = assess(facts, as_of).to_json()
    return build_view(facts, build_case(facts, as_of, []), assessment, as_of)


def page_of_resources(resources: Iterable[dict[str, Any]], **options: Any) -> str:
    """The HTML page of one patient's FHIR R4 resources (options as ``view_of_resources``)."""
    return render_page(view_of_resources(resources, **options))


def page_of_bundle(bundle: dict[str, Any], *, as_of: date | None = None,
                   maps: CodeMaps | None = None) -> str:
    """The HTML page of a FHIR Bundle holding one patient's record."""
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    full_urls = {e["fullUrl"]: e["resource"] for e in entries or []
                 if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)
                 and isinstance(e.get("resource"), dict)}
    return page_of_resources(bundle_resources(bundle), as_of=as_of, maps=maps, full_urls=full_urls)
