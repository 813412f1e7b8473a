"""Fuzzing as tests: arbitrary bodies and FHIR-shaped prefetch against the service over real
HTTP, and arbitrary resources through the mapper/extractor. 0 crashes, 0 5xx, no stack traces.

The server is the app of ``tests/service/conftest.py`` served by ``cds_harness.serve``, with
client authentication off (the JWT checks have their own tests) so that every body reaches the
handlers. Example counts are kept small enough for the whole module to run in well under a
minute.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from cds_harness import serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import pipeline
from service.app import create_app
from service.hooks.discovery import SERVICE_ID
from service.mapping import default_code_maps
from service.settings import Settings

MAX_BODY = 200_000  # as the conftest settings
PATIENT = "pt-fuzz"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(Settings(auth_enabled=False, max_body_bytes=MAX_BODY,
                              database_url=f"sqlite:///{folder / 'feedback.sqlite3'}",
                              fetch_budget_seconds=0.5, fetch_timeout_seconds=0.3))
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def post(http: requests.Session, url: str, data: bytes) -> requests.Response:
    return http.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=30)


def assert_handled(response: requests.Response, allowed: tuple[int, ...]) -> None:
    """A deliberate answer: an allowed status, a JSON body, no stack trace."""
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    assert response.status_code < 500
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body, dict) and ("cards" in body or "stored" in body)
    else:
        assert body["resourceType"] == "OperationOutcome"


# --- strategies -------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20) \
    | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=25)

_maps = default_code_maps()
KNOWN_CODINGS = [{"system": s, "code": c} for table in _maps.tables.values() for s, c in table]
KINDS = ["Patient", "Condition", "Observation", "Medication", "MedicationStatement",
         "MedicationRequest", "MedicationAdministration", "Procedure", "OperationOutcome",
         "Bundle", "Encounter"]
DATES = st.one_of(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))
                  .map(date.isoformat),
                  st.sampled_from(["2019", "2019-02", "2019-02-30", "2019-13-01", "20190101",
                                   "2019-01-01T10:00:00Z", "2019-01-01T25:00:00+02:00", "",
                                   "9999-12-31", "0001-01-01", "2019-01-01T" + "1" * 80]),
                  st.text(max_size=12), st.integers(), st.none())
coding = st.one_of(st.sampled_from(KNOWN_CODINGS),
                   st.fixed_dictionaries({}, optional={"system": st.text(max_size=30) | st.integers(),
                                                       "code": st.text(max_size=10) | st.none()}))
concept = st.one_of(st.fixed_dictionaries({"coding": st.lists(coding, max_size=3)}), json_values)
numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**30, 10**30),
                    st.sampled_from([0, -1, 1e308, 1e-300, "12.5", "abc", None, True]))
quantity = st.one_of(st.fixed_dictionaries({}, optional={
    "value": numbers, "unit": st.sampled_from(["%", "1", "/uL", "10*3/uL", "10*9/L", "x", ""]),
    "code": st.sampled_from(["%", "1", "/uL", "10*3/uL", "cGy", ""]),
    "comparator": st.sampled_from(["<", "<=", ">", ">=", "=", "ad", ""]),
    "system": st.just("http://unitsofmeasure.org")}), json_values)
reference = st.one_of(st.fixed_dictionaries({"reference": st.sampled_from(
    [f"Patient/{PATIENT}", "Patient/other", "#med", "Medication/m1", "Medication/m1/_history/2",
     "", "Patient/"])}), json_values)
FIELDS: dict[str, Any] = {
    "id": st.text(max_size=10) | st.integers() | st.none(),
    "status": st.sampled_from(["final", "amended", "completed", "active", "stopped", "unknown",
                               "entered-in-error", ""]) | json_values,
    "code": concept, "clinicalStatus": concept, "verificationStatus": concept,
    "bodySite": st.lists(concept, max_size=3) | json_values,
    "valueQuantity": quantity, "valueCodeableConcept": concept,
    "interpretation": st.lists(concept, max_size=2),
    "component": st.lists(st.fixed_dictionaries({}, optional={
        "code": concept, "valueCodeableConcept": concept, "valueQuantity": quantity}), max_size=3),
    "effectiveDateTime": DATES, "onsetDateTime": DATES, "recordedDate": DATES,
    "performedDateTime": DATES, "authoredOn": DATES, "birthDate": DATES, "issued": DATES,
    "effectivePeriod": st.fixed_dictionaries({}, optional={"start": DATES, "end": DATES}),
    "performedPeriod": st.fixed_dictionaries({}, optional={"start": DATES, "end": DATES}),
    "medicationCodeableConcept": concept, "medicationReference": reference,
    "subject": reference, "patient": reference,
    "intent": st.sampled_from(["plan", "order", "proposal", "x"]),
    "gender": st.sampled_from(["male", "female", "other"]) | json_values,
    "dosage": st.lists(st.fixed_dictionaries({}, optional={"route": concept}), max_size=2)
    | json_values,
    "contained": st.lists(st.fixed_dictionaries({"resourceType": st.just("Medication"),
                                                 "id": st.just("med")},
                                                optional={"code": concept}), max_size=2)
    | json_values,
    "extension": st.lists(json_values, max_size=2),
    "unknownField": json_values,
}


@st.composite
def fhir_resources(draw: st.DrawFn) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": draw(st.sampled_from(KINDS))}
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=8)):
        resource[name] = draw(FIELDS[name])
    return resource


def search_bundle(resources: list[Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


prefetch_values = st.one_of(
    st.lists(fhir_resources(), max_size=6).map(search_bundle), fhir_resources(), st.none(),
    st.just({"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}), json_values)
PREFETCH_KEYS = ["patient", "conditions", "observations", "medications", "medicationRequests",
                 "procedures", "other"]


@st.composite
def hook_bodies(draw: st.DrawFn) -> dict[str, Any]:
    prefetch = {key: draw(prefetch_values)
                for key in draw(st.sets(st.sampled_from(PREFETCH_KEYS)))}
    if draw(st.booleans()):  # a usable patient most of the time, so the engine runs
        prefetch["patient"] = {"resourceType": "Patient", "id": PATIENT,
                               "birthDate": draw(DATES)}
    body: dict[str, Any] = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                            "context": {"userId": "Practitioner/1", "patientId": PATIENT},
                            "prefetch": prefetch}
    if draw(st.booleans()):
        body["fhirServer"] = draw(st.sampled_from(
            ["http://127.0.0.1:9", "http://[::1", "http://[", "https://", "ftp://x", "http://a:b"]))
    return body


# --- the HTTP API -----------------------------------------------------------------------------

@FUZZ
@given(body=json_values)
def test_arbitrary_json_bodies(base: str, http: requests.Session, body: Any) -> None:
    data = json.dumps(body).encode()
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}", data), (400,))
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}/feedback", data), (200, 400))


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(base: str, http: requests.Session, data: bytes) -> None:
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}", data), (400,))


@FUZZ
@given(body=hook_bodies())
def test_arbitrary_fhir_shaped_prefetch(base: str, http: requests.Session,
                                        body: dict[str, Any]) -> None:
    response = post(http, f"{base}/cds-services/{SERVICE_ID}", json.dumps(body).encode())
    assert_handled(response, (200, 400, 412))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(change=st.dictionaries(st.sampled_from(["hook", "hookInstance", "context", "prefetch",
                                               "fhirServer", "fhirAuthorization"]),
                              json_values, min_size=1, max_size=3))
def test_arbitrary_top_level_fields(base: str, http: requests.Session,
                                    change: dict[str, Any]) -> None:
    body = {"hook": "patient-view", "hookInstance": "x",
            "context": {"userId": "Practitioner/1", "patientId": PATIENT}, **change}
    response = post(http, f"{base}/cds-services/{SERVICE_ID}", json.dumps(body).encode())
    assert_handled(response, (200, 400, 412))


@pytest.mark.parametrize("size", [MAX_BODY + 1, 4 * MAX_BODY, 50 * MAX_BODY])
def test_huge_bodies_are_413(base: str, http: requests.Session, size: int) -> None:
    padding = "x" * size
    data = json.dumps({"hook": "patient-view", "padding": padding}).encode()
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}", data), (413,))
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}/feedback", data), (413,))


def test_huge_prefetch_is_413(base: str, http: requests.Session) -> None:
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "11150-0"}]}}
    body = {"hook": "patient-view", "hookInstance": "x",
            "context": {"userId": "Practitioner/1", "patientId": PATIENT},
            "prefetch": {"observations": search_bundle([observation] * 5000)}}
    data = json.dumps(body).encode()
    assert len(data) > MAX_BODY
    assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}", data), (413,))


def _nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize("depth", [100, 900, 1000, 10_000, 60_000])
@pytest.mark.parametrize("where", ["body", "context", "prefetch", "resource"])
def test_deep_nesting_is_400_or_handled(base: str, http: requests.Session, depth: int,
                                        where: str) -> None:
    lists, objects = _nested(depth), '{"a":' * depth + "1" + "}" * depth
    for deep in (lists, objects):
        text = {
            "body": "DEEP",
            "context": '{"hook": "patient-view", "hookInstance": "x", "context": '
                       '{"patientId": "p", "x": DEEP}}',
            "prefetch": '{"hook": "patient-view", "hookInstance": "x", "context": '
                        '{"patientId": "p"}, "prefetch": {"patient": DEEP}}',
            "resource": '{"hook": "patient-view", "hookInstance": "x", "context": '
                        '{"patientId": "p"}, "prefetch": {"patient": {"resourceType": "Patient",'
                        ' "id": "p"}, "conditions": {"resourceType": "Bundle", "entry": [{'
                        '"resource": {"resourceType": "Condition", "id": "c", "code": DEEP}}]}}}',
        }[where].replace("DEEP", deep)
        data = text.encode()
        if len(data) > MAX_BODY:
            assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}", data), (413,))
            continue
        response = post(http, f"{base}/cds-services/{SERVICE_ID}", data)
        assert_handled(response, (200, 400, 412) if depth < 1000 else (400, 200, 412))
        if where == "body" and depth >= 1000:
            assert response.status_code == 400
        assert_handled(post(http, f"{base}/cds-services/{SERVICE_ID}/feedback", data),
                       (200, 400))


def test_ten_thousand_nested_lists_are_400(tmp_path: Path) -> None:
    """The case named in the issue, with a body limit that lets it through to the parser."""
    app = create_app(Settings(auth_enabled=False, max_body_bytes=1_000_000,
                              database_url=f"sqlite:///{tmp_path / 'f.sqlite3'}"))
    with serve(app) as url, requests.Session() as http:
        for path in (f"/cds-services/{SERVICE_ID}", f"/cds-services/{SERVICE_ID}/feedback"):
            response = post(http, url + path, _nested(10_000).encode())
            assert_handled(response, (400,))


# --- the mapper/extractor ---------------------------------------------------------------------

@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(resources=st.lists(fhir_resources() | json_values, max_size=12))
def test_extractor_and_engine_never_crash(resources: list[Any]) -> None:
    result = pipeline.assess_resources(resources, patient_id=PATIENT, as_of=date(2024, 1, 1))
    assert isinstance(result, dict) and isinstance(result["applicable"], bool)
    json.dumps(result, allow_nan=False)  # JSON-ready: no NaN, no stray objects


@settings(max_examples=60, deadline=None, derandomize=True)
@given(value=numbers, unit=st.sampled_from(["%", "1", "/uL", "10*3/uL", None]),
       code=st.sampled_from(["11150-0", "67128-9", "26465-5", "6690-2", "35068-6"]))
def test_quantities_of_known_observations(value: Any, unit: str | None, code: str) -> None:
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                   "effectiveDateTime": "2023-06-01",
                   "valueQuantity": {"value": value, **({"unit": unit} if unit else {})}}
    result = pipeline.assess_resources(
        [{"resourceType": "Patient", "id": PATIENT, "birthDate": "2010-01-01"}, observation],
        patient_id=PATIENT, as_of=date(2024, 1, 1))
    text = json.dumps(result, allow_nan=False)
    assert not any(isinstance(v, float) and math.isnan(v) for v in result.values())
    assert "Traceback" not in text
