"""One bucket of patients: streamed out of DuckDB in patient order, each through the pipeline.

A patient's Bundle is their resources in file and line order, followed by the shared
Medications they refer to: what ``replay`` of that Bundle gives is what this gives. Results go
to ``<work>/results/<bucket>.parquet`` (patient, sources, assessment as JSON text), written in
batches, so neither a bucket's resources nor its assessments are ever all in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from service.cohort.split import Layout, connect
from service.cohort.summary import Tally, groups, tally
from service.mapping import CodeMaps, load_code_maps
from service.pipeline import assess_bundle

BATCH_ROWS = 5_000
RESULT_SCHEMA = pa.schema([("patient", pa.string()), ("sources", pa.list_(pa.string())),
                           ("groups", pa.string()), ("assessment", pa.string())])


@dataclass(frozen=True)
class Job:
    layout: Layout
    files: tuple[str, ...]  # file names by index, for ``sources``
    as_of: date
    mappings: tuple[str, ...]  # the code-map folders (each worker loads them once)
    since: str | None = None  # only patients with a resource updated at or after this instant


@dataclass
class BucketResult:
    patients: int = 0
    tally: Tally = field(default_factory=Tally)


@lru_cache(maxsize=4)
def code_maps(folders: tuple[str, ...]) -> CodeMaps:
    return load_code_maps(folders)


def _glob(layout: Layout, part: str) -> str | None:
    folder = Path(layout.work) / part
    return str(folder / "*.parquet") if folder.is_dir() and any(folder.iterdir()) else None


def _rows(con: duckdb.DuckDBPyConnection, source: str, since: str | None) -> Iterator[tuple[Any, ...]]:
    where = ""
    params: list[Any] = [source]
    if since is not None:  # a patient with any resource updated since (or undated) is assessed
        where = ("WHERE patient IN (SELECT patient FROM read_parquet($1) GROUP BY patient HAVING "
                 "bool_or(try_cast(updated AS TIMESTAMPTZ) IS NULL "
                 "OR try_cast(updated AS TIMESTAMPTZ) >= $2::TIMESTAMPTZ))")
        params.append(since)
    cursor = con.execute(f"SELECT patient, file, text, medref FROM read_parquet($1) {where} "
                         "ORDER BY patient, file, line_no", params)
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield from batch


def _patients(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    current: str | None = None
    group: list[tuple[Any, ...]] = []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield current, group
            current, group = row[0], []
        group.append(row)
    if current is not None:
        yield current, group


def _medications(con: duckdb.DuckDBPyConnection, layout: Layout,
                 source: str) -> dict[str, tuple[int, str]]:
    """The shared Medications the bucket refers to: key → (file, text); the first by file and
    text when an export repeats one."""
    shared = _glob(layout, "shared")
    if shared is None:
        return {}
    found = con.execute(
        "SELECT key, arg_min(file, text), min(text) FROM read_parquet($1) WHERE key IN "
        "(SELECT DISTINCT medref FROM read_parquet($2) WHERE medref IS NOT NULL) GROUP BY key",
        [shared, source]).fetchall()
    return {key: (file, text) for key, file, text in found}


def assess_one(patient: str, rows: Sequence[tuple[Any, ...]], medications: dict[str, tuple[int, str]],
               job: Job) -> tuple[list[str], dict[str, Any]]:
    """The patient's source files and assessment."""
    files = {row[1] for row in rows}
    resources = [json.loads(row[2]) for row in rows if row[2] is not None]
    for key in sorted({row[3] for row in rows if row[3] in medications}):
        file, text = medications[key]
        files.add(file)
        resources.append(json.loads(text))
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    assessment = assess_bundle(bundle, as_of=job.as_of, maps=code_maps(job.mappings))
    return [job.files[f] for f in sorted(files)], assessment


def assess_bucket(bucket: int, job: Job) -> BucketResult:
    """Assess every patient of the bucket; their results go to the bucket's results file."""
    result = BucketResult()
    source = _glob(job.layout, f"resources/bucket={bucket}")
    if source is None:
        return result
    con = connect(job.layout)
    out = Path(job.layout.work) / "results" / f"{bucket}.parquet"
    try:
        medications = _medications(con, job.layout, source)
        with pq.ParquetWriter(str(out), RESULT_SCHEMA) as writer:
            batch: list[dict[str, Any]] = []
            for patient, rows in _patients(_rows(con, source, job.since)):
                sources, assessment = assess_one(patient, rows, medications, job)
                result.patients += 1
                result.tally.add(tally(assessment))
                batch.append({"patient": patient, "sources": sources,
                              "groups": json.dumps(groups(assessment), sort_keys=True),
                              "assessment": json.dumps(assessment, ensure_ascii=False)})
                if len(batch) >= 500:
                    writer.write_table(pa.Table.from_pylist(batch, RESULT_SCHEMA))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, RESULT_SCHEMA))
    finally:
        con.close()
    return result
