"""The operator's side of the HTTP app: a log line and metrics for every request, and the
routes ``/healthz`` (can the service answer?), ``/metrics`` (Prometheus) and ``/openapi.json``
(the HTTP API). :func:`register_operations` adds them to the Flask app; the request handlers
report what they learn with :func:`hook_called`, :func:`cards_issued` and :mod:`record`.

The log line of a request carries its id (``X-Request-ID``: the caller's when it is a plain
token, else a new one, and sent back), method, route (the pattern, never the path as sent),
service, status, duration, and what the handlers noted: the hook instance, the cards, the FHIR
fetch time and outcome per key, why the call was refused. Never a token, a URL as sent, or
anything read from a record.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Collection
from importlib import resources

from flask import Flask, Response, g, request

from service.observability import metrics, record

log = logging.getLogger("service.requests")

REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")
HOOK_INSTANCE = re.compile(r"[A-Za-z0-9\-]{1,64}")  # a UUID, or something as harmless


def register_operations(app: Flask, *, problems: Collection[str], database_check: Callable[[], None],
                        service_ids: Collection[str]) -> None:
    """Call first on a new app, so the request hooks run before any other. ``/healthz`` fails
    with the ``problems`` (settings that keep the service from answering) and when
    ``database_check`` raises."""
    openapi = resources.files("service").joinpath("schemas/openapi.json").read_bytes()

    @app.before_request
    def start() -> None:
        given = request.headers.get("X-Request-ID", "")
        record.begin(given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)
        g.started = time.perf_counter()

    @app.after_request
    def report(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        facts = record.end()
        endpoint = request.endpoint or "unmatched"
        service = _service(service_ids)
        metrics.observe_request(endpoint, service, response.status_code, seconds)
        response.headers["X-Request-ID"] = facts["request_id"]
        line = {"method": request.method, "route": request.url_rule and request.url_rule.rule,
                "service": service, "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1), **facts}
        log.info("request", extra={k: v for k, v in line.items() if v})
        return response

    @app.get("/healthz")
    def healthz() -> Response:
        failing = list(problems)
        try:
            database_check()
        except Exception as exc:  # any driver's error: the database cannot be used
            failing.append(f"the database cannot be reached ({type(exc).__name__})")
        body = {"status": "fail", "problems": failing} if failing else {"status": "ok"}
        return Response(json.dumps(body), status=503 if failing else 200,
                        mimetype="application/json")

    @app.get("/metrics")
    def metrics_page() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.get("/openapi.json")
    def openapi_document() -> Response:
        return Response(openapi, mimetype="application/json")


def hook_called(hook_instance: str) -> None:
    """Note the hook instance of the call (what the EHR logs too), if it is a plain id."""
    record.note(hookInstance=hook_instance if HOOK_INSTANCE.fullmatch(hook_instance)
                else "(not a plain id)")


def cards_issued(cards: Collection[tuple[str, str]]) -> None:
    """Note and count the cards answered, as (card type, indicator) pairs."""
    record.note(cards=len(cards))
    metrics.observe_cards(cards)


def _service(service_ids: Collection[str]) -> str:
    """The CDS service a request was for ("unknown" for an id not served; "" for none)."""
    named = (request.view_args or {}).get("service_id")
    if named is None:
        return ""
    return named if named in service_ids else "unknown"

