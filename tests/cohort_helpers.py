"""Shared by the cohort tests: Bulk exports made from the fixtures or the bench generator, and
the command run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.bulk_export import bench_records, fixture_records, write_export

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AS_OF = "2030-01-01"


def fixtures_export(folder: Path, compress: bool = True) -> Path:
    """The fixtures as one Bulk export (``folder/export``) and their equivalent Bundles
    (``folder/bundles.ndjson``)."""
    bundles = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(FIXTURES.glob("*/bundle.json"))]
    write_export(fixture_records(bundles), folder / "export", compress=compress,
                 bundles=folder / "bundles.ndjson")
    return folder / "export"


def generated_export(folder: Path, patients: int, size: int = 60) -> Path:
    write_export(bench_records(patients, size), folder / "export",
                 bundles=folder / "bundles.ndjson")
    return folder / "export"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True,
                          text=True, timeout=300)


def cohort(*args: str) -> subprocess.CompletedProcess[str]:
    return run("cohort", "--date", AS_OF, "--workers", "2", *args)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def by_patient(output: str) -> dict[str, dict[str, Any]]:
    return {line["patient"]: line["assessment"] for line in lines(output)}


def replayed(bundles: Path) -> dict[str, dict[str, Any]]:
    done = run("replay", "--date", AS_OF, str(bundles))
    assert done.returncode == 0, done.stderr
    # a replay line is the assessment headed by its input's ``source`` (file:line)
    return {line["patient"]: {k: v for k, v in line.items() if k != "source"}
            for line in lines(done.stdout)}
