"""The Flask app: HTTP in, HTTP out. Protocol work is in ``service.hooks``, clinical work in
``service.pipeline``, cards in ``service.render``.

Every error is answered with a JSON OperationOutcome and never a stack trace; logs carry
exception types, prefetch key names and why a call was refused, never tokens or patient data.
Input of any JSON type in any field gets a 4xx; a failure of the assessment itself gets a card
saying the record could not be assessed (never silence, never a 5xx that looks like "no
advice").
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Flask, Response, g, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from service import pipeline
from service.cards.records import Record
from service.extract.bundle_text import LeanRecord
from service.fhir.client import FhirClient
from service.hooks.auth import (
    DatabaseReplayCache,
    JwtVerifier,
    Unauthorized,
    verifier_from_settings,
)
from service.hooks.call_text import lean_prefetch, read_call_text
from service.hooks.discovery import HOOK, SERVICE_ID, discovery_document, prefetch_templates
from service.hooks.feedback import FeedbackStore, InvalidFeedback, parse_feedback
from service.hooks.fhir_servers import FhirServerPolicy
from service.hooks.json_input import InvalidJson, dumps, loads_strict
from service.hooks.prefetch import PrefetchUnavailable, resolve_resources
from service.hooks.request import HookRequest, InvalidRequest, parse_hook_request
from service.mapping import CodeMaps, default_code_maps
from service.observability import record
from service.observability.operations import cards_issued, hook_called, register_operations
from service.orders.drafts import parse_orders
from service.orders.respond import check_orders
from service.orders.services import BY_ID as ORDER_SERVICES
from service.render import RenderedCard, failure_card, render_cards
from service.runtime import collector_paused
from service.settings import Settings
from service.smart.links import smart_links
from service.smart.routes import register_smart

log = logging.getLogger(__name__)

# service id → its hook: patient-view, and the order checks (service/orders/)
HOOKS = {SERVICE_ID: HOOK, **{s.id: s.hook for s in ORDER_SERVICES.values()}}
ISSUE_CODES = {400: "invalid", 401: "login", 404: "not-found", 405: "not-supported",
               412: "incomplete", 413: "too-costly", 431: "too-costly", 500: "exception"}


class ConfigurationError(ValueError):
    """The settings are unsafe or inconsistent: the service refuses to start."""


def outcome(status: int, message: str) -> Response:
    """A JSON OperationOutcome with ``status``."""
    body = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": ISSUE_CODES.get(status, "processing"),
        "diagnostics": message}]}
    response = json_response(body, status)
    record.note(reason=message)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status,
                    mimetype="application/json")


def _json_body(data: bytes | None = None) -> Any:
    try:
        return loads_strict(request.get_data(cache=False) if data is None else data)
    except InvalidJson as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None


def _checked(settings: Settings, verifier: JwtVerifier | None) -> FhirServerPolicy:
    """The FHIR server policy, once the settings are known to be safe to run with."""
    if (settings.auth_enabled or verifier is not None) and not settings.public_base_url:
        raise ConfigurationError(
            "JWT authentication is on but RELAPSED_ALL_CDS_PUBLIC_BASE_URL is not set: it gives "
            "the audience tokens must name (the URL clients call, e.g. https://cds.example.org)")
    if settings.public_base_url and not settings.public_base_url.startswith(
            ("https://", "http://")):
        raise ConfigurationError("RELAPSED_ALL_CDS_PUBLIC_BASE_URL must be an http(s) URL")
    if settings.smart_client_id and not (settings.smart_redirect_url or settings.public_base_url):
        raise ConfigurationError(
            "RELAPSED_ALL_CDS_SMART_CLIENT_ID is set but neither RELAPSED_ALL_CDS_SMART_REDIRECT_URL "
            "nor RELAPSED_ALL_CDS_PUBLIC_BASE_URL gives the SMART redirect URL")
    try:
        return FhirServerPolicy.from_settings(settings.fhir_servers,
                                              allow_loopback=settings.fhir_allow_loopback)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def create_app(settings: Settings | None = None, *, maps: CodeMaps | None = None,
               store: FeedbackStore | None = None,
               verifier: JwtVerifier | None = None) -> Flask:
    settings = settings or Settings()
    policy = _checked(settings, verifier)
    maps = maps or default_code_maps()
    store = store or FeedbackStore(settings.database_url)
    problems = []
    if settings.auth_enabled and verifier is None:
        if not settings.issuers:
            problems.append("JWT auth is on but no issuers are configured: every call gets 401")
            log.warning(problems[-1])
        verifier = verifier_from_settings(settings.issuers, settings.jwt_leeway_seconds,
                                          settings.jwks_cache_seconds,
                                          settings.jwt_max_lifetime_seconds,
                                          DatabaseReplayCache(store.engine))
    audience_base = (settings.public_base_url or "").rstrip("/")
    templates = prefetch_templates(maps)
    discovery = discovery_document(maps)
    links = smart_links(settings)

    app = Flask(__name__)
    register_operations(app, problems=problems, database_check=store.check,
                        service_ids=[s["id"] for s in discovery["services"]])
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["PUBLIC_BASE_URL"] = settings.public_base_url
    CORS(app, resources={r"/cds-services*": {"origins": settings.cors_origins}},
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Authorization", "Content-Type"])

    @app.before_request
    def limit_headers() -> Response | None:
        size = sum(len(name) + len(value) + 4 for name, value in request.headers.items())
        if size > settings.max_header_bytes:
            return outcome(431, f"request headers over {settings.max_header_bytes} bytes")
        return None

    @app.before_request
    def authenticate() -> Response | None:
        if verifier is None or request.method == "OPTIONS" \
                or not request.path.startswith("/cds-services"):
            return None
        try:
            g.jwt_claims = verifier.verify(request.headers.get("Authorization"),
                                           audience_base + request.path)
        except Unauthorized as exc:
            log.info("client authentication failed: %s", exc)
            refused = outcome(401, "unauthorized")
            record.note(reason=f"client authentication failed: {exc}")
            return refused
        return None

    @app.get("/cds-services")
    def services() -> Response:
        return json_response(discovery)

    @app.post("/cds-services/<service_id>")
    def call_service(service_id: str) -> Response:
        with collector_paused():  # a call makes no cycles worth collecting (service.runtime)
            return answer_call(service_id)

    def answer_call(service_id: str) -> Response:
        if service_id not in HOOKS:
            return outcome(404, "no such service here")
        data = request.get_data(cache=False)
        # patient-view reads its prefetch's text straight into the lean shapes when it can
        text = read_call_text(data) if service_id == SERVICE_ID else None
        hook = parse_hook_request(_json_body(data) if text is None else text.request,
                                  HOOKS[service_id])
        orders = parse_orders(hook.context, HOOKS[service_id], hook.patient_id, date.today()) \
            if service_id in ORDER_SERVICES else None
        hook_called(hook.hook_instance)
        refusal = policy.refusal(hook.fhir_server) if hook.fhir_server else None
        if refusal:
            log.info("fhirServer refused: %s", refusal)
        client = None if refusal else _client(hook, settings, policy)
        lean = None if text is None else lean_prefetch(
            text.prefetch, templates, hook.patient_id, maps, can_fetch=client is not None)
        if lean is not None:
            rendered = _rendered(hook, lean, maps, links)
        else:
            if text is not None:  # the general reading, from the body's start (prefetch too)
                hook = parse_hook_request(_json_body(data), HOOKS[service_id])
            try:
                resources = resolve_resources(hook, templates, client)
            except PrefetchUnavailable as exc:
                how = refusal or "send it in prefetch or give fhirServer access"
                return outcome(412, f"{exc}: {how}")
            rendered = _rendered(hook, resources, maps, links) if orders is None \
                else check_orders(hook, resources, orders, maps)
        return json_response({"cards": _issued(rendered, store, service_id)})

    @app.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str) -> Response:
        if service_id not in HOOKS:
            return outcome(404, "no such service here")
        try:
            items = parse_feedback(_json_body())
        except InvalidFeedback as exc:
            return outcome(400, str(exc))
        store.store(service_id, items)
        return json_response({"stored": len(items)})

    register_smart(app, settings, policy, store.engine, templates, maps)

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


def _client(hook: HookRequest, settings: Settings, policy: FhirServerPolicy) -> FhirClient | None:
    """The call's one FHIR client (its deadline starts now), if it has a server to call."""
    if hook.fhir_server is None:
        return None
    return FhirClient(hook.fhir_server, hook.access_token,
                      budget_seconds=settings.fetch_budget_seconds,
                      timeout_seconds=settings.fetch_timeout_seconds,
                      max_bytes=settings.fetch_max_bytes, peer_policy=policy.peers())


def _rendered(hook: HookRequest, resources: list[dict[str, Any]] | LeanRecord, maps: CodeMaps,
              links: list[dict[str, Any]]) -> list[RenderedCard]:
    try:
        records: dict[str, Record] = {}
        assessment = pipeline.assess_lean(
            resources, patient_id=hook.patient_id, maps=maps, records=records) \
            if isinstance(resources, LeanRecord) else pipeline.assess_resources(
            resources, patient_id=hook.patient_id, maps=maps, records=records)
        patient_ref = assessment.get("patient") or f"Patient/{hook.patient_id}"
        rendered = render_cards(assessment, hook.hook_instance, patient_ref, records,
                                summary_links=links)
    except Exception as exc:  # the assessment failed: say so on a card, never answer nothing
        log.error("assessment failed: %s", type(exc).__name__)
        rendered = [failure_card(hook.hook_instance)]
    return rendered


def _issued(rendered: list[RenderedCard], store: FeedbackStore,
            service_id: str) -> list[dict[str, Any]]:
    try:
        store.record_issued(service_id, [(r.card["uuid"], r.card_type) for r in rendered], [
            (s["uuid"], r.card_type, "+".join(sorted({a["type"] for a in s["actions"]})))
            for r in rendered for s in r.card.get("suggestions", [])])
    except Exception as exc:  # feedback on them is still accepted (as an unknown card type)
        log.error("issued cards not recorded: %s", type(exc).__name__)
    cards_issued([(r.card_type, r.card.get("indicator", "")) for r in rendered])
    return [r.card for r in rendered]
