"""Replay's reading of a Bundle's text into lean shapes (``extract/bundle_text.py``) gives the
assessment the general reading (parse, then pydantic) gives, or steps aside (None)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_changes import json_values, places

from service import replay
from service.extract import is_read
from service.extract.bundle_text import read_bundle_text
from service.fhir.bundle import bundle_resources
from service.fhir.lean import resource_adapter
from service.mapping import default_code_maps
from service.pipeline import assess_bundle, assess_lean
from service.replay import Item, Options, _parse, replay_line

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BUNDLES = sorted(FIXTURES.glob("*/bundle.json"))
MAPS = default_code_maps()
AS_OF = date(2026, 11, 22)
# Every resource of every fixture: records shaped as mCODE, MII, CIBMTR, EHR exports write them.
RESOURCES = [e["resource"] for path in BUNDLES
             for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]


def _general(text: str) -> dict[str, Any]:
    """The assessment as replay made it before: parsed by orjson or the standard parser."""
    return assess_bundle(_parse(text, strict=False), as_of=AS_OF, maps=MAPS)


def _read_as_generally(text: str) -> list[Any]:
    """The lean resources the general reading validates, in order (invalid ones raise)."""
    bundle = _parse(text, strict=False)
    return [resource_adapter.validate_python(r) for r in bundle_resources(bundle)
            if is_read(r, MAPS)]


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.parent.name)
def test_every_fixture_is_read_from_its_text_with_the_same_assessment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lean = read_bundle_text(text, MAPS)
    assert lean is not None, "a valid fixture should not need the general reading"
    assert lean.resources == _read_as_generally(text)
    assert assess_lean(lean, as_of=AS_OF, maps=MAPS) == _general(text)


def _bundle_text(entries: list[Any]) -> str:
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


MRD = next(r for r in RESOURCES if r["resourceType"] == "Observation"
           and is_read(r, MAPS) and "valueQuantity" in r)
ORDER = next(r for r in RESOURCES if r["resourceType"] == "MedicationRequest")


def _mrd(change: Any) -> dict[str, Any]:
    resource = copy.deepcopy(MRD)
    change(resource)
    return resource


@pytest.mark.parametrize("resource, why", [
    (_mrd(lambda r: r["valueQuantity"].update(value=True)), "pydantic reads true as 1.0"),
    (_mrd(lambda r: r["valueQuantity"].update(value="0.5")), "pydantic reads a numeric string"),
    (_mrd(lambda r: r.update(effectiveDateTime=5)), "an invalid resource: the general reading reports it"),
    ({**ORDER, "contained": [{"resourceType": "Medication", "x": 10**20}]},
     "orjson reads an integer beyond 64 bits as a float"),
])
def test_where_the_readings_could_differ_the_general_one_is_used(resource: Any, why: str) -> None:
    text = _bundle_text([{"resource": resource}])
    assert read_bundle_text(text, MAPS) is None, why
    line = replay_line(Item("t", text), Options(as_of=AS_OF), MAPS)
    assert json.loads(line.text) == {"source": "t", **_general(text)}


@pytest.mark.parametrize("text", [
    _bundle_text([{"resource": MRD}, "not an entry"]),
    _bundle_text([{"resource": None}, {"resource": MRD}]),
    _bundle_text([{"resource": MRD}])[:-2] + ', "x": "\\ud800"}',  # a lone surrogate
    _bundle_text([{"resource": _mrd(lambda r: r["valueQuantity"].update(value=1.5))}]).replace(
        "1.5", "1e400"),  # beyond a float: the standard parser reads inf
    json.dumps({"resourceType": "Patient", "id": "p"}),
    "[]",
])
def test_text_the_general_reading_skips_or_refuses_is_left_to_it(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_bundle_text(text, MAPS) is None
    line = replay_line(Item("t", text), Options(as_of=AS_OF), MAPS)
    monkeypatch.setattr(replay, "read_bundle_text", lambda text, maps: None)
    assert line == replay_line(Item("t", text), Options(as_of=AS_OF), MAPS)


def test_replay_reads_the_text_into_lean_shapes_and_writes_the_same_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = BUNDLES[0].read_text(encoding="utf-8")
    line = replay_line(Item("t", text), Options(as_of=AS_OF), MAPS)
    monkeypatch.setattr(replay, "read_bundle_text", lambda text, maps: None)
    assert line == replay_line(Item("t", text), Options(as_of=AS_OF), MAPS)
    monkeypatch.undo()
    monkeypatch.setattr(replay, "_parse", lambda text, strict: pytest.fail("parsed as a whole"))
    assert replay_line(Item("t", text), Options(as_of=AS_OF), MAPS) == line


def test_outcome_entries_are_skipped_and_medications_are_found_by_full_url() -> None:
    order = {"resourceType": "MedicationRequest", "id": "o1", "status": "active",
             "intent": "order", "authoredOn": "2026-10-01",
             "medicationReference": {"reference": "urn:uuid:med-1"}}
    medication = {"resourceType": "Medication",
                  "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                       "code": "1597258"}]}}
    relapse = json.loads((FIXTURES / "rowB-bm-early" / "bundle.json").read_text(encoding="utf-8"))
    text = _bundle_text([
        *relapse["entry"],
        {"resource": {**MRD, "id": "in-an-outcome"}, "search": {"mode": "outcome"}},
        {"fullUrl": "urn:uuid:med-1", "resource": medication},
        {"resource": order}])
    lean = read_bundle_text(text, MAPS)
    assert lean is not None
    assert [r["resourceType"] for r in lean.resources][-2:] == ["Medication", "MedicationRequest"]
    assert "in-an-outcome" not in [r.get("id") for r in lean.resources]
    assert set(lean.medications_by_url) == {"urn:uuid:med-1"}
    assessment = assess_lean(lean, as_of=AS_OF, maps=MAPS)
    assert assessment == _general(text)
    # the order names its product only through the Medication's fullUrl
    assert "MedicationRequest/o1" in json.dumps(assessment["warnings"])


@st.composite
def changed_resource(draw: Any) -> Any:
    """A fixture's resource with up to three values put elsewhere or replaced by any JSON."""
    resource = copy.deepcopy(draw(st.sampled_from(RESOURCES)))
    for _ in range(draw(st.integers(0, 3))):
        paths = places(resource)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        holder = resource
        for step in parents:
            holder = holder[step]
        holder[last] = draw(json_values)
    return resource


entries = st.lists(st.fixed_dictionaries(
    {"resource": changed_resource()},
    optional={"fullUrl": st.sampled_from(["urn:uuid:med-1", "Medication/m1", 5]),
              "search": st.sampled_from([{"mode": "match"}, {"mode": "outcome"}, "outcome"])}),
    max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries)
def test_the_text_reading_equals_the_general_one_or_steps_aside(entries: list[Any]) -> None:
    text = _bundle_text(entries)
    lean = read_bundle_text(text, MAPS)
    if lean is not None:
        assert lean.resources == _read_as_generally(text)  # raises if one was invalid
        assert assess_lean(lean, as_of=AS_OF, maps=MAPS) == _general(text)


def test_bytes_are_read_as_their_text() -> None:
    text = BUNDLES[0].read_text(encoding="utf-8")
    assert read_bundle_text(orjson.dumps(json.loads(text)), MAPS) == read_bundle_text(text, MAPS)


@pytest.mark.parametrize("number", [2**64 - 1, 2**64, -2**63, -2**63 - 1])
def test_contained_integers_are_read_as_orjson_reads_them_or_left_to_it(number: int) -> None:
    """orjson reads an integer as an integer from -2⁶³ to 2⁶⁴ - 1, beyond as a float."""
    order = {**ORDER, "contained": [{"resourceType": "Medication", "x": [{"y": number}]}]}
    lean = read_bundle_text(_bundle_text([{"resource": order}]), MAPS)
    assert (lean is not None) == isinstance(orjson.loads(str(number)), int)
