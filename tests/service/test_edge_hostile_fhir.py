"""The service under gunicorn (2 workers, production settings: JWT auth on, a FHIR server
allowlist) against a hostile FHIR server on loopback.

Every call answers within the fetch budget + 1 s whatever the server does (drip-feeding the
headers or the body a byte at a time, a 200 MB body, a body that never ends, endless paging, a
redirect to another host), the workers' memory stays bounded, and a second loopback address
outside the allowlist (127.0.0.2) never receives a connection: not when it is ``fhirServer``,
not when a redirect or a paging link points to it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cds_harness import (
    ISSUER,
    Listener,
    SandboxClient,
    Signer,
    free_port,
    rss_mb,
    start_gunicorn,
    worker_pids,
)
from test_hooks_protocol import full_prefetch

from service.hooks.discovery import SERVICE_ID

PATIENT = "pt-relapse-1"
TOKEN = "fhir-token-123"
BUDGET = 2.0  # the default fetch budget
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def _big_bundle(megabytes: float) -> bytes:
    """A valid searchset of marrow blast Observations of the patient, just under ``megabytes``."""
    observation = {"resourceType": "Observation", "status": "final",
                   "subject": {"reference": f"Patient/{PATIENT}"},
                   "code": {"coding": [{"system": "http://loinc.org", "code": "11150-0"}]},
                   "effectiveDateTime": "2021-07-14", "valueQuantity": {"value": 5, "unit": "%"}}
    one = len(json.dumps({"resource": {**observation, "id": "o-000000"}})) + 2
    entries = [{"resource": {**observation, "id": f"o-{n:06d}"}}
               for n in range(int(megabytes * 2**20 / one) - 10)]
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries}).encode()


BIG_VALID = _big_bundle(3.9)  # under the default 4 MiB cap: accepted, parsed, assessed


def _hostile_handler(outsider: Listener) -> type[BaseHTTPRequestHandler]:
    class Hostile(BaseHTTPRequestHandler):
        """The first path segment picks the behaviour."""

        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            fault = self.path.split("/")[1]
            with contextlib.suppress(OSError):
                getattr(self, "_" + fault.replace("-", "_"))()

        def _drip_headers(self) -> None:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while True:
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.05)

        def _drip_body(self) -> None:
            self._head(10**6)
            while True:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)

        def _huge(self) -> None:  # announced: 200 MB
            self._head(200 * 2**20)
            self._stream(200)

        def _endless(self) -> None:  # a body that never ends, with no length announced
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"resourceType": "Bundle", "entry": [], "x": "')
            self._stream(10**6)

        def _big_valid(self) -> None:
            if "/Patient/" in self.path:
                self._json({"resourceType": "Patient", "id": PATIENT, "birthDate": "2012-05-02"})
                return
            self._head(len(BIG_VALID))
            self.wfile.write(BIG_VALID)

        def _paging(self) -> None:
            page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 0
            kind = self.path.split("/")[2].split("?")[0]
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            self._json({"resourceType": "Bundle", "type": "searchset", "entry": [],
                        "link": [{"relation": "next",
                                  "url": f"{host}/paging/{kind}?page={page + 1}"}]})

        def _page_elsewhere(self) -> None:
            self._json({"resourceType": "Bundle", "type": "searchset", "entry": [],
                        "link": [{"relation": "next", "url": f"{outsider.url}/Condition"}]})

        def _redirect(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"{outsider.url}/Patient/{PATIENT}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _head(self, length: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _stream(self, megabytes: int) -> None:
            chunk = b" " * 2**20
            for _ in range(megabytes):
                self.wfile.write(chunk)

        def _json(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self._head(len(data))
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Hostile


@pytest.fixture(scope="module")
def outsider() -> Listener:
    return Listener("127.0.0.2")


@pytest.fixture(scope="module")
def hostile(outsider: Listener) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _hostile_handler(outsider))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return Signer(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, hostile: str,
            signer: Signer) -> Iterator[tuple[str, int]]:
    folder: Path = tmp_path_factory.mktemp("hostile")
    port = free_port()
    env = {
        "RELAPSED_ALL_CDS_AUTH_ENABLED": "true",
        "RELAPSED_ALL_CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "RELAPSED_ALL_CDS_ISSUERS": json.dumps(
            {ISSUER: {"jwks": str(signer.jwks_path), "jku": [SANDBOX_JKU]}}),
        "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{folder / 'feedback.sqlite3'}",
        "RELAPSED_ALL_CDS_FHIR_SERVERS": json.dumps([hostile]),
    }
    with start_gunicorn(env, port=port) as running:
        yield running


def call(base: str, signer: Signer, fhir_server: str,
         prefetch: dict[str, Any] | None = None) -> tuple[requests.Response, float]:
    client = SandboxClient(base, None, fhir_server=fhir_server, access_token=TOKEN)
    url = f"{base}/cds-services/{SERVICE_ID}"
    token = signer.token(url, headers={"jku": SANDBOX_JKU})  # shaped like the sandbox's
    started = time.monotonic()
    response = requests.post(url, json=client.request_body(PATIENT, prefetch), timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
    return response, time.monotonic() - started


FAULTS = ["drip-headers", "drip-body", "huge", "endless", "paging", "redirect",
          "page-elsewhere"]


@pytest.mark.parametrize("fault", FAULTS)
def test_each_call_answers_within_the_budget(service: tuple[str, int], signer: Signer,
                                             hostile: str, outsider: Listener,
                                             fault: str) -> None:
    base, _ = service
    response, elapsed = call(base, signer, f"{hostile}/{fault}")
    print(f" {fault}: {response.status_code} in {elapsed:.2f} s", end="")
    assert elapsed < BUDGET + 1, f"{fault}: {elapsed:.2f} s"
    assert response.status_code == 412, response.text  # nothing usable came back
    assert response.json()["resourceType"] == "OperationOutcome"
    assert outsider.connections == 0


@pytest.mark.parametrize("fault", ["drip-body", "endless"])
def test_with_the_required_keys_prefetched_the_answer_is_degraded_not_lost(
        service: tuple[str, int], signer: Signer, hostile: str, fault: str) -> None:
    full = full_prefetch()
    response, elapsed = call(base := service[0], signer, f"{hostile}/{fault}",
                             {"patient": full["patient"], "conditions": full["conditions"]})
    assert elapsed < BUDGET + 1, f"{fault}: {elapsed:.2f} s ({base})"
    assert response.status_code == 200 and response.json()["cards"]


def test_a_server_outside_the_allowlist_is_refused_without_traffic(
        service: tuple[str, int], signer: Signer, outsider: Listener) -> None:
    response, elapsed = call(service[0], signer, outsider.url)
    assert response.status_code == 412
    assert "not one of the FHIR servers" in response.json()["issue"][0]["diagnostics"]
    assert outsider.connections == 0 and elapsed < 1


def test_worker_memory_stays_bounded(service: tuple[str, int], signer: Signer,
                                     hostile: str) -> None:
    base, master = service
    before = max(rss_mb(pid) for pid in worker_pids(master))
    for fault in ["huge", "endless"] * 3:  # each call: six keys of 4 MiB at most
        response, elapsed = call(base, signer, f"{hostile}/{fault}")
        assert response.status_code == 412 and elapsed < BUDGET + 1
    after = max(rss_mb(pid) for pid in worker_pids(master))
    timings = []
    for _ in range(2):  # five searches of 3.9 MiB each, all valid: parsed and assessed
        response, elapsed = call(base, signer, f"{hostile}/big-valid")
        assert response.status_code == 200
        timings.append(elapsed)
    valid = max(rss_mb(pid) for pid in worker_pids(master))
    print(f"\nworker RSS: {before:.0f} MB at start, {after:.0f} MB after 6 calls cut at the "
          f"cap, {valid:.0f} MB after 2 calls with 5 × 3.9 MiB of valid data "
          f"({', '.join(f'{t:.1f}' for t in timings)} s)")
    assert after < before + 150, (before, after)
    assert valid < before + 600, (before, valid)


@pytest.mark.parametrize("headers", [
    {"X-Pad": "x" * 9000},                                  # one field over gunicorn's limit
    {f"X-Pad-{n}": "x" * 4000 for n in range(10)},          # fields under it, too many bytes
    {f"X-Pad-{n}": "x" for n in range(120)},                # too many fields for gunicorn
], ids=["one-huge-field", "many-large-fields", "too-many-fields"])
def test_oversized_headers_get_a_json_431_under_gunicorn(service: tuple[str, int],
                                                         headers: dict[str, str]) -> None:
    response = requests.get(f"{service[0]}/cds-services", headers=headers, timeout=10)
    assert response.status_code == 431, response.text[:200]
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["resourceType"] == "OperationOutcome"
