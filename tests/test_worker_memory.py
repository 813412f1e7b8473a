"""A worker after a call: nothing to do unless its peak memory rose well above its start; then
it gives memory back, and stops (to be replaced) only when that was not enough. Real workers
and a real 30,000-resource patient: tests/service/test_operate.py."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from service import worker_memory

MB = 1 << 20
START = 80 * MB + 123_457  # not a round number of MB: the log's figures are rounded
LIMIT = worker_memory.GROWTH_LIMIT_BYTES


class Process:
    """The memory a fake process reports; ``releases`` counts calls to release_memory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.peak = self.resident = START
        self.resident_after_release = START
        self.releases = 0
        monkeypatch.setattr(worker_memory, "peak_bytes", lambda: self.peak)
        monkeypatch.setattr(worker_memory, "resident_bytes", lambda: self.resident)
        monkeypatch.setattr(worker_memory, "release_memory", self._release)
        monkeypatch.setattr(worker_memory, "_workers", {})

    def _release(self) -> None:
        self.releases += 1
        self.resident = self.resident_after_release

    def grow(self, by: int, keeps: int) -> None:
        """A call that raised the peak ``by`` bytes and leaves ``keeps`` once released."""
        self.peak += by
        self.resident = START + by
        self.resident_after_release = START + keeps


@pytest.fixture
def process(monkeypatch: pytest.MonkeyPatch) -> Process:
    return Process(monkeypatch)


def served(process: Process) -> SimpleNamespace:
    worker = SimpleNamespace(alive=True)
    worker_memory.post_worker_init(worker)
    return worker


def test_a_call_that_stays_within_the_limit_costs_nothing(process: Process) -> None:
    worker = served(process)
    process.grow(LIMIT, keeps=LIMIT)  # exactly at the limit: not above it
    worker_memory.post_request(worker, None)
    assert worker.alive and process.releases == 0


def test_memory_given_back_keeps_the_worker(process: Process) -> None:
    worker = served(process)
    process.grow(LIMIT + MB, keeps=2 * MB)
    worker_memory.post_request(worker, None)
    assert worker.alive and process.releases == 1
    worker_memory.post_request(worker, None)  # the same peak again: nothing new to look at
    assert process.releases == 1


def test_a_worker_back_at_the_limit_after_giving_memory_back_stays(process: Process) -> None:
    worker = served(process)
    process.grow(50 * MB, keeps=LIMIT)
    worker_memory.post_request(worker, None)
    assert worker.alive and process.releases == 1


def test_the_limit_is_the_one_the_readme_states() -> None:
    assert LIMIT == 16 * MB
    assert "grew by more than 16 MB" in " ".join(
        (Path(__file__).parents[1] / "README.md").read_text().split())


def test_a_worker_that_cannot_give_memory_back_stops_and_says_so(
        process: Process, caplog: pytest.LogCaptureFixture) -> None:
    worker = served(process)
    process.grow(50 * MB, keeps=LIMIT + MB)
    with caplog.at_level(logging.INFO, logger=worker_memory.__name__):
        worker_memory.post_request(worker, None)
    assert not worker.alive and process.releases == 1
    (entry,) = caplog.records
    assert entry.resident_mb == round((START + LIMIT + MB) / MB, 1)  # type: ignore[attr-defined]
    assert entry.started_mb == 80.1  # type: ignore[attr-defined]


def test_a_worker_whose_start_is_unknown_is_left_alone(process: Process,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_memory, "resident_bytes", lambda: None)  # not Linux
    worker = served(process)
    process.grow(200 * MB, keeps=200 * MB)
    worker_memory.post_request(worker, None)
    assert worker.alive and process.releases == 0


def status_kib(field: str) -> int:
    """A figure of /proc/self/status, in KiB."""
    (line,) = [ln for ln in Path("/proc/self/status").read_text().splitlines()
               if ln.startswith(field + ":")]
    return int(line.split()[1])


def test_the_real_process_reports_its_current_and_peak_memory() -> None:
    resident = worker_memory.resident_bytes()
    assert resident is not None
    assert abs(resident - status_kib("VmRSS") * 1024) < 4 * MB
    assert abs(worker_memory.peak_bytes() - status_kib("VmHWM") * 1024) < 4 * MB


def test_giving_memory_back_collects_cycles_and_trims_the_heap() -> None:
    class Node:
        partner: object = None

    cycle = Node()
    cycle.partner = Node()
    cycle.partner.partner = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    # 60 MB in blocks glibc serves from its heap; every tenth stays, so the freed ones lie
    # between used ones and only a trim gives their pages back
    blocks = [bytes(2048) for _ in range(30_000)]
    kept = blocks[::10]
    del blocks, cycle
    before = worker_memory.resident_bytes()
    assert before is not None and alive() is not None
    worker_memory.release_memory()
    after = worker_memory.resident_bytes()
    assert alive() is None
    assert after is not None and after < before - 20 * MB, (before, after)
    assert len(kept) == 3000
