"""The EHR's side of a SMART App Launch for the tests: the OAuth 2 authorization server
(``tests/auth_server``: oidc-provider from npm, under Node) and the FHIR server that names it in
its ``.well-known/smart-configuration`` and checks each token with it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cds_harness import start_fhir_server, stop

AUTH_SERVER_DIR = Path(__file__).resolve().parent.parent / "auth_server"


def _installed() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the SMART launch tests need Node 20+")
    if not (AUTH_SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install tests/auth_server (oidc-provider)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(AUTH_SERVER_DIR)],
                       check=True, capture_output=True, timeout=300)
    return node


@contextmanager
def start_auth_server(client_id: str, redirect_uris: list[str], launches: dict[str, str],
                      resource_secret: str) -> Iterator[str]:
    """The authorization server's URL; ``launches``: each launch value → its patient id."""
    args = [_installed(), str(AUTH_SERVER_DIR / "server.mjs"), "--port", "0", "--client-id",
            client_id, "--resource-secret", resource_secret]
    for uri in redirect_uris:
        args += ["--redirect-uri", uri]
    for launch, patient in launches.items():
        args += ["--launch", f"{launch}={patient}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=AUTH_SERVER_DIR)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"the authorization server did not start: {line}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        stop(process, grace=5)


@contextmanager
def start_smart_fhir_server(bundles: list[Path], auth_server: str,
                            resource_secret: str) -> Iterator[str]:
    with start_fhir_server(bundles, options=("--auth-server", auth_server, "--auth-secret",
                                             resource_secret)) as url:
        yield url
