"""The per-patient results in patient order: NDJSON (one ``{patient, sources, assessment}`` line
each) or Parquet (the same columns, the assessment as JSON text), by the name's extension."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

from service.cohort.split import Layout, connect

BATCH_ROWS = 1000


def _results(layout: Layout) -> str:
    return f"{layout.work}/results/*.parquet"


def ordered(layout: Layout, columns: str) -> Iterator[tuple[str, ...]]:
    """The results' rows in patient order, streamed."""
    con = connect(layout)
    try:
        cursor = con.execute(f"SELECT {columns} FROM read_parquet($1) ORDER BY patient",
                             [_results(layout)])
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield from batch
    finally:
        con.close()


def write_parquet(layout: Layout, path: str) -> None:
    con = connect(layout)
    try:
        escaped = path.replace("'", "''")
        con.execute(f"COPY (SELECT patient, sources, assessment FROM read_parquet($1) "
                    f"ORDER BY patient) TO '{escaped}' (FORMAT parquet)", [_results(layout)])
    finally:
        con.close()


def write_ndjson(layout: Layout, out: TextIO) -> None:
    for patient, sources, assessment in ordered(layout, "patient, sources, assessment"):
        out.write(f'{{"patient": {json.dumps(patient)}, "sources": '
                  f'{json.dumps(sources, ensure_ascii=False)}, "assessment": {assessment}}}\n')
