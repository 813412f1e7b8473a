"""Process tuning: the cyclic collector is paused while one call or record is worked on, and
is on again afterwards, whatever happened in between."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from service.app import create_app
from service.hooks.discovery import SERVICE_ID
from service.hooks.example_request import hook_request
from service.mapping import default_code_maps
from service.replay import Item, Options, replay_line
from service.runtime import collector_paused
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

    seen = collector_states(monkeypatch, replay, "assess_bundle")
    line = replay_line(Item("fixture", FIXTURE.read_text()), Options(), default_code_maps())
    assert seen == [False] and gc.isenabled()
    assert json.loads(line.text)["source"] == "fixture"


def test_a_hook_call_is_worked_on_with_the_collector_paused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import service.pipeline as pipeline

    seen = collector_states(monkeypatch, pipeline, "assess_resources")
    app = create_app(Settings(auth_enabled=False,
                              database_url=f"sqlite:///{tmp_path}/feedback.sqlite3"))
    call = hook_request(json.loads(BUNDLE.read_text()))
    response = app.test_client().post(f"/cds-services/{SERVICE_ID}", json=call)
    assert response.status_code == 200 and response.get_json()["cards"]
    assert seen == [False] and gc.isenabled()
    refused = app.test_client().post(f"/cds-services/{SERVICE_ID}", json={"hook": 1})
    assert refused.status_code == 400 and gc.isenabled()  # on again after a refused call
