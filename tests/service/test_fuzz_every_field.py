"""Every JSON type in every field of a realistic request, over real HTTP to gunicorn (2 workers):
more than 10,000 requests, never a 5xx, never a stack trace, every card still a valid card.

The realistic requests are a full ``patient-view`` call (every prefetch key filled from the test
patient, ``fhirServer`` and ``fhirAuthorization`` given) and a feedback batch. Each generated
request replaces or deletes one to three fields anywhere in them (a resource's ``id``, a
quantity's ``value``, a coding's ``system``, the access token …) with a value of any JSON type:
null, booleans, integers of any size, floats including NaN and infinities (sent as Python's
``NaN``/``Infinity`` tokens), strings including lone surrogates, NUL, markup and very long
ones, lists and objects. Fallback fetches go to the one allowed FHIR server, a closed port.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from cds_harness import free_port, start_gunicorn
from cds_rules import assert_valid_card
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_hooks_protocol import full_prefetch

from service.hooks.discovery import SERVICE_ID

PATIENT = "pt-relapse-1"
EXAMPLES = 520
HOOK_CALLS, FEEDBACK_CALLS = 16, 4  # per example: 520 × 20 = 10,400 requests
MAX_BODY = 400_000
FHIR_SERVER = f"http://127.0.0.1:{free_port()}/fhir"  # allowed, closed: fetches fail at once


def hook_body() -> dict[str, Any]:
    return {
        "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": PATIENT,
                    "encounterId": "enc-1"},
        "fhirServer": FHIR_SERVER,
        "fhirAuthorization": {"access_token": "token-abc.def", "token_type": "Bearer",
                              "expires_in": 300, "scope": "patient/*.read",
                              "subject": "cds-service", "patient": PATIENT},
        "prefetch": full_prefetch(),
        "extension": {"com.example": {"note": "x"}},
    }


def feedback_body() -> dict[str, Any]:
    return {"feedback": [
        {"card": str(uuid.uuid4()), "outcome": "overridden",
         "outcomeTimestamp": "2024-03-01T10:00:00Z",
         "overrideReason": {"reason": {"system": "urn:relapsed-all-cds:override-reason",
                                       "code": "not-applicable", "display": "Not applicable"},
                            "userComment": "free text"}},
        {"card": str(uuid.uuid4()), "outcome": "accepted",
         "outcomeTimestamp": "2024-03-01T10:00:00+01:00",
         "acceptedSuggestions": [{"id": str(uuid.uuid4())}]},
    ]}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field and list item under ``value``, as key/index paths."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += paths(item, (*prefix, n))
    return found


HOOK_PATHS, FEEDBACK_PATHS = paths(hook_body()), paths(feedback_body())

hostile_text = st.sampled_from([
    "[x](javascript:alert(1))", "<script>alert(1)</script>", "``` | ` |", "\ud800", "\udfff x",
    "\x00", "a\x00b", "é€😀", "", " ", "x" * 5000, "2024-02-30", "2024-01-01T25:00:00Z",
    "NaN", "Patient/other", "../../etc/passwd", "http://169.254.169.254/", "%00", "1e309",
])
scalars = (st.none() | st.booleans() | st.integers()
           | st.sampled_from([10**30, -(10**30), 10**400, 2**63, -(2**63) - 1])
           | st.floats(allow_nan=True, allow_infinity=True)
           | hostile_text | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8) | hostile_text, inner,
                                             max_size=3), max_leaves=6)


def mutations(where: list[tuple[Any, ...]]) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    one = st.tuples(st.sampled_from(where), st.sampled_from(["replace", "replace", "delete"]),
                    json_values)
    return st.lists(one, min_size=1, max_size=3)


def mutated(body: dict[str, Any], changes: list[tuple[Any, ...]]) -> bytes:
    body = copy.deepcopy(body)
    for path, action, value in changes:
        parent: Any = body
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = path[-1]
            if isinstance(parent, dict) and action == "delete":
                parent.pop(last, None)
            elif isinstance(parent, dict):
                parent[last] = value
            elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
                if action == "delete":
                    del parent[last]
                else:
                    parent[last] = value
    return json.dumps(body).encode()  # NaN/Infinity as Python writes them; surrogates escaped


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("fuzz-every-field")
    env = {"RELAPSED_ALL_CDS_AUTH_ENABLED": "false",
           "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{folder / 'feedback.sqlite3'}",
           "RELAPSED_ALL_CDS_MAX_BODY_BYTES": str(MAX_BODY),
           "RELAPSED_ALL_CDS_FHIR_SERVERS": json.dumps([FHIR_SERVER])}
    with start_gunicorn(env) as (url, _):
        yield url


_sessions = threading.local()


def post(url: str, data: bytes) -> requests.Response:
    if not hasattr(_sessions, "http"):
        _sessions.http = requests.Session()
    response: requests.Response = _sessions.http.post(
        url, data=data, headers={"Content-Type": "application/json"}, timeout=30)
    return response


def check(kind: str, changes: list[tuple[Any, ...]], response: requests.Response) -> None:
    allowed = (200, 400, 412, 413) if kind == "hook" else (200, 400, 413)
    assert response.status_code in allowed, (response.status_code, response.text[:300],
                                              [(c[0], c[1], repr(c[2])[:80]) for c in changes])
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    if response.status_code != 200:
        assert body["resourceType"] == "OperationOutcome"
    elif kind == "hook":
        for card in body["cards"]:
            assert_valid_card(card)
    else:
        assert body["stored"] >= 1


def test_every_json_type_in_every_field_never_gets_a_5xx(base: str) -> None:
    sent = {"hook": 0, "feedback": 0, "200": 0}
    hook_url = f"{base}/cds-services/{SERVICE_ID}"
    feedback_url = f"{hook_url}/feedback"
    realistic_hook, realistic_feedback = hook_body(), feedback_body()
    pool = ThreadPoolExecutor(max_workers=4)

    # no shrinking: a failure names the request's changes; shrinking 20 requests at a time
    # would take minutes
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(hooks=st.lists(mutations(HOOK_PATHS), min_size=HOOK_CALLS, max_size=HOOK_CALLS),
           feedbacks=st.lists(mutations(FEEDBACK_PATHS), min_size=FEEDBACK_CALLS,
                              max_size=FEEDBACK_CALLS))
    def batch(hooks: list[list[tuple[Any, ...]]], feedbacks: list[list[tuple[Any, ...]]]) -> None:
        jobs = [("hook", hook_url, c, mutated(realistic_hook, c)) for c in hooks]
        jobs += [("feedback", feedback_url, c, mutated(realistic_feedback, c))
                 for c in feedbacks]
        responses = pool.map(lambda job: post(job[1], job[3]), jobs)
        for (kind, _, changes, _), response in zip(jobs, responses, strict=True):
            check(kind, changes, response)
            sent[kind] += 1
            sent["200"] += response.status_code == 200

    started = time.monotonic()
    try:
        batch()
    finally:
        pool.shutdown()
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {sent['hook']} hook calls and {sent['feedback']} feedback posts "
          f"({sent['200']} answered 200) in {elapsed:.0f} s, no 5xx")
    assert sent["hook"] + sent["feedback"] >= 10_000
    assert sent["200"] > 1000  # most mutations leave a request the service can answer
