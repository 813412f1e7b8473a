"""The summary card's ``smart`` link to this service's SMART app (the relapse view)."""

from __future__ import annotations

from typing import Any

from service.settings import Settings

LAUNCH_PATH = "/smart/launch"
CALLBACK_PATH = "/smart/callback"
APP_CONTEXT = "view=relapse"


def smart_links(settings: Settings) -> list[dict[str, Any]]:
    """The link, when SMART launch is configured (a client id and the public base URL)."""
    if not settings.smart_client_id or not settings.public_base_url:
        return []
    return [{"label": "Relapse view: timeline and MRD chart", "type": "smart",
             "url": settings.public_base_url.rstrip("/") + LAUNCH_PATH,
             "appContext": APP_CONTEXT}]


def redirect_url(settings: Settings) -> str:
    """Where the authorization server sends the user back (``SMART_REDIRECT_URL``, else the
    public base URL's ``/smart/callback``)."""
    if settings.smart_redirect_url:
        return settings.smart_redirect_url
    return (settings.public_base_url or "").rstrip("/") + CALLBACK_PATH
