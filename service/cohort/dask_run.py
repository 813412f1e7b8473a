"""The same run on a Dask cluster: one task per export file (the worker reads it, from a shared
path or a URL fsspec opens), then one task per patient bucket. The work folder must be one
every worker and this process reach (``--work`` on a shared file system)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from service.cohort.assess import Job, assess_bucket
from service.cohort.export import ExportFile, chunks
from service.cohort.split import Layout, SplitResult, split_chunk

if TYPE_CHECKING:
    from service.cohort.run import Options, Outcome


def split_file(file: ExportFile, layout: Layout) -> SplitResult:
    """Split one whole file, read where the worker runs."""
    result = SplitResult()
    for chunk in chunks(file):
        result.add(split_chunk(chunk, layout))
    return result


def run_dask(options: Options, outcome: Outcome, work: str) -> None:
    from distributed import Client, as_completed

    from service.cohort.run import bucket_count, count_patients

    with Client(options.dask) as client:  # type: ignore[no-untyped-call]
        workers = sum(client.nthreads().values()) or 1
        layout = Layout(work, bucket_count(outcome.files, workers))
        job = Job(layout, tuple(f.name for f in outcome.files), options.as_of, options.mappings,
                  options.since)
        splits = client.map(split_file, outcome.files, layout=layout, pure=False)
        done = as_completed(splits)  # type: ignore[no-untyped-call]
        for future in tqdm(done, total=len(splits), disable=not options.progress, unit="file",
                           desc="reading", file=sys.stderr):
            outcome.split.add(future.result())
        buckets = client.map(assess_bucket, range(layout.buckets), job=job, pure=False)
        patients = tqdm(total=count_patients(layout) if options.progress else None,
                        disable=not options.progress,
                        unit="patient", desc="assessing", file=sys.stderr)
        for future in as_completed(buckets):  # type: ignore[no-untyped-call]
            bucket = future.result()
            outcome.add(bucket)
            patients.update(bucket.patients)
        patients.close()
