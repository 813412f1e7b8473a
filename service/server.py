"""The production server: gunicorn, sync workers (the work is CPU-bound: one per core).

Used two ways, configured alike: ``relapsed-all-cds serve`` runs :class:`Server` on an app it
built (and checked) first; ``gunicorn -c python:service.gunicorn_conf service.wsgi:app`` (the
Dockerfile) reads :func:`gunicorn_options` from that module and builds the app in each worker.

Metrics are counted across workers in files under ``PROMETHEUS_MULTIPROC_DIR``: given by the
operator (emptied at start: counts of a previous run would be added) or a temporary folder made
here and removed at exit. It must be set before prometheus_client is imported.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from service import worker_memory
from service.observability.logs import LOGGING

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client reads it at import
TIMEOUT_SECONDS = 30  # a worker silent this long is restarted (a call takes well under 1 s)
_made_here: list[str] = []


def prepare_metrics_dir() -> None:
    """An empty folder for the workers' metric files, in ``PROMETHEUS_MULTIPROC_DIR``."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prepare_metrics_dir() must run before prometheus_client is imported")
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="relapsed-all-cds-metrics-")
    _made_here.append(os.environ[MULTIPROC_ENV])


def _on_exit(server: Any) -> None:
    for folder in _made_here:
        shutil.rmtree(folder, ignore_errors=True)


class ServiceLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger without its access line: the app logs each request itself (the
    ``request`` line: what a call's story needs, no patient data); gunicorn built the access
    line's fields on every call only for its logger to drop them (about 1% of a call)."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "timeout": TIMEOUT_SECONDS,
        "logconfig_dict": LOGGING,  # JSON lines; requests are logged by the app itself
        "logger_class": ServiceLogger,
        "proc_name": "relapsed-all-cds",
        "control_socket_disable": True,  # gunicorn ≥ 25.1: no control socket in $HOME
        "on_exit": _on_exit,
        # after a very large call a worker gives its memory back, or is replaced if it cannot
        "post_worker_init": worker_memory.post_worker_init,
        "post_request": worker_memory.post_request,
    }


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn serving an app built in this (the master) process before the workers fork."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app, self._options = app, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            if name in self.cfg.settings:  # as gunicorn does with a configuration module
                self.cfg.set(name, value)

    def load(self) -> Flask:
        return self._app
