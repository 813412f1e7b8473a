"""A patient-view call read straight into the lean shapes (``hooks/call_text.py``) is answered
exactly as the general reading answers it (parse, resolve, validate), or that reading answers."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_changes import json_values, places

import service.app
from service.app import create_app
from service.hooks.call_text import lean_prefetch, read_call_text
from service.hooks.discovery import SERVICE_ID, prefetch_templates
from service.hooks.example_request import hook_request
from service.mapping import default_code_maps
from service.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLES = sorted(FIXTURES.glob("*/bundle.json"))
MAPS = default_code_maps()
TEMPLATES = prefetch_templates(MAPS)
URL = f"/cds-services/{SERVICE_ID}"
INSTANCE = "00000000-0000-4000-8000-000000000001"


def _call(path: Path) -> dict[str, Any]:
    call = hook_request(json.loads(path.read_text(encoding="utf-8")))
    call["hookInstance"] = INSTANCE  # the cards' uuids derive from it
    return call


CALLS = [_call(path) for path in BUNDLES]
RELAPSE = next(call for call, path in zip(CALLS, BUNDLES, strict=True)
               if path.parent.name == "rowB-bm-early")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    folder = tmp_path_factory.mktemp("call-text")
    app = create_app(Settings(auth_enabled=False,
                              database_url=f"sqlite:///{folder}/feedback.sqlite3"))
    return app.test_client()


@contextmanager
def general_reading() -> Iterator[None]:
    """The service as it reads every call: parsed whole, then resolved and validated."""
    with mock.patch.object(service.app, "read_call_text", lambda data: None):
        yield


def answers(client: FlaskClient, body: bytes) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """The service's answer to ``body`` read the lean way when it can, and the general way."""
    def post() -> tuple[int, Any]:
        response = client.post(URL, data=body, content_type="application/json")
        return response.status_code, response.get_json()

    lean = post()
    with general_reading():
        return lean, post()


def _is_read_lean(body: bytes) -> bool:
    text = read_call_text(body)
    assert text is not None
    patient_id = text.request["context"]["patientId"]
    return lean_prefetch(text.prefetch, TEMPLATES, patient_id, MAPS, can_fetch=False) is not None


@pytest.mark.parametrize("call", CALLS, ids=[p.parent.name for p in BUNDLES])
@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_every_fixture_is_read_lean_and_answered_as_the_general_reading_answers(
        client: FlaskClient, call: dict[str, Any], indent: int | None) -> None:
    body = json.dumps(call, indent=indent).encode()
    assert _is_read_lean(body), "a valid record should not need the general reading"
    lean, general = answers(client, body)
    assert lean == general and lean[0] == 200  # (no cards for a record without a relapse)


def _with(change: Any) -> bytes:
    call = copy.deepcopy(RELAPSE)
    change(call["prefetch"])
    return json.dumps(call).encode()


def _entries(key: str) -> Any:
    return lambda prefetch: prefetch[key]["entry"]


@pytest.mark.parametrize("body, why", [
    (_with(lambda p: p.pop("conditions")), "a required key is missing: 412"),
    (_with(lambda p: p.update(observations=None)), "a null key would be fetched"),
    (_with(lambda p: p["observations"].update(
        link=[{"relation": "next", "url": "http://fhir.example/p2"}])), "a next page"),
    (_with(lambda p: p.update(patient={**p["patient"], "id": "someone-else"})),
     "another patient's Patient"),
    (_with(lambda p: p["conditions"]["entry"].append(5)), "an entry that is not an object"),
    (_with(lambda p: p["conditions"]["entry"].append({"resource": [1]})),
     "a resource that is not an object"),
    (_with(lambda p: p["patient"].update(birthDate=20120502)), "an invalid resource is reported"),
    (_with(lambda p: p["observations"]["entry"][0]["resource"].update(
        valueQuantity={"value": "5", "unit": "%"})), "pydantic reads a numeric string"),
    (b'{"hook": "patient-view", "prefetch": {}, "x": "\xff"}', "not UTF-8"),
    (b'{"hook": "patient-view", "prefetch": [1]}', "a prefetch that is not an object"),
])
def test_where_the_readings_could_differ_the_general_one_answers(
        client: FlaskClient, body: bytes, why: str) -> None:
    text = read_call_text(body)
    if text is not None and isinstance(context := text.request["context"], dict):
        assert lean_prefetch(text.prefetch, TEMPLATES, context["patientId"], MAPS,
                             can_fetch=False) is None, why
    lean, general = answers(client, body)
    assert lean == general, why


def test_anything_to_fetch_from_the_fhir_server_is_left_to_the_general_reading() -> None:
    """With a server to fetch from, an absent optional key is fetched, not gone without."""
    text = read_call_text(_with(lambda p: p.pop("procedures")))
    assert text is not None
    patient_id = RELAPSE["context"]["patientId"]
    assert lean_prefetch(text.prefetch, TEMPLATES, patient_id, MAPS, can_fetch=True) is None
    lean = lean_prefetch(text.prefetch, TEMPLATES, patient_id, MAPS, can_fetch=False)
    assert lean is not None and "Procedure" not in {r["resourceType"] for r in lean.resources}


def test_resources_of_another_patient_and_repeated_ones_are_left_out(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    def change(prefetch: dict[str, Any]) -> None:
        first = prefetch["conditions"]["entry"][0]["resource"]
        prefetch["conditions"]["entry"] += [
            {"resource": {**first, "subject": {"reference": "Patient/other"}, "id": "theirs"}},
            {"resource": {**first, "subject": {"reference": "https://ehr.example/Patient/other"},
                          "id": "theirs-too"}},
            {"resource": {**first, "subject": {"reference": "urn:uuid:1"}, "id": "urn-ref"}},
            {"resource": {**first, "code": {"text": "a second resource, same id"}}},
            {"resource": {**first, "id": "in-an-outcome"}, "search": {"mode": "outcome"}},
            {"resource": {"resourceType": "Patient", "id": "other", "birthDate": "1950-01-01",
                          "subject": {"reference": f"Patient/{RELAPSE['context']['patientId']}"}}}]

    body = _with(change)
    text = read_call_text(body)
    assert text is not None
    lean = lean_prefetch(text.prefetch, TEMPLATES, RELAPSE["context"]["patientId"], MAPS,
                         can_fetch=False)
    assert lean is not None
    ids = [r.get("id") for r in lean.resources if r["resourceType"] == "Condition"]
    assert "theirs" not in ids and "theirs-too" not in ids and "urn-ref" in ids
    assert "in-an-outcome" not in ids  # an entry that says how the search went
    assert [r["id"] for r in lean.resources if r["resourceType"] == "Patient"] == [
        RELAPSE["context"]["patientId"]]  # a Patient is the patient by its id alone
    assert len(ids) == len(set(ids)), "the first of two resources with one id is kept"
    assert "dropped 3 resources of another patient" in caplog.text
    lean_answer, general = answers(client, body)
    assert lean_answer == general


def test_a_number_beyond_a_float_in_a_value_never_read_is_skipped_unread(
        client: FlaskClient) -> None:
    """The one difference by design: the general reading refuses the call, as it cannot know
    the value is not needed; read lean, a blood count nobody reads does not stop the advice."""
    call = copy.deepcopy(RELAPSE)
    call["prefetch"]["observations"]["entry"].append({"resource": {
        "resourceType": "Observation", "id": "wbc-1", "status": "final",
        "subject": {"reference": f"Patient/{RELAPSE['context']['patientId']}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
        "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 1.0, "unit": "10*3/uL"}}})
    body = json.dumps(call).encode().replace(b'"value": 1.0', b'"value": 1e400')
    lean, general = answers(client, body)
    assert general[0] == 400 and "too large" in general[1]["issue"][0]["diagnostics"]
    unchanged, _ = answers(client, json.dumps(RELAPSE).encode())
    assert lean == unchanged


@st.composite
def changed_call(draw: Any) -> bytes:
    """A fixture's call with up to four values of its prefetch put elsewhere or replaced by
    any JSON (a whole key, a Bundle's entry, a field deep in a resource)."""
    call = copy.deepcopy(draw(st.sampled_from(CALLS)))
    for _ in range(draw(st.integers(0, 4))):
        paths = places(call["prefetch"])
        *parents, last = draw(st.sampled_from(paths))
        holder = call["prefetch"]
        for step in parents:
            holder = holder[step]
        holder[last] = draw(json_values)
    return json.dumps(call, indent=draw(st.sampled_from([None, 1]))).encode()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=changed_call())
def test_any_changed_call_is_answered_as_the_general_reading_answers_it(
        client: FlaskClient, body: bytes) -> None:
    lean, general = answers(client, body)
    assert lean == general
