"""The Flask app: HTTP in, HTTP out. Protocol work is in ``service.hooks``, clinical work in
``service.pipeline``, cards in ``service.render``.

Every error is answered with a JSON OperationOutcome and never a stack trace; logs carry
exception types and prefetch key names, never tokens or patient data.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from service import pipeline
from service.fhir.client import FhirClient
from service.hooks.auth import (
    DatabaseReplayCache,
    JwtVerifier,
    Unauthorized,
    verifier_from_settings,
)
from service.hooks.discovery import SERVICE_ID, discovery_document, prefetch_templates
from service.hooks.feedback import FeedbackStore, InvalidFeedback, parse_feedback
from service.hooks.prefetch import ClientFactory, PrefetchUnavailable, resolve_resources
from service.hooks.request import HookRequest, InvalidRequest, parse_hook_request
from service.mapping import CodeMaps, default_code_maps
from service.render import render_cards
from service.settings import Settings

log = logging.getLogger(__name__)

ISSUE_CODES = {400: "invalid", 401: "login", 404: "not-found", 405: "not-supported",
               412: "incomplete", 413: "too-costly", 500: "exception"}


def outcome(status: int, message: str) -> Response:
    """A JSON OperationOutcome with ``status``."""
    body = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": ISSUE_CODES.get(status, "processing"),
        "diagnostics": message}]}
    response = json_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the body is not valid JSON") from None
    except RecursionError:  # e.g. 10,000 nested lists: the parser's recursion limit
        raise InvalidRequest("the body is nested too deeply") from None


def create_app(settings: Settings | None = None, *, maps: CodeMaps | None = None,
               store: FeedbackStore | None = None,
               verifier: JwtVerifier | None = None) -> Flask:
    settings = settings or Settings()
    maps = maps or default_code_maps()
    store = store or FeedbackStore(settings.database_url)
    if settings.auth_enabled and verifier is None:
        if not settings.issuers:
            log.warning("JWT auth is on but no issuers are configured: every call gets 401")
        verifier = verifier_from_settings(settings.issuers, settings.jwt_leeway_seconds,
                                          settings.jwks_cache_seconds,
                                          DatabaseReplayCache(store.engine))
    templates = prefetch_templates(maps)
    discovery = discovery_document(maps)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    CORS(app, resources={r"/cds-services*": {"origins": settings.cors_origins}},
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Authorization", "Content-Type"])

    @app.before_request
    def authenticate() -> Response | None:
        if verifier is None or request.method == "OPTIONS" \
                or not request.path.startswith("/cds-services"):
            return None
        base = (settings.public_base_url or request.host_url).rstrip("/")
        try:
            g.jwt_claims = verifier.verify(request.headers.get("Authorization"),
                                           base + request.path)
        except Unauthorized as exc:
            log.info("client authentication failed: %s", exc)
            return outcome(401, "unauthorized")
        return None

    @app.get("/healthz")
    def health() -> Response:
        return json_response({"status": "ok"})

    @app.get("/cds-services")
    def services() -> Response:
        return json_response(discovery)

    @app.post("/cds-services/<service_id>")
    def call_service(service_id: str) -> Response:
        if service_id != SERVICE_ID:
            return outcome(404, f"no service '{service_id}' here")
        hook = parse_hook_request(_json_body())
        try:
            resources = resolve_resources(hook, templates, _client_factory(hook, settings))
        except PrefetchUnavailable as exc:
            return outcome(412, f"{exc}: send it in prefetch or give fhirServer access")
        try:
            assessment = pipeline.assess_resources(resources, patient_id=hook.patient_id)
        except Exception as exc:  # the engine failed: say so, never answer with no cards
            log.error("assessment failed: %s", type(exc).__name__)
            return outcome(500, "the assessment failed")
        patient_ref = assessment.get("patient") or f"Patient/{hook.patient_id}"
        rendered = render_cards(assessment, hook.hook_instance, patient_ref)
        store.record_cards(service_id, [(r.card["uuid"], r.card_type) for r in rendered])
        return json_response({"cards": [r.card for r in rendered]})

    @app.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str) -> Response:
        if service_id != SERVICE_ID:
            return outcome(404, f"no service '{service_id}' here")
        try:
            items = parse_feedback(_json_body())
        except InvalidFeedback as exc:
            return outcome(400, str(exc))
        store.store(service_id, items)
        return json_response({"stored": len(items)})

    @app.errorhandler(InvalidRequest)
    def invalid(exc: InvalidRequest) -> Response:
        return outcome(400, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return outcome(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__)
        return outcome(500, "internal error")

    return app


def _client_factory(hook: HookRequest, settings: Settings) -> ClientFactory | None:
    server = hook.fhir_server
    if server is None:
        return None
    return lambda: FhirClient(server, hook.access_token,
                              budget_seconds=settings.fetch_budget_seconds,
                              timeout_seconds=settings.fetch_timeout_seconds)
