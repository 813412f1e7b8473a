"""The per-patient results in patient order: NDJSON (one ``{patient, sources, assessment}`` line
each) or Parquet (the same columns, the assessment as JSON text), by the name's extension.

Each bucket's results file is already in patient order, so the files are merged as streams
(a few rows of each in memory), never sorted as a whole.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from service.cohort.assess import RESULT_SCHEMA
from service.cohort.split import Layout

READ_ROWS = 64  # per bucket file at a time
WRITE_ROWS = 1000
OUTPUT_COLUMNS = ("patient", "sources", "assessment")


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_ROWS, columns=list(columns)):
        yield from zip(*(batch.column(c).to_pylist() for c in columns), strict=True)


def ordered(layout: Layout, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """The results' rows (``patient`` first, then ``columns``) in patient order, streamed."""
    files = sorted((Path(layout.work) / "results").glob("*.parquet"))
    wanted = ("patient", *columns)
    return heapq.merge(*(_rows(f, wanted) for f in files), key=lambda row: str(row[0]))


def write_parquet(layout: Layout, path: str) -> None:
    schema = pa.schema([RESULT_SCHEMA.field(c) for c in OUTPUT_COLUMNS])
    rows = ordered(layout, OUTPUT_COLUMNS[1:])
    with pq.ParquetWriter(path, schema) as writer:
        while batch := list(itertools.islice(rows, WRITE_ROWS)):
            writer.write_table(pa.Table.from_pylist(
                [dict(zip(OUTPUT_COLUMNS, row, strict=True)) for row in batch], schema))


def write_ndjson(layout: Layout, out: TextIO) -> None:
    for patient, sources, assessment in ordered(layout, OUTPUT_COLUMNS[1:]):
        out.write(f'{{"patient": {json.dumps(patient)}, "sources": '
                  f'{json.dumps(sources, ensure_ascii=False)}, "assessment": {assessment}}}\n')
