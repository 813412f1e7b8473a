"""Process tuning: the cyclic collector is paused while one call or record is worked on, and
is on again afterwards, whatever happened in between."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from service.app import create_app
from service.hooks.discovery import SERVICE_ID
from service.hooks.example_request import hook_request
from service.mapping import default_code_maps
from service.replay import Item, Options, replay_line
from service.runtime import collector_paused, cores
from service.settings import Settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "boundary-bm-17mo" / "bundle.json"
BUNDLE = Path(__file__).parent / "service" / "data" / "relapse_bundle.json"


def test_the_collector_is_paused_in_the_block_and_on_again_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_failure() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("the record could not be read")
    assert gc.isenabled()


def test_a_collector_the_caller_had_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def collector_states(monkeypatch: pytest.MonkeyPatch, module: ModuleType,
                     name: str) -> list[bool]:
    """Whether the collector was on, at each call of ``module.name`` from now on."""
    seen: list[bool] = []
    real = getattr(module, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)
    return seen


def test_a_replayed_record_is_worked_on_with_the_collector_paused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import service.replay as replay

    read = collector_states(monkeypatch, replay, "read_bundle_text")
    assessed = collector_states(monkeypatch, replay, "assess_lean")
    line = replay_line(Item("fixture", FIXTURE.read_text()), Options(), default_code_maps())
    assert read == assessed == [False] and gc.isenabled()
    assert json.loads(line.text)["source"] == "fixture"
    cards = collector_states(monkeypatch, replay, "assess_bundle")  # the general reading
    replay_line(Item("fixture", FIXTURE.read_text()), Options(cards=True), default_code_maps())
    assert cards == [False] and gc.isenabled()


def test_a_hook_call_is_worked_on_with_the_collector_paused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import service.pipeline as pipeline

    lean = collector_states(monkeypatch, pipeline, "assess_lean")
    general = collector_states(monkeypatch, pipeline, "assess_resources")
    app = create_app(Settings(auth_enabled=False,
                              database_url=f"sqlite:///{tmp_path}/feedback.sqlite3"))
    call = hook_request(json.loads(BUNDLE.read_text()))
    response = app.test_client().post(f"/cds-services/{SERVICE_ID}", json=call)
    assert response.status_code == 200 and response.get_json()["cards"]
    call["prefetch"]["patient"]["birthDate"] = 20120502  # the lean reading steps aside
    response = app.test_client().post(f"/cds-services/{SERVICE_ID}", json=call)
    assert response.status_code == 200 and response.get_json()["cards"]
    assert lean == general == [False] and gc.isenabled()
    refused = app.test_client().post(f"/cds-services/{SERVICE_ID}", json={"hook": 1})
    assert refused.status_code == 400 and gc.isenabled()  # on again after a refused call


def test_tuning_moves_start_up_objects_out_of_view_and_collects_young_ones_less_often() -> None:
    """In a fresh interpreter (freezing would change this test process): what start-up made is
    frozen after garbage is collected, and young collections wait for 50,000 allocations."""
    probe = ("import gc, json\n"
             "from service.runtime import tune_gc, GEN0_THRESHOLD\n"
             "import weakref\n"
             "class Node: pass\n"
             "garbage = Node(); garbage.me = garbage; gone = weakref.ref(garbage); del garbage\n"
             "before = gc.get_threshold()\n"
             "tune_gc()\n"
             "print(json.dumps([gc.get_freeze_count(), gc.get_count()[0], gc.get_threshold(),"
             " before, GEN0_THRESHOLD, gone() is None]))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    frozen, young, (gen0, gen1, gen2), before, wanted, collected = json.loads(run.stdout)
    assert frozen > 1_000 and young < 100 and collected  # the cycle was collected, not frozen
    assert gen0 == wanted == 50_000
    assert (gen1, gen2) == (max(before[1], 20), max(before[2], 20))


def test_the_default_workers_are_the_cores_this_process_may_use() -> None:
    assert cores() == len(os.sched_getaffinity(0))


def test_without_cpu_sets_the_workers_are_the_machines_cores_or_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # cannot be told
    assert cores() == 1
