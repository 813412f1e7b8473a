"""Fixture replay: saved FHIR Bundles through the same pipeline, one JSON line each (OUTPUT.md §4).

Inputs are files (a Bundle as JSON, or NDJSON with one Bundle per line) and folders (every
``*.json`` and ``*.ndjson`` below them, sorted, except the fixtures' ``expected.json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from service.extract import INVALID_FHIR
from service.fhir.strict import InvalidFhir, validate_bundle
from service.mapping import CodeMaps
from service.pipeline import assess_bundle

EXPECTATION_FILE = "expected.json"


@dataclass(frozen=True)
class Item:
    source: str
    text: str


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson")
                      and p.name != EXPECTATION_FILE)
    return [path]


def items(paths: Iterable[str | Path]) -> Iterator[Item]:
    """Every bundle text in input order, named by file (and line for NDJSON)."""
    for given in paths:
        for path in _files(Path(given)):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                yield Item(str(path), f"\0cannot read the file: {exc.__class__.__name__}")
                continue
            if path.suffix == ".ndjson":
                for number, line in enumerate(text.splitlines(), start=1):
                    if line.strip():
                        yield Item(f"{path}:{number}", line)
            else:
                yield Item(str(path), text)


def invalid_resources(result: dict[str, Any]) -> list[str]:
    """The references of the resources left out of an assessment (or a cards line) for not
    being valid FHIR."""
    if "invalid_resources" in result:
        return list(result["invalid_resources"])
    return [str(p.get("ref")) for p in result.get("problems") or []
            if isinstance(p, dict) and str(p.get("problem", "")).startswith(INVALID_FHIR)]


def replay_one(item: Item, *, as_of: date | None, strict: bool, maps: CodeMaps,
               cards: bool, html: Path | None = None) -> dict[str, Any]:
    """The assessment (or cards) of one bundle, or ``{"source", "error"}``."""
    if item.text.startswith("\0"):
        return {"source": item.source, "error": item.text[1:]}
    try:
        bundle = json.loads(item.text)
    except json.JSONDecodeError as exc:
        return {"source": item.source, "error": f"not JSON: {exc.msg} at line {exc.lineno} "
                                                f"column {exc.colno}"}
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        return {"source": item.source, "error": f"not a FHIR Bundle (found {kind!s:.40})"}
    if strict:
        try:
            validate_bundle(bundle)
        except InvalidFhir as exc:
            return {"source": item.source, "error": str(exc)}
    if html is not None:  # replay --html DIR: the relapse view of this bundle, for audits
        from service.view.files import write_page

        write_page(html, item.source, bundle, as_of=as_of, maps=maps)
    assessment = assess_bundle(bundle, as_of=as_of, maps=maps)
    if cards:
        from service.render import render_cards

        rendered = render_cards(assessment, f"replay:{item.source}",
                                str(assessment.get("patient") or "Patient"))
        line: dict[str, Any] = {"source": item.source, "patient": assessment.get("patient"),
                                "cards": [r.card for r in rendered]}
        invalid = invalid_resources(assessment)
        return {**line, "invalid_resources": invalid} if invalid else line
    return assessment
