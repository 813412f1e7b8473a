"""Cohorts from FHIR Bulk Data exports: one assessment per patient, and a cohort report.

The flow (``run.py``): ``export`` finds the NDJSON files and reads them in chunks of lines;
``split`` (DuckDB) reads each chunk's resource type and patient and writes it, by patient
bucket, to Parquet in a work folder; ``assess`` streams one bucket's patients out of DuckDB in
patient order and runs each through the same pipeline as ``replay``; ``output`` writes the
assessments in patient order and ``report``/``html`` the cohort counts. Both steps run on a
local process pool or, with ``dask_run``, as tasks on a Dask cluster.
Needs the ``cohort`` extra (DuckDB, Dask distributed, pyarrow).
"""
