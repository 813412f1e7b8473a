"""Which FHIR servers the service calls (SSRF): the allowlist, the production default (https,
public addresses), and where the access token may go. Refusals happen before any traffic."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cds_harness import Listener, SandboxClient, Signer, serve
from test_hooks_protocol import full_prefetch

from service.app import create_app
from service.fhir.client import FhirClient, FhirFetchError, peer_allowed, public_peers_only
from service.hooks.discovery import SERVICE_ID
from service.hooks.fhir_servers import FhirServerPolicy
from service.settings import Settings

PATIENT = "pt-relapse-1"


@pytest.mark.parametrize(("url", "refused"), [
    ("https://ehr.example/fhir", False),
    ("HTTPS://EHR.EXAMPLE:443/fhir/", False),           # case, default port, trailing slash
    ("https://ehr.example./fhir/R4", False),             # trailing dot, a deeper path
    ("https://ehr.example/fhir-evil", True),             # a prefix matches whole segments
    ("https://ehr.example/", True),
    ("https://ehr.example.evil.org/fhir", True),
    ("https://evil.org/ehr.example/fhir", True),
    ("http://ehr.example/fhir", True),                   # another scheme
    ("https://ehr.example:8443/fhir", True),             # another port
    ("https://user:pw@ehr.example/fhir", True),          # user information
    ("https://ehr.example@evil.org/fhir", True),
    ("https://ehr.example/fhir/../admin", True),         # dot segments
    ("https://ehr.example/fhir/%2e%2e/admin", True),
    ("https://[::1]/fhir", True),
    ("ftp://ehr.example/fhir", True),
    ("https://ehr.example/fhir?_format=json", True),     # a base URL has no query
    ("https://ehr.example/fhir#x", True),
])
def test_allowlist_compares_normalised_prefixes(url: str, refused: bool) -> None:
    policy = FhirServerPolicy.from_settings(["https://ehr.example/fhir"], allow_loopback=True)
    assert (policy.refusal(url) is not None) is refused


@pytest.mark.parametrize(("url", "refused"), [
    ("https://ehr.example.org/fhir", False),
    ("http://ehr.example.org/fhir", True),
    ("https://127.0.0.1/fhir", True),
    ("https://10.1.2.3/fhir", True),
    ("https://192.168.0.1/fhir", True),
    ("https://169.254.169.254/latest", True),            # cloud metadata
    ("https://[::1]/fhir", True),
    ("https://[::ffff:127.0.0.1]/fhir", True),
    ("https://[fd00::1]/fhir", True),
    ("https://0.0.0.0/fhir", True),
])
def test_without_an_allowlist_production_wants_https_and_public_addresses(
        url: str, refused: bool) -> None:
    policy = FhirServerPolicy.from_settings(None, allow_loopback=False)
    assert (policy.refusal(url) is not None) is refused


def test_serve_mode_allows_loopback_servers_only_besides_public_https() -> None:
    policy = FhirServerPolicy.from_settings(None, allow_loopback=True)
    assert policy.refusal("http://127.0.0.1:8080/fhir") is None
    assert policy.refusal("http://localhost:8080/fhir") is None
    assert policy.refusal("http://10.0.0.1/fhir") is not None
    assert policy.refusal("https://10.0.0.1/fhir") is not None


def test_a_bad_allowlist_entry_stops_the_service_from_starting(tmp_path: Path) -> None:
    from service.app import ConfigurationError

    with pytest.raises(ConfigurationError, match="FHIR_SERVERS"):
        create_app(Settings(auth_enabled=False, fhir_servers=["https://u:p@ehr.example/"],
                            database_url=f"sqlite:///{tmp_path / 'f.sqlite3'}"))


def test_a_host_name_resolving_to_loopback_is_refused_before_connecting() -> None:
    listener = Listener()
    client = FhirClient(f"https://localhost:{listener.port}", "tok",
                        peer_policy=public_peers_only)
    with pytest.raises(FhirFetchError, match="not allowed by the peer policy"):
        client.read("Patient/p1")
    assert listener.connections == 0


def test_the_client_keeps_its_deadline_by_itself_against_a_drip() -> None:
    listener = Listener(drip=True)
    client = FhirClient(f"http://127.0.0.1:{listener.port}", "tok", budget_seconds=0.5,
                        timeout_seconds=5, peer_policy=lambda ip: peer_allowed(
                            ip, allow_loopback=True))
    started = time.monotonic()
    with pytest.raises(FhirFetchError, match="time budget"):
        client.read("Patient/p1")
    assert time.monotonic() - started < 1.0 and listener.connections == 1


@pytest.fixture()
def production_app(tmp_path: Path, signer: Signer, settings: Settings) -> Any:
    """Production settings: no allowlist, loopback not allowed."""
    return create_app(settings.model_copy(update={"fhir_allow_loopback": False}))


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_production_refuses_a_loopback_fhir_server_with_412_and_no_traffic(
        production_app: Any, signer: Signer, scheme: str) -> None:
    listener = Listener("127.0.0.2")
    server = f"{scheme}://127.0.0.2:{listener.port}/fhir"
    with serve(production_app) as base:
        client = SandboxClient(base, signer, fhir_server=server, access_token="tok")
        response = client.call(SERVICE_ID, client.request_body(PATIENT))
    assert response.status_code == 412
    reason = response.json()["issue"][0]["diagnostics"]
    assert "https" in reason or "public address" in reason
    assert listener.connections == 0


def test_a_refused_server_does_not_matter_when_prefetch_is_complete(
        production_app: Any, signer: Signer) -> None:
    listener = Listener("127.0.0.2")
    with serve(production_app) as base:
        client = SandboxClient(base, signer, fhir_server=f"http://127.0.0.2:{listener.port}",
                               access_token="tok")
        response = client.call(SERVICE_ID, client.request_body(PATIENT, full_prefetch()))
    assert response.status_code == 200 and response.json()["cards"]
    assert listener.connections == 0


@contextlib.contextmanager
def _paging_server(next_url: str) -> Iterator[tuple[str, list[str]]]:
    """A FHIR server whose pages link to ``next_url`` ("{self}": its own base URL); the paths
    it was asked for."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            own = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = ('{"resourceType": "Bundle", "type": "searchset", "entry": [], "link": '
                    f'[{{"relation": "next", "url": "{next_url.replace("{self}", own)}"}}]}}')
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_paging_links_are_followed_only_under_the_same_base() -> None:
    listener = Listener()
    for elsewhere in (f"http://127.0.0.1:{listener.port}/fhir/Observation?page=2",  # port
                      "{self}/other/Observation?page=2",                           # path
                      "{self}/fhir-other/Observation?page=2"):
        with _paging_server(elsewhere) as (base, asked):
            client = FhirClient(f"{base}/fhir", "tok",
                                peer_policy=lambda ip: peer_allowed(ip, allow_loopback=True))
            with pytest.raises(FhirFetchError, match="outside the FHIR server"):
                client.search("Observation?patient=p")
            assert asked == ["/fhir/Observation?patient=p"]
    assert listener.connections == 0
