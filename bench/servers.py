"""gunicorn (sync workers) as a subprocess on 127.0.0.1, for the service or the floor app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SERVICE_APP = "service.wsgi:app"
FLOOR_APP = "bench.floor:app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server(NamedTuple):
    url: str  # the base URL
    pid: int  # gunicorn's master; its children are the workers


@contextmanager
def gunicorn(app: str, workers: int = 2,
             max_body_bytes: int = 64 * 1024 * 1024) -> Iterator[Server]:
    """``app`` served by gunicorn with ``workers`` sync workers, auth off; the body cap fits a
    30,000-resource patient."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {**os.environ,
               "RELAPSED_ALL_CDS_AUTH_ENABLED": "false",
               "RELAPSED_ALL_CDS_DATABASE_URL": f"sqlite:///{tmp}/feedback.sqlite3",
               "RELAPSED_ALL_CDS_MAX_BODY_BYTES": str(max_body_bytes)}
        # the service as shipped (its gunicorn configuration: JSON logs, metrics, memory hooks);
        # the floor as bare as it gets
        config = ["-c", "python:service.gunicorn_conf"] if app == SERVICE_APP else []
        args = [sys.executable, "-m", "gunicorn", *config, "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--worker-class", "sync", "--timeout", "60",
                "--log-level", "warning", "--chdir", str(ROOT), app]
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=open(Path(tmp) / "gunicorn.log", "wb"))  # noqa: SIM115
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process, Path(tmp) / "gunicorn.log", workers)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    deadline = time.monotonic() + 30
    ok = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                ok += response.status == 200
        except OSError:
            time.sleep(0.1)
            continue
        if ok >= 4 * workers:  # every worker has booted (imported the app) by now, most likely
            return
    raise RuntimeError("gunicorn did not become ready within 30 s")
