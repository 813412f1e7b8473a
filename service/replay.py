"""Fixture replay: saved FHIR Bundles through the same pipeline, one JSON line each (OUTPUT.md §4).

Inputs are files (a Bundle as JSON, or NDJSON with one Bundle per line) and folders (every
``*.json`` and ``*.ndjson`` below them, sorted, except the fixtures' ``expected.json``). They
are read as they are replayed (an NDJSON file line by line), on every core when asked, and the
lines come out in input order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from service.cards.records import Record
from service.extract import INVALID_FHIR
from service.extract.bundle_text import read_bundle_text
from service.mapping import CodeMaps
from service.pipeline import assess_bundle, assess_lean
from service.runtime import collector_paused, tune_gc

EXPECTATION_FILE = "expected.json"


@dataclass(frozen=True)
class Item:
    source: str
    text: str


@dataclass(frozen=True)
class Options:
    """How every bundle of one run is replayed."""

    as_of: date | None = None
    strict: bool = False
    cards: bool = False
    html: Path | None = None  # also write each bundle's relapse view into this folder


@dataclass(frozen=True)
class Line:
    """One output line (JSON, no newline) and what the run's summary needs of it."""

    source: str
    text: str
    failed: bool
    invalid: tuple[str, ...]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson")
                      and p.name != EXPECTATION_FILE)
    return [path]


def _cannot_read(path: Path, exc: Exception) -> Item:
    return Item(str(path), f"\0cannot read the file: {exc.__class__.__name__}")


def _ndjson(path: Path) -> Iterator[Item]:
    """One item per non-blank line, read one line at a time."""
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield Item(f"{path}:{number}", line)
    except (OSError, UnicodeDecodeError) as exc:
        yield _cannot_read(path, exc)


def items(paths: Iterable[str | Path]) -> Iterator[Item]:
    """Every bundle text in input order, named by file (and line for NDJSON)."""
    for given in paths:
        for path in _files(Path(given)):
            if path.suffix == ".ndjson":
                yield from _ndjson(path)
                continue
            try:
                yield Item(str(path), path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                yield _cannot_read(path, exc)


def invalid_resources(result: dict[str, Any]) -> list[str]:
    """The references of the resources left out of an assessment (or a cards line) for not
    being valid FHIR."""
    if "invalid_resources" in result:
        return list(result["invalid_resources"])
    return [str(p.get("ref")) for p in result.get("problems") or []
            if isinstance(p, dict) and str(p.get("problem", "")).startswith(INVALID_FHIR)]


def _parse(text: str, strict: bool) -> Any:
    """The JSON value of ``text``. orjson reads valid JSON in half the time; what it
    refuses (NaN, numbers beyond a float, lone surrogates, bad JSON) goes to the standard parser,
    so the values and the error messages are the ones it gives. ``strict`` (full validation
    follows) reads with the standard parser only: integers beyond 64 bits stay integers."""
    if not strict:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def replay_one(item: Item, *, as_of: date | None, strict: bool, maps: CodeMaps,
               cards: bool, html: Path | None = None) -> dict[str, Any]:
    """The assessment (or cards) of one bundle, or ``{"source", "error"}``."""
    if item.text.startswith("\0"):
        return {"source": item.source, "error": item.text[1:]}
    if not (strict or cards or html):  # the assessment alone: read the text into lean shapes
        lean = read_bundle_text(item.text, maps)
        if lean is not None:
            return assess_lean(lean, as_of=as_of, maps=maps)
    try:
        bundle = _parse(item.text, strict)
    except json.JSONDecodeError as exc:
        return {"source": item.source, "error": f"not JSON: {exc.msg} at line {exc.lineno} "
                                                f"column {exc.colno}"}
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        return {"source": item.source, "error": f"not a FHIR Bundle (found {kind!s:.40})"}
    if strict:
        from service.fhir.strict import InvalidFhir, validate_bundle

        try:
            validate_bundle(bundle)
        except InvalidFhir as exc:
            return {"source": item.source, "error": str(exc)}
    if html is not None:  # replay --html DIR: the relapse view of this bundle, for audits
        from service.view.files import write_page

        write_page(html, item.source, bundle, as_of=as_of, maps=maps)
    records: dict[str, Record] = {}
    assessment = assess_bundle(bundle, as_of=as_of, maps=maps, records=records if cards else None)
    if cards:
        from service.orders.respond import replay_order_cards
        from service.render import render_cards

        rendered = render_cards(assessment, f"replay:{item.source}",
                                str(assessment.get("patient") or "Patient"), records)
        # draft MedicationRequests (intent order/plan) get the order checks' cards too
        ordered = replay_order_cards(bundle, as_of=as_of, maps=maps,
                                     hook_instance=f"replay:{item.source}")
        line: dict[str, Any] = {"source": item.source, "patient": assessment.get("patient"),
                                "cards": [r.card for r in rendered] + ordered}
        invalid = invalid_resources(assessment)
        return {**line, "invalid_resources": invalid} if invalid else line
    return assessment


def replay_line(item: Item, options: Options, maps: CodeMaps) -> Line:
    """One bundle replayed into its output line; every line starts with its ``source`` (file,
    and line for NDJSON), so results join to inputs without counting lines."""
    with collector_paused():  # a record makes no cycles worth collecting (service.runtime)
        result = replay_one(item, as_of=options.as_of, strict=options.strict, maps=maps,
                            cards=options.cards, html=options.html)
    line = result if "source" in result else {"source": item.source, **result}
    return Line(item.source, json.dumps(line, ensure_ascii=False), "error" in result,
                tuple(invalid_resources(result)))


_worker: tuple[Options, CodeMaps] | None = None


def _start_worker(options: Options, maps: CodeMaps) -> None:
    global _worker
    _worker = options, maps
    tune_gc()


def _in_worker(item: Item) -> Line:
    assert _worker is not None, "_start_worker runs first in every worker"
    return replay_line(item, *_worker)


def replay(paths: Iterable[str | Path], options: Options, maps: CodeMaps,
           processes: int = 1) -> Iterator[Line]:
    """Every bundle of ``paths`` replayed, in input order, on ``processes`` worker processes
    (1: in this one); the inputs are read as the workers need them."""
    tune_gc()
    if processes <= 1:
        return (replay_line(item, options, maps) for item in items(paths))
    from service.ordered_pool import ordered_map

    return ordered_map(_in_worker, items(paths), processes=processes,
                       initializer=_start_worker, initargs=(options, maps))
