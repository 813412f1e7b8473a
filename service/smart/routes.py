"""``GET /smart/launch`` and ``GET /smart/callback``: the EHR launch, then the relapse view of
the patient in the token's context, read from the launching FHIR server with that token through
the same prefetch queries and pipeline as the cards. The token lives for the request only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from flask import Flask, Response, redirect, request
from markupsafe import escape
from sqlalchemy import Engine

from service.fhir.client import FhirClient
from service.hooks.fhir_servers import FhirServerPolicy
from service.hooks.prefetch import PrefetchUnavailable, resolve_resources
from service.hooks.request import HookRequest
from service.mapping import CodeMaps
from service.settings import Settings
from service.smart.client import (
    LaunchError,
    authorization_url,
    endpoints,
    exchange,
    new_verifier,
)
from service.smart.links import CALLBACK_PATH, LAUNCH_PATH, redirect_url
from service.smart.state import Launch, LaunchStates
from service.view import page_of_resources

log = logging.getLogger(__name__)
# The page holds patient data: never stored by a cache, never leaking the code in a Referer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def register_smart(app: Flask, settings: Settings, policy: FhirServerPolicy, engine: Engine,
                   templates: Mapping[str, str], maps: CodeMaps) -> None:
    """Add the launch and callback routes when a SMART client id is configured."""
    if not settings.smart_client_id:
        return
    client_id, redirect_to = settings.smart_client_id, redirect_url(settings)
    states = LaunchStates(engine, settings.smart_launch_seconds)
    timeout = settings.fetch_timeout_seconds

    def session() -> OAuth2Session:
        return OAuth2Session(client_id, redirect_uri=redirect_to, scope=settings.smart_scope,
                             code_challenge_method="S256")

    @app.get(LAUNCH_PATH)
    def smart_launch() -> Response:
        iss, launch = request.args.get("iss", ""), request.args.get("launch", "")
        if not iss or not launch:
            return page(400, "This address is opened by the EHR (SMART EHR launch): it needs "
                             "the iss and launch parameters.")
        refusal = policy.refusal(iss)
        if refusal:
            log.info("SMART launch refused: %s", refusal)
            return page(403, "This service does not launch from that FHIR server.")
        try:
            found = endpoints(iss, timeout)
        except LaunchError as exc:
            log.info("SMART launch failed: %s", exc)
            return page(502, str(exc))
        state, verifier = new_verifier(), new_verifier()
        states.put(Launch(state, verifier, iss, found.token))
        url = authorization_url(session(), found.authorization, iss=iss, launch=launch,
                                state=state, verifier=verifier)
        return with_headers(redirect(url, 302))

    @app.get(CALLBACK_PATH)
    def smart_callback() -> Response:
        if request.args.get("error"):
            return page(400, f"The authorization server refused the launch: "
                             f"{request.args.get('error', '')[:100]}.")
        launch = states.take(request.args.get("state", ""))
        if launch is None:
            return page(400, "This launch is unknown or has expired: open the view again "
                             "from the EHR.")
        try:
            grant = exchange(session(), launch.token_endpoint, code=request.args.get("code", ""),
                             verifier=launch.verifier, timeout=timeout)
        except LaunchError as exc:
            log.info("SMART callback failed: %s", exc)
            return page(502, str(exc))
        client = FhirClient(launch.iss, grant.access_token,
                            budget_seconds=settings.fetch_budget_seconds, timeout_seconds=timeout,
                            max_bytes=settings.fetch_max_bytes, peer_policy=policy.peers())
        hook = HookRequest("smart-launch", grant.patient, launch.iss, grant.access_token, {}, {})
        try:
            resources = resolve_resources(hook, templates, client)
        except PrefetchUnavailable as exc:
            log.info("SMART view: %s", exc)
            return page(502, "The patient's record could not be read from the FHIR server.")
        html = page_of_resources(resources, patient_id=grant.patient, maps=maps)
        return with_headers(Response(html, 200, mimetype="text/html"))


def page(status: int, message: str) -> Response:
    body = (f"<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Relapsed ALL "
            f"view</title><p id=\"message\">{escape(message)}</p></html>")
    return with_headers(Response(body, status, mimetype="text/html"))


def with_headers(response: Any) -> Response:
    response.headers.update(PRIVATE)
    return response  # type: ignore[no-any-return]
