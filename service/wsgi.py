"""The gunicorn entry point: ``gunicorn -c python:service.gunicorn_conf service.wsgi:app``
(configured from the environment; the configuration module adds JSON logs of gunicorn's own and
metrics across workers; without it the service still logs JSON and counts per worker).

Unsafe settings (JWT auth on without ``PUBLIC_BASE_URL``, a malformed FHIR server allowlist)
stop the workers from booting, so gunicorn refuses to start. Requests gunicorn itself refuses
before the app sees them (oversized header fields, too many headers, a malformed request line)
are answered with a JSON OperationOutcome instead of gunicorn's HTML page.
"""

from __future__ import annotations

import json
import logging
import socket
import sys

from service.app import ConfigurationError, create_app
from service.observability.logs import configure_logging
from service.runtime import tune_gc


def _json_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error`` with a JSON body; ``message`` (it may quote the request)
    is left out."""
    from gunicorn import util

    body = json.dumps({"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "too-costly" if status in (413, 431) else "invalid",
        "diagnostics": reason}]})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, (head + body).encode("latin-1"))


if "gunicorn" in sys.modules:
    import gunicorn.util

    gunicorn.util.write_error = _json_error

configure_logging()
try:
    app = create_app()
except ConfigurationError as exc:
    logging.getLogger("service").critical("refusing to start: %s", exc)
    raise
tune_gc()
