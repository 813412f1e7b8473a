"""A client that behaves like the CDS Hooks sandbox, and the servers the tests run against.

- :class:`Signer`: an ES384 key pair, its JWKS file, and JWTs the way the sandbox makes them.
- :func:`serve`: the Flask app over real HTTP (werkzeug ``make_server`` on 127.0.0.1, on the
  port of the app's public base URL when that is a local one, so JWT audiences match).
- :class:`SandboxClient`: resolves prefetch templates itself against a FHIR server (searches as
  ``POST {type}/_search`` with a form body first, then GET), calls the service, posts feedback.
- :func:`start_fhir_server`: the in-memory FHIR server (``tests/fhir_server``) under Node.
- :func:`assessed_by`: a stand-in for the assessment of a call's resources.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from werkzeug.serving import make_server

from service import pipeline

ISSUER = "https://sandbox.cds-hooks.org"
FHIR_SERVER_DIR = Path(__file__).resolve().parent.parent / "fhir_server"


def assessed_by(monkeypatch: pytest.MonkeyPatch,
                answer: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
    """``answer`` stands in for the assessment of a call's resources, whichever way the service
    read them: parsed (``assess_resources``) or straight into the lean shapes
    (``assess_lean``, ``hooks/call_text.py``)."""
    monkeypatch.setattr(pipeline, "assess_resources",
                        lambda resources, **_: answer(list(resources)))
    monkeypatch.setattr(pipeline, "assess_lean", lambda record, **_: answer(record.resources))


class Signer:
    def __init__(self, folder: Path, issuer: str = ISSUER, kid: str = "sandbox-key-1") -> None:
        self.issuer, self.kid = issuer, kid
        self.key = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": kid, "alg": "ES384", "use": "sig"})
        self.jwks_path = folder / f"jwks-{kid}.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))

    def claims(self, aud: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": aud, "iat": now, "exp": now + 300,
                  "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, aud: str, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        return jwt.encode(self.claims(aud, **claims), self.key, algorithm="ES384",
                          headers={"kid": self.kid, "typ": "JWT", **(headers or {})})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app's base URL while it serves on a real socket."""
    public = urlsplit(app.config.get("PUBLIC_BASE_URL") or "")
    port = public.port if public.hostname == "127.0.0.1" and public.port else 0
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class SandboxClient:
    def __init__(self, base_url: str, signer: Signer | None, *, fhir_server: str | None = None,
                 access_token: str | None = None) -> None:
        self.base_url, self.signer = base_url, signer
        self.fhir_server, self.access_token = fhir_server, access_token
        self.http = requests.Session()

    def _headers(self, url: str) -> dict[str, str]:
        if self.signer is None:
            return {}
        return {"Authorization": f"Bearer {self.signer.token(url)}"}

    def discovery(self) -> requests.Response:
        url = f"{self.base_url}/cds-services"
        return self.http.get(url, headers=self._headers(url), timeout=10)

    def resolve_prefetch(self, templates: dict[str, str], patient_id: str) -> dict[str, Any]:
        """Fill every template against the FHIR server, as the sandbox does."""
        assert self.fhir_server is not None
        auth = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        prefetch: dict[str, Any] = {}
        for key, template in templates.items():
            query = template.replace("{{context.patientId}}", patient_id)
            if "?" in query:
                kind, params = query.split("?", 1)
                response = self.http.post(f"{self.fhir_server}/{kind}/_search",
                                          data=parse_qsl(params), headers=auth, timeout=10)
                if response.status_code != 200:
                    response = self.http.get(f"{self.fhir_server}/{query}", headers=auth,
                                             timeout=10)
            else:
                response = self.http.get(f"{self.fhir_server}/{query}", headers=auth, timeout=10)
            prefetch[key] = response.json() if response.status_code == 200 else None
        return prefetch

    def request_body(self, patient_id: str, prefetch: dict[str, Any] | None = None,
                     **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/example", "patientId": patient_id},
        }
        if self.fhir_server:
            body["fhirServer"] = self.fhir_server
        if self.access_token:
            body["fhirAuthorization"] = {"access_token": self.access_token, "token_type": "Bearer",
                                         "expires_in": 300, "scope": "patient/*.read",
                                         "subject": "cds-service", "patient": patient_id}
        if prefetch is not None:
            body["prefetch"] = prefetch
        body.update(extra)
        return body

    def call(self, service_id: str, body: Any, *, raw: bytes | None = None) -> requests.Response:
        url = f"{self.base_url}/cds-services/{service_id}"
        data = raw if raw is not None else json.dumps(body).encode()
        return self.http.post(url, data=data, timeout=20,
                              headers={"Content-Type": "application/json", **self._headers(url)})

    def feedback(self, service_id: str, items: list[dict[str, Any]]) -> requests.Response:
        url = f"{self.base_url}/cds-services/{service_id}/feedback"
        return self.http.post(url, json={"feedback": items}, headers=self._headers(url),
                              timeout=10)


@contextmanager
def start_fhir_server(bundles: list[Path], token: str | None = None,
                      options: tuple[str, ...] = ()) -> Iterator[str]:
    """The base URL of the Node in-memory FHIR server loaded with ``bundles`` (``options``:
    more of its command-line options, e.g. ``--auth-server URL``)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the fallback-fetch tests need Node 20+")
    if not (FHIR_SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install tests/fhir_server dependencies")
        verb = "ci" if (FHIR_SERVER_DIR / "package-lock.json").is_file() else "install"
        subprocess.run([npm, verb, "--no-audit", "--no-fund", "--prefix", str(FHIR_SERVER_DIR)],
                       check=True, capture_output=True, timeout=300)
    args = [node, "--experimental-websocket", str(FHIR_SERVER_DIR / "server.mjs"), "--port", "0"]
    if token:
        args += ["--token", token]
    process = subprocess.Popen([*args, *options, *map(str, bundles)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=FHIR_SERVER_DIR)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening "):
            process.kill()
            raise RuntimeError(f"FHIR server did not start: {line}{process.communicate()[1]}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        stop(process, grace=5)


@contextmanager
def start_gunicorn(env: dict[str, str], workers: int = 2,
                   port: int | None = None) -> Iterator[tuple[str, int]]:
    """``gunicorn service.wsgi:app`` as the Dockerfile runs it (``service.gunicorn_conf``) on a
    loopback port (a free one by default), configured by ``env`` (the ``RELAPSED_ALL_CDS_*``
    settings): its base URL and the master's pid."""
    import os
    import sys
    import tempfile

    # The test holds the listening socket and hands it to gunicorn (fd://): on a machine where
    # other test runs start servers too, no other process can take the port in between and
    # answer in gunicorn's place. A port given that is already taken fails here, loudly.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port or 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    # the log goes to a file, not a pipe: a full pipe would block gunicorn
    with listener, tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf",
             "--bind", f"fd://{listener.fileno()}", "--workers", str(workers), "service.wsgi:app"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log, text=True,
            cwd=Path(__file__).resolve().parents[2], pass_fds=(listener.fileno(),))
        try:
            _wait_until_up(process, base, log)
            yield base, process.pid
            if process.poll() is not None:  # the tests' timeouts hid why: say it
                raise RuntimeError(f"gunicorn stopped while the tests ran (exit "
                                   f"{process.returncode}): {_log_tail(log)}")
        finally:
            stop(process, grace=10)


@contextmanager
def start_serve(args: list[str], env: dict[str, str], cwd: Path,
                ready: str = "/openapi.json") -> Iterator[tuple[str, int, Path]]:
    """``relapsed-all-cds serve`` run from ``cwd`` with ``args`` and ``env``: its base URL, its
    pid (gunicorn's master) and the file its stderr (the JSON log) goes to, once ``ready``
    answers. The port is ``--port`` if given, else a free one given by the environment."""
    import os
    import sys

    env = {"RELAPSED_ALL_CDS_PORT": str(free_port()), **env}
    port = args[args.index("--port") + 1] if "--port" in args else env["RELAPSED_ALL_CDS_PORT"]
    base = f"http://127.0.0.1:{port}"
    log_path = cwd / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "service", "serve", *args],
                                   env={**os.environ, **env}, cwd=cwd, text=True,
                                   stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve did not start: {log_path.read_text()[-2000:]}")
            try:
                requests.get(base + ready, timeout=5)
                break
            except requests.RequestException:  # not listening yet
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not answer within 60 s") from None
                time.sleep(0.1)
        yield base, process.pid, log_path
    finally:
        stop(process, grace=10)


def stop(process: subprocess.Popen[str], grace: float) -> None:
    """Ask a test server to stop; kill it when it has not within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(process: subprocess.Popen[str], base: str, log: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn did not start: {_log_tail(log)}")
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not answer within 60 s")
        time.sleep(0.2)


def _log_tail(log: Any) -> str:
    log.seek(0)
    return str(log.read()[-2000:])


def worker_pids(master: int) -> list[int]:
    """The pids of a gunicorn master's workers (its child processes)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


class Listener:
    """A TCP listener that counts the connections it gets and closes them at once (a server the
    service must not reach); ``drip`` answers each with headers and then one body byte every
    50 ms, for ever."""

    def __init__(self, host: str = "127.0.0.1", *, drip: bool = False) -> None:
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.drip = drip
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                self.connections += 1
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            if not self.drip:
                return
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while True:
                conn.sendall(b" ")
                time.sleep(0.05)

    @property
    def url(self) -> str:
        host = self.sock.getsockname()[0]
        return f"http://{host}:{self.port}/fhir"
