"""``python -m bench.cohort``: the cohort command on generated Bulk exports, against a floor.

For each size (patients of about ``--size`` resources, ``bench.bulk_export``): the floor is
``json.loads`` of every line of the export on one core (CPU time); the cohort run is the
command as a user runs it (``--workers``, default 2), timed by wall clock and by the CPU time of
its process tree, with the peak memory of the whole tree sampled from /proc. A sample of
patients is checked against the pipeline on their equivalent Bundles (what ``replay`` does).
Exports are generated once into ``--cache``. A report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.bulk_export import bench_record, bench_records, export_order, write_export
from bench.patients import AS_OF
from bench.report import save
from service.pipeline import assess_bundle

SAMPLE = 50  # patients checked against the pipeline on their Bundle


def _export(cache: Path, patients: int, size: int) -> Path:
    folder = cache / f"export-{patients}x{size}"
    if not (folder / "manifest.json").exists():
        print(f"generating {patients} patients...", file=sys.stderr)
        write_export(bench_records(patients, size), folder)
    return folder


def floor_seconds(export: Path) -> tuple[float, int, int]:
    """CPU seconds of json.loads over every line (one core), lines, bytes."""
    count = size = 0
    spent = 0.0
    for path in sorted(export.glob("*.ndjson")):
        with path.open("rb") as handle:
            while block := handle.readlines(64 * 1024 * 1024):
                begin = time.process_time()
                for line in block:
                    json.loads(line)
                spent += time.process_time() - begin
                count += len(block)
                size += sum(len(b) for b in block)
    return spent, count, size


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS")) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_cohort(export: Path, out: Path, workers: int) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "service", "cohort", str(export), "--date",
                                AS_OF.isoformat(), "--workers", str(workers), "--out", str(out)],
                               stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    wall = time.monotonic() - began
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"cohort failed: {errors[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": peak[0] // 2**20}


def check_sample(out: Path, patients: int, size: int) -> int:
    """Patients whose cohort line differs from the pipeline on their equivalent Bundle."""
    step = max(1, patients // SAMPLE)
    wanted = {f"Patient/b{n:07d}-x": n for n in range(0, patients, step)}
    differ = 0
    with out.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            n = wanted.get(row["patient"])
            if n is None:
                continue
            bundle = {"resourceType": "Bundle", "type": "collection",
                      "entry": [{"resource": r} for r in export_order(bench_record(n, size))]}
            differ += assess_bundle(bundle, as_of=AS_OF) != row["assessment"]
    return differ


def measure(cache: Path, patients: int, size: int, workers: int) -> dict[str, Any]:
    export = _export(cache, patients, size)
    floor_cpu, lines, size_bytes = floor_seconds(export)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cohort.ndjson"
        run = run_cohort(export, out, workers)
        differ = check_sample(out, patients, size)
    floor_rate = lines / floor_cpu
    return {"patients": patients, "resources": lines, "bytes": size_bytes,
            "floor_cpu_s": round(floor_cpu, 2), **run, "workers": workers,
            "resources_per_s_wall": round(lines / run["wall_s"]),
            "ratio_wall": round(lines / run["wall_s"] / floor_rate, 3),
            # the CPU the run used, spread over its workers: the rate on dedicated cores
            "ratio_cpu_on_workers": round(floor_cpu / (run["cpu_s"] / workers), 3),
            "cpu_us_per_resource": round(run["cpu_s"] / lines * 1e6, 1),
            "sample_checked": len(range(0, patients, max(1, patients // SAMPLE))),
            "sample_differing_from_pipeline": differ}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cohort", description=__doc__)
    parser.add_argument("--patients", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--size", type=int, default=300, help="resources per patient, about")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench-cohort")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"when": time.strftime("%Y%m%dT%H%M%S"), "as_of": AS_OF.isoformat(),
                               "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                               "cohort": []}
    for patients in args.patients:
        found = measure(args.cache, patients, args.size, args.workers)
        results["cohort"].append(found)
        print(json.dumps(found), file=sys.stderr)
    results["cpu_us_per_resource_by_size"] = {r["patients"]: r["cpu_us_per_resource"]
                                              for r in results["cohort"]}
    path = save(results, f"cohort-{results['when']}")
    print(json.dumps(results, indent=2))
    print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
