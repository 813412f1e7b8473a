"""``cohort --dask``: the same job on a Dask cluster (a LocalCluster of two worker processes)
gives the same per-patient results as the local run, on the fixtures split into a Bulk export
and on a generated one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cohort_helpers import cohort, fixtures_export, generated_export
from distributed import LocalCluster


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # type: ignore[no-untyped-call]
        yield str(cluster.scheduler_address)


@pytest.mark.parametrize("make", [fixtures_export,
                                  lambda folder: generated_export(folder, patients=80)],
                         ids=["fixtures", "generated"])
def test_dask_run_equals_local_run(scheduler: str, make: object, tmp_path: Path) -> None:
    export = make(tmp_path)  # type: ignore[operator]
    local = cohort(str(export), "--out", str(tmp_path / "local.ndjson"))
    remote = cohort(str(export), "--out", str(tmp_path / "dask.ndjson"), "--dask", scheduler,
                    "--work", str(tmp_path))
    assert local.returncode == remote.returncode == 0, remote.stderr
    mine = (tmp_path / "local.ndjson").read_text(encoding="utf-8")
    assert mine.count("\n") >= 50
    assert (tmp_path / "dask.ndjson").read_text(encoding="utf-8") == mine
    assert (tmp_path / "dask.report.json").read_text(encoding="utf-8") == (
        tmp_path / "local.report.json").read_text(encoding="utf-8")
