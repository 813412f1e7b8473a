"""One chunk of an export's lines → Parquet rows by patient bucket (DuckDB reads the JSON).

Each line's resource type, id, patient (``subject``, ``patient``, or the Patient itself), the
Medication it refers to and ``meta.lastUpdated`` are read by DuckDB; the line goes to
``<work>/resources/bucket=<hash(patient) mod buckets>/``. A line the engine cannot use (not
UTF-8, not JSON, no or an unknown resource type, patient-bound with no patient) is counted with
its file and line. Shared resources (no patient: Medication, Practitioner, Organization, …) are
not problems; Medications are kept in ``<work>/shared/`` to be found by reference. The text of
types the engine does not read is not kept, only that the patient has them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import duckdb
import pyarrow as pa

from service.cohort.export import NOT_UTF8, Chunk
from service.fhir.lean import RESOURCE_TYPES

SHARED_TYPES = frozenset(("Medication", "Practitioner", "PractitionerRole", "Organization",
                          "Location", "Substance", "Device", "HealthcareService", "Endpoint",
                          "Group"))
MEMORY_LIMIT = "160MB"  # per task's DuckDB; beyond it, sorts spill to disk
EXAMPLES_PER_PROBLEM = 20  # lines named per problem and chunk; all are counted

# Each line is parsed once (TRY: NULL when not JSON); the text is held once, in ``lines``.
CLASSIFY = """
CREATE TEMP TABLE lines AS
SELECT line_no, text, v IS NOT NULL AS ok, v[1] AS type, v[2] AS id,
       nullif(regexp_extract(coalesce(v[3], v[4], ''),
                             '(?:^|/)Patient/([^/]+?)(?:/_history/[^/]*)?$', 1), '') AS subject,
       nullif(regexp_extract(coalesce(v[5], ''),
                             '(?:^|/)(Medication/[^/]+?)(?:/_history/[^/]*)?$', 1), '') AS medref,
       v[6] AS updated
FROM (SELECT line_no, text, TRY(json_extract_string(text, ['$.resourceType', '$.id',
          '$.subject.reference', '$.patient.reference', '$.medicationReference.reference',
          '$.meta.lastUpdated'])) AS v
      FROM chunk WHERE trim(text) <> '')
"""
KIND = """
CREATE TEMP VIEW rows AS
SELECT *, CASE
    WHEN text = {not_utf8} THEN 'not UTF-8'
    WHEN NOT ok THEN 'not JSON'
    WHEN type IS NULL THEN 'not a FHIR resource (no resourceType)'
    WHEN type NOT IN (SELECT type FROM known) THEN 'unknown resourceType ' || left(type, 40)
    WHEN type = 'Patient' AND id IS NOT NULL THEN 'patient'
    WHEN subject IS NOT NULL AND type <> 'Patient' THEN 'patient'
    WHEN type IN (SELECT type FROM shared) THEN 'shared'
    ELSE 'no patient reference' END AS kind,
  CASE WHEN type = 'Patient' THEN 'Patient/' || id ELSE 'Patient/' || subject END AS patient
FROM lines
"""


@dataclass(frozen=True)
class Layout:
    """Where a run's intermediate files go (a folder every worker reaches) and how many buckets
    the patients are spread over."""

    work: str
    buckets: int


@dataclass
class SplitResult:
    by_type: Counter[str] = field(default_factory=Counter)  # resources read, per type
    problems: Counter[tuple[int, str]] = field(default_factory=Counter)  # (file, problem)
    examples: list[tuple[int, int, str]] = field(default_factory=list)  # (file, line, problem)

    def add(self, other: SplitResult) -> None:
        self.by_type.update(other.by_type)
        self.problems.update(other.problems)
        self.examples += other.examples


@lru_cache(maxsize=1024)
def is_resource_type(name: str) -> bool:
    """A resource type FHIR defines (the fhir.resources R4B models), not a data type."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.resource import Resource

    try:
        return issubclass(get_fhir_model_class(name), Resource)
    except (KeyError, ValueError):
        return False


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def connect(layout: Layout, threads: int = 1) -> duckdb.DuckDBPyConnection:
    """A connection for one task: one thread (the pool or cluster gives the parallelism), a
    bounded memory that spills to the work folder."""
    return duckdb.connect(config={"threads": threads, "memory_limit": MEMORY_LIMIT,
                                  "temp_directory": f"{layout.work}/spill",
                                  "preserve_insertion_order": False})


def split_chunk(chunk: Chunk, layout: Layout) -> SplitResult:
    """Classify the chunk's lines and write its patients' resources to their buckets."""
    lines = chunk.text.split("\n")
    table = pa.table({"line_no": pa.array(range(chunk.first_line, chunk.first_line + len(lines)),
                                          pa.int64()),
                      "text": pa.array(lines, pa.string())})
    con = connect(layout)
    try:
        con.register("chunk", table)
        con.execute(CLASSIFY)
        types = [t for (t,) in con.execute("SELECT DISTINCT type FROM lines "
                                           "WHERE type IS NOT NULL").fetchall()]
        con.execute("CREATE TEMP TABLE known AS SELECT unnest($1::VARCHAR[]) AS type",
                    [[t for t in types if is_resource_type(t)]])
        con.execute("CREATE TEMP TABLE shared AS SELECT unnest($1::VARCHAR[]) AS type",
                    [sorted(SHARED_TYPES)])
        con.execute(KIND.format(not_utf8=_sql_text(NOT_UTF8)))
        return _write(con, chunk, layout)
    finally:
        con.close()


def _write(con: duckdb.DuckDBPyConnection, chunk: Chunk, layout: Layout) -> SplitResult:
    name = f"f{chunk.file}_l{chunk.first_line}"
    con.execute("CREATE TEMP TABLE used AS SELECT unnest($1::VARCHAR[]) AS type",
                [sorted(RESOURCE_TYPES)])
    con.execute(f"""
        COPY (SELECT hash(patient) % {int(layout.buckets)} AS bucket, patient,
                     {int(chunk.file)} AS file, line_no, type,
                     CASE WHEN type IN (SELECT type FROM used) THEN text END AS text,
                     medref, updated
              FROM rows WHERE kind = 'patient')
        TO {_sql_text(layout.work + '/resources')}
        (FORMAT parquet, PARTITION_BY (bucket), FILENAME_PATTERN '{name}_{{i}}',
         OVERWRITE_OR_IGNORE true)""")
    medications = con.execute("SELECT count(*) FROM rows WHERE kind = 'shared' "
                              "AND type = 'Medication' AND id IS NOT NULL").fetchone()
    if medications and medications[0]:
        con.execute(f"""
            COPY (SELECT 'Medication/' || id AS key, {int(chunk.file)} AS file, text
                  FROM rows WHERE kind = 'shared' AND type = 'Medication' AND id IS NOT NULL)
            TO {_sql_text(f'{layout.work}/shared/{name}.parquet')} (FORMAT parquet)""")
    result = SplitResult()
    for kind, type_, count in con.execute(
            "SELECT kind, type, count(*) FROM rows GROUP BY ALL").fetchall():
        if kind in ("patient", "shared"):
            result.by_type[type_] += count
        else:
            result.problems[(chunk.file, kind)] += count
    result.examples = [(chunk.file, line, kind) for kind, line in con.execute(
        "SELECT kind, line_no FROM rows WHERE kind NOT IN ('patient', 'shared') "
        "QUALIFY row_number() OVER (PARTITION BY kind ORDER BY line_no) <= $1 "
        "ORDER BY line_no", [EXAMPLES_PER_PROBLEM]).fetchall()]
    return result
