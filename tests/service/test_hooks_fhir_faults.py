"""The fallback fetch when the FHIR server misbehaves: slow, 500, 401, garbage, endless paging,
a dropped connection, a paging link to another host."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
import urllib3

from service.fhir.client import FhirClient, FhirFetchError, peer_allowed

BASE = "https://ehr.example/fhir"
TOKEN = "tok-abc"


def LOOPBACK(ip: str) -> bool:  # the peer policy of `serve`: loopback servers allowed
    return peer_allowed(ip, allow_loopback=True)


@responses.activate
def test_bearer_token_and_accept_header_are_sent() -> None:
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    FhirClient(BASE, TOKEN).read("Patient/p1")
    sent = responses.calls[0].request.headers
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["Accept"] == "application/fhir+json"


@pytest.mark.parametrize(("status", "body", "cause"), [
    (500, b'{"resourceType": "OperationOutcome"}', "HTTP 500"),
    (401, b"", "HTTP 401"),
    (200, b"<html>login</html>", "not JSON"),
    (200, b'["a list"]', "not a FHIR resource"),
])
@responses.activate
def test_bad_answers_raise(status: int, body: bytes, cause: str) -> None:
    responses.get(f"{BASE}/Condition", status=status, body=body)
    with pytest.raises(FhirFetchError, match=cause):
        FhirClient(BASE, TOKEN).search("Condition?patient=p1")


@responses.activate
def test_a_search_answered_with_a_resource_raises() -> None:
    responses.get(f"{BASE}/Condition", json={"resourceType": "OperationOutcome"})
    with pytest.raises(FhirFetchError, match="expected a Bundle"):
        FhirClient(BASE, TOKEN).search("Condition?patient=p1")


@responses.activate
def test_paging_link_to_another_server_is_refused() -> None:
    responses.get(f"{BASE}/Observation", json={
        "resourceType": "Bundle", "type": "searchset", "entry": [],
        "link": [{"relation": "next", "url": "https://evil.example/fhir/Observation?page=2"}]})
    with pytest.raises(FhirFetchError, match="outside the FHIR server"):
        FhirClient(BASE, TOKEN).search("Observation?patient=p1")
    assert all("evil" not in str(c.request.url) for c in responses.calls)


@responses.activate
def test_paging_loop_is_stopped() -> None:
    responses.get(f"{BASE}/Observation", json={
        "resourceType": "Bundle", "type": "searchset",
        "link": [{"relation": "next", "url": f"{BASE}/Observation?page=2"}]})
    with pytest.raises(FhirFetchError, match="loops"):
        FhirClient(BASE, TOKEN).search("Observation?patient=p1")


@responses.activate
def test_endless_paging_stops_at_the_time_budget() -> None:
    pages = {"n": 0}

    def page(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        pages["n"] += 1
        time.sleep(0.01)
        return 200, {}, (
            '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": '
            '{"resourceType": "Observation", "id": "o"}}], "link": [{"relation": "next", '
            f'"url": "{BASE}/Observation?page={pages["n"] + 1}"}}]}}')

    responses.add_callback(responses.GET, f"{BASE}/Observation", callback=page)
    started = time.monotonic()
    with pytest.raises(FhirFetchError, match="time budget"):
        FhirClient(BASE, TOKEN, budget_seconds=0.3).search("Observation?patient=p1")
    assert time.monotonic() - started < 1.0 and pages["n"] > 3


class _Stub(BaseHTTPRequestHandler):
    """/slow/… answers after 1.5 s; anything else at once."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            time.sleep(1.5)
        with contextlib.suppress(OSError):  # the client may have given up already
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"resourceType": "Patient", "id": "p1"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def stub_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _failing_connects(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make the first ``failures`` TCP connects fail the way a refused connection does."""
    attempts: list[int] = []
    real = urllib3.connection.HTTPConnection._new_conn

    def new_conn(self: urllib3.connection.HTTPConnection) -> Any:
        attempts.append(1)
        if len(attempts) <= failures:
            raise urllib3.exceptions.NewConnectionError(self, "refused")
        return real(self)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "_new_conn", new_conn)
    return attempts


def test_one_retry_on_a_connection_error(stub_server: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = _failing_connects(monkeypatch, 1)
    assert FhirClient(stub_server, TOKEN, peer_policy=LOOPBACK).read("Patient/p1")["id"] == "p1"
    assert len(attempts) == 2


def test_no_second_retry(stub_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = _failing_connects(monkeypatch, 2)
    with pytest.raises(FhirFetchError, match="connection failed"):
        FhirClient(stub_server, TOKEN, peer_policy=LOOPBACK).read("Patient/p1")
    assert len(attempts) == 2


def test_a_slow_server_is_cut_at_the_request_timeout(stub_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FhirFetchError, match="timed out"):
        FhirClient(stub_server, TOKEN, budget_seconds=2.0, timeout_seconds=0.3,
                   peer_policy=LOOPBACK).read("slow/p1")
    assert time.monotonic() - started < 1.0


def test_the_budget_caps_the_request_timeout(stub_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FhirFetchError, match="time budget spent"):
        FhirClient(stub_server, TOKEN, budget_seconds=0.2, timeout_seconds=5,
                   peer_policy=LOOPBACK).read("slow/p1")
    assert time.monotonic() - started < 1.0


# --- The service over HTTP when its FHIR server misbehaves -------------------------------------
# Every fault, two ways: nothing prefetched (the required keys are lost → 412) and the required
# keys prefetched (only optional ones are lost → a degraded 200 with cards). Always within the
# fetch budget plus a margin, never a 5xx, never a hang.

class _FaultyFhir(BaseHTTPRequestHandler):
    """The first path segment picks the fault: /slow, /500, /401, /garbage, /paging."""

    def do_GET(self) -> None:
        fault = self.path.split("/")[1]
        if fault == "slow":
            time.sleep(5)
        status, body = {
            "500": (500, b'{"resourceType": "OperationOutcome"}'),
            "401": (401, b""),
            "garbage": (200, b"<html>\x00\xff not json"),
        }.get(fault, (200, b""))
        if fault in ("slow", "paging"):
            time.sleep(0.05)
            page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 0
            kind = self.path.split("/")[2].split("?")[0]
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            status, body = 200, (
                '{"resourceType": "Bundle", "type": "searchset", "entry": [], "link": [{'
                f'"relation": "next", "url": "{host}/{fault}/{kind}?page={page + 1}"}}]}}'
            ).encode()
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.end_headers()
            self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def faulty_fhir() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FaultyFhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


FAULTS = ["slow", "down", "500", "401", "garbage", "paging"]


@pytest.mark.parametrize("prefetched", ["nothing", "required-keys"])
@pytest.mark.parametrize("fault", FAULTS)
def test_service_answers_within_budget_whatever_the_fhir_server_does(
        app: Any, settings: Any, signer: Any, faulty_fhir: str, fault: str,
        prefetched: str) -> None:
    from cds_harness import SandboxClient, serve
    from test_hooks_protocol import full_prefetch

    server = f"http://127.0.0.1:{_closed_port()}" if fault == "down" else f"{faulty_fhir}/{fault}"
    prefetch = None
    if prefetched == "required-keys":
        full = full_prefetch()
        prefetch = {"patient": full["patient"], "conditions": full["conditions"]}
    with serve(app) as base:
        client = SandboxClient(base, signer, fhir_server=server, access_token=TOKEN)
        started = time.monotonic()
        response = client.call("relapsed-all", client.request_body("pt-relapse-1", prefetch))
        elapsed = time.monotonic() - started
    assert elapsed < settings.fetch_budget_seconds + 1.5, f"{fault}: {elapsed:.2f} s"
    assert response.status_code < 500 and "Traceback" not in response.text
    if prefetched == "nothing":
        assert response.status_code == 412, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    else:  # degraded: the optional keys are missing, the cards come from what was prefetched
        assert response.status_code == 200, response.text
        assert response.json()["cards"]


class _KeepAliveFhir(BaseHTTPRequestHandler):
    """Answers every read and search at once over HTTP/1.1 keep-alive; counts connections."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_GET(self) -> None:
        kind = self.path.split("/")[2].split("?")[0]
        body = (b'{"resourceType": "Patient", "id": "pt-relapse-1"}' if kind == "Patient" else
                b'{"resourceType": "Bundle", "type": "searchset", "entry": []}')
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_one_http_session_per_process_reuses_connections(app: Any, signer: Any) -> None:
    from cds_harness import SandboxClient, serve

    from service.fhir.client import shared_session

    assert shared_session() is shared_session()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveFhir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with serve(app) as base:
            client = SandboxClient(base, signer, fhir_server=f"http://127.0.0.1:"
                                   f"{server.server_port}/fhir", access_token=TOKEN)
            keys = len(client.discovery().json()["services"][0]["prefetch"])
            opened = []
            for _ in range(3):  # each call fetches every prefetch key, concurrently
                response = client.call("relapsed-all", client.request_body("pt-relapse-1"))
                assert response.status_code == 200, response.text
                opened.append(_KeepAliveFhir.connections)
    finally:
        server.shutdown()
        server.server_close()
    # n keys at a time need at most n connections; without reuse three calls would open 3 n
    assert opened[-1] <= keys, (opened, keys)
