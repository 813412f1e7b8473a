"""``--compare``: the patients whose group under any scheme differs from another run's output
(e.g. before a code-map or rule change), both sides streamed in patient order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from service.cohort.output import ordered
from service.cohort.split import Layout, connect
from service.cohort.summary import groups


def _other(layout: Layout, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    reader = ("read_parquet($1)" if path.endswith(".parquet") else
              "read_json($1, format = 'newline_delimited', "
              "columns = {patient: 'VARCHAR', assessment: 'JSON'})")
    con = connect(layout)
    try:
        cursor = con.execute(f"SELECT patient, assessment FROM {reader} ORDER BY patient", [path])
        while batch := cursor.fetchmany(1000):
            for patient, assessment in batch:
                yield patient, groups(json.loads(assessment))
    finally:
        con.close()


def changes(layout: Layout, other_path: str) -> list[dict[str, Any]]:
    """``{patient, before, after}`` for every patient whose groups changed (``before`` or
    ``after`` null when the patient is in one output only), in patient order."""
    found: list[dict[str, Any]] = []
    mine = ((p, json.loads(g)) for p, g in ordered(layout, ("groups",)))
    theirs = _other(layout, other_path)
    a, b = next(mine, None), next(theirs, None)
    while a is not None or b is not None:
        if a is not None and (b is None or a[0] < b[0]):
            found.append({"patient": a[0], "before": None, "after": a[1]})
            a = next(mine, None)
        elif b is not None and (a is None or b[0] < a[0]):
            found.append({"patient": b[0], "before": b[1], "after": None})
            b = next(theirs, None)
        elif a is not None and b is not None:
            if a[1] != b[1]:
                found.append({"patient": a[0], "before": b[1], "after": a[1]})
            a, b = next(mine, None), next(theirs, None)
    return found
