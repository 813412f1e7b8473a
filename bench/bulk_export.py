"""Synthetic FHIR Bulk Data exports (``$export`` output) for the cohort tests and bench.

Patients' records (lists of resources, one patient each) become one NDJSON file per resource
type, every patient mixed together, with a manifest, as a server's export would leave them.
Every resource id is prefixed with a per-patient tag (and references rewritten) so that copies
of the same record are distinct patients. Medication resources carry no patient: they land in
``Medication.ndjson`` and are found by reference, as in a real export. ``bundles`` gives the
equivalent per-patient Bundles (``export_order``), for comparing with ``replay``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from bench.patients import patient_record

REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([^/]+)(?:/_history/[^/]+)?$")
MANIFEST = "manifest.json"


def _rename(value: Any, tag: str, by_url: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _rename(v, tag, by_url) for k, v in value.items()}
        ref = value.get("reference")
        if isinstance(ref, str):
            found = REFERENCE.search(by_url.get(ref, ref))
            if found:
                out["reference"] = f"{found[1]}/{tag}{found[2]}"
        return out
    if isinstance(value, list):
        return [_rename(v, tag, by_url) for v in value]
    return value


def tagged(resources: list[dict[str, Any]], tag: str,
           full_urls: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The record with every id and reference prefixed by ``tag`` (``full_urls``: a Bundle's
    ``fullUrl`` → ``Type/id``, for ``urn:uuid:`` references)."""
    renamed = [_rename(r, tag, full_urls or {}) for r in resources]
    for res in renamed:
        res["id"] = f"{tag}{res.get('id', '')}"
    return renamed


def fixture_records(bundles: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The fixtures' bundles as records, each tagged ``f<n>-`` so their ids never collide."""
    for number, bundle in enumerate(bundles):
        entries = [e for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
        urls = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource'].get('id')}"
                for e in entries if isinstance(e.get("fullUrl"), str)}
        yield tagged([e["resource"] for e in entries], f"f{number}-", urls)


def _with_shared_medications(record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medication statements coded inline become references to one Medication per code,
    shared by every patient (``Medication/rx-<code>``)."""
    out = []
    medications: dict[str, dict[str, Any]] = {}
    for res in record:
        concept = res.get("medicationCodeableConcept")
        if res.get("resourceType") == "MedicationStatement" and concept:
            code = concept["coding"][0]["code"]
            res = {k: v for k, v in res.items() if k != "medicationCodeableConcept"}
            res["medicationReference"] = {"reference": f"Medication/rx-{code}"}
            medications[code] = {"resourceType": "Medication", "id": f"rx-{code}", "code": concept}
        out.append(res)
    return out + list(medications.values())


def bench_record(n: int, size: int = 300) -> list[dict[str, Any]]:
    """Bench patient ``n`` (``bench.patients``, about ``size`` resources), whose medications are
    shared Medication resources."""
    return _with_shared_medications(tagged(patient_record(size, seed=n % 17, pid="x"),
                                           f"b{n:07d}-"))


def bench_records(patients: int, size: int = 300) -> Iterator[list[dict[str, Any]]]:
    return (bench_record(n, size) for n in range(patients))


def _open(path: Path, compress: bool) -> IO[str]:
    return gzip.open(path, "wt", encoding="utf-8") if compress else path.open("w", encoding="utf-8")


def export_order(record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record as a cohort run reads it back from the export: by file (resource type), in
    line order, then the shared Medications by id. The engine lists evidence in input order, so
    this is the Bundle whose replay a cohort run must equal."""
    own = sorted((r for r in record if r["resourceType"] != "Medication"),
                 key=lambda r: str(r["resourceType"]))
    return own + sorted((r for r in record if r["resourceType"] == "Medication"),
                        key=lambda r: str(r["id"]))


def write_export(records: Iterable[list[dict[str, Any]]], folder: Path, *, compress: bool = False,
                 bundles: Path | None = None) -> dict[str, int]:
    """Write the export (and, with ``bundles``, one Bundle per patient as NDJSON); the number of
    lines written per resource type."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if compress else ".ndjson"
    counts: dict[str, int] = {}
    shared_written: set[str] = set()
    with ExitStack() as stack:
        files: dict[str, IO[str]] = {}
        out_bundles = stack.enter_context(bundles.open("w", encoding="utf-8")) if bundles else None
        for record in records:
            for res in record:
                kind = res["resourceType"]
                key = f"{kind}/{res['id']}"
                if kind == "Medication":
                    if key in shared_written:
                        continue
                    shared_written.add(key)
                if kind not in files:
                    path = folder / f"{kind}{suffix}"
                    files[kind] = stack.enter_context(_open(path, compress))
                files[kind].write(json.dumps(res, separators=(",", ":")) + "\n")
                counts[kind] = counts.get(kind, 0) + 1
            if out_bundles:
                entries = [{"resource": r} for r in export_order(record)]
                out_bundles.write(json.dumps({"resourceType": "Bundle", "type": "collection",
                                              "entry": entries}, separators=(",", ":")) + "\n")
    manifest = {"transactionTime": "2025-01-15T12:00:00Z",
                "request": "https://bulk.example.org/fhir/$export", "requiresAccessToken": True,
                "output": [{"type": kind, "url": f"https://bulk.example.org/files/{kind}{suffix}",
                            "count": n} for kind, n in sorted(counts.items())],
                "error": []}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts
