"""A cohort run: the export split by patient bucket, then each bucket assessed, on every core.

The local runner uses a process pool: this process reads the files (few chunks ahead, so memory
stays bounded) and the workers split them; then the workers assess one bucket each. The Dask
runner (``dask_run``) runs the same two functions as tasks on a cluster.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import fsspec
from tqdm import tqdm

from service.cohort.assess import BucketResult, Job, assess_bucket, code_maps
from service.cohort.export import ExportFile, chunks, find_files
from service.cohort.split import Layout, SplitResult, connect, split_chunk
from service.cohort.summary import Tally

BUCKET_BYTES = 48 * 1024 * 1024  # uncompressed export bytes per bucket, about
GZIP_RATIO = 8  # NDJSON of FHIR compresses about this much
MAX_BUCKETS = 512  # the output merges one open file per bucket

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...]
    as_of: date
    mappings: tuple[str, ...]
    since: str | None = None
    workers: int | None = None  # local processes; default: every core
    dask: str | None = None  # a Dask scheduler address
    work: str | None = None  # where intermediate files go (shared by the workers)
    progress: bool = False


@dataclass
class Outcome:
    files: list[ExportFile]
    export_problems: list[str]
    split: SplitResult = field(default_factory=SplitResult)
    patients: int = 0
    tally: Tally = field(default_factory=Tally)

    def add(self, bucket: BucketResult) -> None:
        self.patients += bucket.patients
        self.tally.add(bucket.tally)


def _size(file: ExportFile) -> int:
    fs, path = fsspec.core.url_to_fs(file.url)
    size = int(fs.size(path) or 0)
    return size * GZIP_RATIO if file.url.endswith(".gz") else size


def bucket_count(files: list[ExportFile], workers: int) -> int:
    """Enough buckets for every worker to have several, and none too large to sort."""
    by_size = math.ceil(sum(_size(f) for f in files) / BUCKET_BYTES)
    return min(MAX_BUCKETS, max(4 * workers, by_size))


def bounded(pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T],
            ahead: int) -> Iterator[R]:
    """``fn`` over ``items`` in the pool, at most ``ahead`` items submitted and not done."""
    pending: set[Future[R]] = set()
    for item in items:
        pending.add(pool.submit(fn, item))
        if len(pending) >= ahead:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
    yield from (f.result() for f in as_completed(pending))


def _start_worker(mappings: tuple[str, ...]) -> None:
    from service.runtime import tune_gc

    code_maps(mappings)
    tune_gc()


def _run_local(options: Options, outcome: Outcome, layout: Layout, job: Job, workers: int) -> None:
    from functools import partial

    all_chunks = (c for f in outcome.files for c in chunks(f))
    with ProcessPoolExecutor(workers, initializer=_start_worker,
                             initargs=(options.mappings,)) as pool:
        reading = tqdm(disable=not options.progress, unit="chunk", desc="reading", file=sys.stderr)
        for result in bounded(pool, partial(split_chunk, layout=layout), all_chunks, 2 * workers):
            outcome.split.add(result)
            reading.update(1)
        reading.close()
        patients = tqdm(total=count_patients(layout) if options.progress else None,
                        disable=not options.progress,
                        unit="patient", desc="assessing", file=sys.stderr)
        futures = [pool.submit(assess_bucket, b, job) for b in range(layout.buckets)]
        for future in as_completed(futures):
            bucket = future.result()
            outcome.add(bucket)
            patients.update(bucket.patients)
        patients.close()


def count_patients(layout: Layout) -> int:
    resources = Path(layout.work) / "resources"
    if not resources.is_dir():
        return 0
    con = connect(layout)
    try:
        found = con.execute("SELECT count(DISTINCT patient) FROM read_parquet($1)",
                            [f"{resources}/*/*.parquet"]).fetchone()
    finally:
        con.close()
    return int(found[0]) if found else 0


def run(options: Options) -> tuple[Outcome, str]:
    """Split and assess the export; the outcome, and the work folder holding the results (the
    caller writes the output from it, then removes it with ``clean``)."""
    files, problems = find_files(options.paths)
    outcome = Outcome(files=files, export_problems=problems)
    work = tempfile.mkdtemp(prefix="cohort-", dir=options.work)
    for part in ("resources", "shared", "results", "spill"):
        os.makedirs(f"{work}/{part}", exist_ok=True)
    if options.dask:
        from service.cohort.dask_run import run_dask

        run_dask(options, outcome, work)
        return outcome, work
    workers = options.workers or os.cpu_count() or 1
    layout = Layout(work, bucket_count(files, workers))
    job = Job(layout, tuple(f.name for f in files), options.as_of, options.mappings, options.since)
    _run_local(options, outcome, layout, job, workers)
    return outcome, work


def clean(work: str) -> None:
    shutil.rmtree(work, ignore_errors=True)
