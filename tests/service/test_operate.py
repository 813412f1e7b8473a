"""What an operator meets: ``relapsed-all-cds serve`` on gunicorn, configured from the
environment; its JSON logs (the fields a call's story needs, no patient data, no token); its
Prometheus metrics counted across workers; ``/healthz`` failing when the service cannot answer;
412s that name the real cause; every answer as ``/openapi.json`` describes it; and
``feedback-report`` naming the database it read and never creating one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from cds_harness import SandboxClient, rss_mb, start_serve, worker_pids
from conftest import FHIR_TOKEN, load
from prometheus_client.parser import text_string_to_metric_families
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from service.cli_server import AUTH_OFF_NOTICE, LOOPBACK_NOTICE
from service.hooks.discovery import SERVICE_ID
from service.hooks.feedback import FeedbackStore

PATIENT = "pt-relapse-1"
# What the test patient's record holds that must never reach a log line.
PATIENT_DATA = (PATIENT, "Testchild", "Alma", "2012-05-02", FHIR_TOKEN)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """The service as ``bash scripts/run.sh`` starts it, its port and workers given by the
    environment, run from a folder of its own (its SQLite database lands there)."""
    folder = tmp_path_factory.mktemp("serve")
    with start_serve([], {"RELAPSED_ALL_CDS_WORKERS": "2"}, folder) as running:
        yield running


@pytest.fixture(scope="module")
def openapi(served: tuple[str, int, Path]) -> dict[str, Any]:
    document: dict[str, Any] = requests.get(f"{served[0]}/openapi.json", timeout=10).json()
    return document


def conforms(openapi: dict[str, Any], response: requests.Response, path: str,
             method: str = "post") -> Any:
    """The response's JSON, checked against what the OpenAPI document says of it."""
    declared = openapi["paths"][path][method]["responses"]
    assert str(response.status_code) in declared, (path, response.status_code, response.text)
    pointer = "/".join(["#/paths", path.replace("/", "~1"), method, "responses",
                        str(response.status_code), "content", "application~1json", "schema"])
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(openapi, default_specification=DRAFT202012))
    body = response.json()
    jsonschema.Draft202012Validator({"$ref": f"urn:openapi{pointer}"}, registry=registry,
                                    format_checker=jsonschema.FormatChecker()).validate(body)
    return body


def log_lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be a JSON object."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def request_line(log: Path, request_id: str) -> dict[str, Any]:
    """The line that reports a request (other lines of it carry its id too)."""
    (line,) = [e for e in log_lines(log)
               if e.get("request_id") == request_id and e["message"] == "request"]
    return line


def metric(base: str, name: str, **labels: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_serve_is_gunicorn_with_the_workers_and_port_of_the_environment(
        served: tuple[str, int, Path], openapi: dict[str, Any]) -> None:
    base, master, log = served
    response = requests.get(f"{base}/cds-services", timeout=10)
    assert response.headers["Server"].startswith("gunicorn")
    assert conforms(openapi, response, "/cds-services", "get")["services"][0]["id"] == SERVICE_ID
    deadline = time.monotonic() + 30  # the second worker may still be booting on a busy machine
    while len(worker_pids(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(worker_pids(master)) == 2
    text = log.read_text()
    assert AUTH_OFF_NOTICE in text and LOOPBACK_NOTICE in text
    assert "development server" not in text
    assert conforms(openapi, requests.get(f"{base}/healthz", timeout=10), "/healthz",
                    "get") == {"status": "ok"}


def test_a_call_is_one_json_log_line_with_its_story_and_no_patient_data(
        served: tuple[str, int, Path], openapi: dict[str, Any], fhir_server: str) -> None:
    base, _, log = served
    fetched = SandboxClient(base, None, fhir_server=fhir_server, access_token=FHIR_TOKEN)
    body = fetched.request_body(PATIENT)
    response = fetched.call(SERVICE_ID, body)
    cards = conforms(openapi, response, "/cds-services/{service_id}")["cards"]
    assert cards

    line = request_line(log, response.headers["X-Request-ID"])
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert line["hookInstance"] == body["hookInstance"]
    assert (line["service"], line["status"], line["cards"]) == (SERVICE_ID, 200, len(cards))
    assert line["duration_ms"] > 0 and line["fhir_fetch_ms"] > 0
    assert line["fhir_fetch"] and set(line["fhir_fetch"].values()) == {"ok"}

    # the whole record in prefetch, with names and dates: none of it is logged
    prefetched = SandboxClient(base, None)
    record = load("relapse_bundle.json")
    by_type = {e["resource"]["resourceType"]: e["resource"] for e in record["entry"]}
    body = prefetched.request_body(PATIENT, {"patient": by_type["Patient"], "conditions": record})
    assert prefetched.call(SERVICE_ID, body).status_code == 200
    text = log.read_text()
    assert all(item not in text for item in PATIENT_DATA)
    assert all(isinstance(line, dict) for line in log_lines(log))


def test_a_412_names_the_real_cause_in_the_answer_and_the_log(
        served: tuple[str, int, Path], openapi: dict[str, Any]) -> None:
    base, _, log = served
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    causes = {
        f"http://127.0.0.1:{closed_port()}/fhir": "connection refused",
        f"http://127.0.0.1:{silent.getsockname()[1]}/fhir": "timed out",
        "https://10.1.2.3/fhir": "not a public address",
    }
    with silent:
        for fhir_server, cause in causes.items():
            client = SandboxClient(base, None, fhir_server=fhir_server, access_token=FHIR_TOKEN)
            response = client.call(SERVICE_ID, client.request_body(PATIENT))
            message = conforms(openapi, response, "/cds-services/{service_id}")
            assert cause in message["issue"][0]["diagnostics"]
            assert cause in request_line(log, response.headers["X-Request-ID"])["reason"]
    refused = next(e for e in log_lines(log) if "connection refused" in e.get("reason", ""))
    assert set(refused["fhir_fetch"].values()) == {"refused"}


def test_metrics_count_the_calls_of_every_worker(served: tuple[str, int, Path],
                                                 openapi: dict[str, Any]) -> None:
    base, _, _ = served
    calls = {"endpoint": "call_service", "service": SERVICE_ID, "status": "200"}
    before = {"calls": metric(base, "relapsed_all_cds_requests_total", **calls),
              "latency": metric(base, "relapsed_all_cds_request_duration_seconds_count", **calls),
              "refused": metric(base, "relapsed_all_cds_fhir_fetches_total", outcome="refused")}
    client = SandboxClient(base, None)
    record = load("relapse_bundle.json")
    patient = next(e["resource"] for e in record["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    for _ in range(6):  # spread over both workers by the kernel
        body = client.request_body(PATIENT, {"patient": patient, "conditions": record})
        cards = conforms(openapi, client.call(SERVICE_ID, body), "/cds-services/{service_id}")
    kinds = {(c["source"]["topic"]["code"], c["indicator"]) for c in cards["cards"]}
    cards_before = {kind: metric(base, "relapsed_all_cds_cards_total", type=kind[0],
                                 indicator=kind[1]) for kind in kinds}
    client.call(SERVICE_ID, client.request_body(PATIENT, {"patient": patient,
                                                          "conditions": record}))
    failing = SandboxClient(base, None, fhir_server=f"http://127.0.0.1:{closed_port()}/fhir")
    assert failing.call(SERVICE_ID, failing.request_body(PATIENT)).status_code == 412

    assert metric(base, "relapsed_all_cds_requests_total", **calls) == before["calls"] + 7
    assert metric(base, "relapsed_all_cds_request_duration_seconds_count",
                  **calls) == before["latency"] + 7
    for (kind, indicator), count in cards_before.items():  # each card of the last call
        assert metric(base, "relapsed_all_cds_cards_total", type=kind,
                      indicator=indicator) == count + 1
    assert metric(base, "relapsed_all_cds_fhir_fetches_total",
                  outcome="refused") > before["refused"]


def test_feedback_report_names_the_database_the_service_wrote(
        served: tuple[str, int, Path], openapi: dict[str, Any]) -> None:
    base, _, log = served
    client = SandboxClient(base, None)
    record = load("relapse_bundle.json")
    patient = next(e["resource"] for e in record["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    response = client.call(SERVICE_ID, client.request_body(PATIENT, {"patient": patient,
                                                                     "conditions": record}))
    card = response.json()["cards"][0]
    stored = client.feedback(SERVICE_ID, [{"card": card["uuid"], "outcome": "overridden",
                                           "outcomeTimestamp": "2026-01-02T10:00:00Z"}])
    assert conforms(openapi, stored, "/cds-services/{service_id}/feedback") == {"stored": 1}

    report = command(["feedback-report"], cwd=log.parent)
    assert report.returncode == 0, report.stderr
    assert f"Feedback database: {log.parent / 'relapsed-all-cds-feedback.sqlite3'}" in report.stdout
    assert card["source"]["topic"]["code"] in report.stdout


def test_feedback_at_once_on_each_card_is_attributed_whichever_worker_takes_it(
        served: tuple[str, int, Path]) -> None:
    """Cards are recorded without waiting for the disk (SQLite WAL), but before the answer:
    feedback sent the moment the cards arrive, to either worker, names their card types."""
    base, _, log = served
    store = FeedbackStore(f"sqlite:///{log.parent / 'relapsed-all-cds-feedback.sqlite3'}",
                          create=False)
    before = store.report()
    client = SandboxClient(base, None)
    record = load("relapse_bundle.json")
    patient = next(e["resource"] for e in record["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    issued: dict[str, int] = {}
    for n in range(12):
        body = client.request_body(PATIENT, {"patient": patient, "conditions": record})
        for card in client.call(SERVICE_ID, body).json()["cards"]:
            kind = card["source"]["topic"]["code"]
            issued[kind] = issued.get(kind, 0) + 1
            assert client.feedback(SERVICE_ID, [{
                "card": card["uuid"], "outcome": "overridden",
                "outcomeTimestamp": f"2026-01-03T10:00:{n:02}Z"}]).json() == {"stored": 1}
    after = store.report()
    assert after.get("unknown") == before.get("unknown")
    for kind, count in issued.items():
        assert after[kind]["overridden"] == before.get(kind, {}).get("overridden", 0) + count


def test_feedback_report_creates_no_database_where_there_is_none(tmp_path: Path) -> None:
    report = command(["feedback-report"], cwd=tmp_path)
    assert report.returncode == 1
    assert f"no feedback database at {tmp_path / 'relapsed-all-cds-feedback.sqlite3'}" \
        in report.stderr
    assert list(tmp_path.iterdir()) == []


def test_healthz_fails_when_auth_is_on_with_no_issuers(tmp_path: Path) -> None:
    with start_serve(["--auth", "--workers", "1"], {}, tmp_path) as (base, _, _):
        response = requests.get(f"{base}/healthz", timeout=10)
        openapi = requests.get(f"{base}/openapi.json", timeout=10).json()
        body = conforms(openapi, response, "/healthz", "get")
        assert response.status_code == 503 and "no issuers" in body["problems"][0]
        unauthorized = SandboxClient(base, None).call(SERVICE_ID, {})
        assert unauthorized.status_code == 401
        conforms(openapi, unauthorized, "/cds-services/{service_id}")


def test_healthz_fails_when_the_database_cannot_be_read(tmp_path: Path) -> None:
    with start_serve(["--workers", "1"], {}, tmp_path) as (base, _, _):
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        (tmp_path / "relapsed-all-cds-feedback.sqlite3").write_bytes(b"not a database" * 512)
        response = requests.get(f"{base}/healthz", timeout=10)
        assert response.status_code == 503
        assert "database cannot be reached" in response.json()["problems"][0]


def test_serve_adds_a_site_folder_of_code_maps_to_the_embedded_ones(tmp_path: Path) -> None:
    site = tmp_path / "site-maps"
    site.mkdir()
    (site / "lab.yaml").write_text(
        '- {system: "http://lab.example.org/codes", code: MRD-FLOW-7, fact: mrd, method: flow}\n')
    with start_serve(["--workers", "1", "--mappings", str(site)], {}, tmp_path) as (base, _, _):
        services = requests.get(f"{base}/cds-services", timeout=10).json()["services"]
    service = next(s for s in services if s["id"] == SERVICE_ID)
    searched = " ".join(service["prefetch"].values())
    assert "MRD-FLOW-7" in searched and "67128-9" in searched  # the site's code and a default

    (site / "lab.yaml").write_text("- {system: sct, code: '2', fact: no-such-fact}\n")
    run = command(["serve", "--mappings", str(site)], cwd=tmp_path)
    assert run.returncode == 2 and "lab.yaml:1: unknown fact" in run.stderr
    assert "Traceback" not in run.stderr


def test_serve_refuses_an_impossible_setting_in_one_line(tmp_path: Path) -> None:
    run = command(["serve"], cwd=tmp_path, env={"RELAPSED_ALL_CDS_WORKERS": "0"})
    assert run.returncode == 2
    assert "refusing to start: RELAPSED_ALL_CDS_WORKERS" in run.stderr
    assert "Traceback" not in run.stderr


def test_help_shows_every_default_and_the_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    assert command(["--version"], cwd=tmp_path).stdout.split() == ["relapsed-all-cds",
                                                                   version("relapsed-all-cds")]
    usage = " ".join(command(["serve", "--help"], cwd=tmp_path).stdout.split())
    for default in ("127.0.0.1", "8080", "one per CPU core", "relapsed-all-cds-feedback.sqlite3",
                    "RELAPSED_ALL_CDS_HOST", "RELAPSED_ALL_CDS_MAPPINGS", "gunicorn"):
        assert default in usage


def command(args: list[str], cwd: Path,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELAPSED_ALL_CDS_")}
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=60, env={**clean, **(env or {})})


def test_request_ids_are_kept_when_plain_and_replaced_when_not(served: tuple[str, int, Path]) -> None:
    base, _, log = served
    kept = requests.get(f"{base}/cds-services", headers={"X-Request-ID": "lb-1234"}, timeout=10)
    assert kept.headers["X-Request-ID"] == "lb-1234"
    hostile = '"}{"level": "CRITICAL'
    replaced = requests.get(f"{base}/cds-services", headers={"X-Request-ID": hostile}, timeout=10)
    assert replaced.headers["X-Request-ID"] != hostile
    uuid.UUID(replaced.headers["X-Request-ID"])
    assert request_line(log, "lb-1234")["route"] == "/cds-services"


def test_a_worker_gives_back_the_memory_of_a_30000_resource_patient(tmp_path: Path) -> None:
    """The largest patient the issue names is answered; afterwards the worker that answers is
    back near its starting size (the one that served it stopped, and gunicorn replaced it)."""
    from bench.patients import patient_bundle
    from service.hooks.example_request import hook_request

    big = json.dumps(hook_request(patient_bundle(30_000, 0))).encode()
    small = json.dumps(hook_request(patient_bundle(30, 0))).encode()
    env = {"RELAPSED_ALL_CDS_MAX_BODY_BYTES": str(len(big) + 1024)}
    url_path = f"/cds-services/{SERVICE_ID}"
    headers = {"Content-Type": "application/json"}
    with start_serve(["--workers", "1"], env, tmp_path) as (base, master, log):
        assert requests.post(base + url_path, data=small, headers=headers, timeout=30).ok
        (first,) = worker_pids(master)
        before = rss_mb(first)
        response = requests.post(base + url_path, data=big, headers=headers, timeout=60)
        assert response.status_code == 200 and response.json()["cards"]
        assert requests.post(base + url_path, data=small, headers=headers, timeout=30).ok
        (serving,) = worker_pids(master)
        assert serving != first
        assert rss_mb(serving) < before + 20, (before, rss_mb(serving))
        lines = log_lines(log)
    (restart,) = [e for e in lines if e["message"].startswith("worker restarts")]
    assert restart["resident_mb"] > restart["started_mb"] + 24
    assert not any(datum in json.dumps(lines) for datum in PATIENT_DATA)
