"""A CDS Hooks call checked and reduced to what the service uses.

Unknown fields (``extension``, ``context.encounterId`` …) are allowed and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from service.hooks.discovery import HOOK

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# What an HTTP header can carry: visible ASCII (RFC 6750's b64token is a subset of it).
ACCESS_TOKEN = re.compile(r"[\x21-\x7e]{1,8192}")


class InvalidRequest(ValueError):
    """The call is not a valid CDS Hooks request; the message says why (no patient data)."""


@dataclass(frozen=True)
class HookRequest:
    hook_instance: str
    patient_id: str
    fhir_server: str | None
    access_token: str | None
    prefetch: dict[str, Any]
    context: dict[str, Any]


def parse_hook_request(body: Any, hook: str = HOOK) -> HookRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    if body.get("hook") != hook:
        raise InvalidRequest(f"'hook' must be '{hook}'")
    hook_instance = body.get("hookInstance")
    if not isinstance(hook_instance, str) or not hook_instance:
        raise InvalidRequest("'hookInstance' is required")
    context = body.get("context")
    if not isinstance(context, dict) or not context:
        raise InvalidRequest("'context' is required")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not FHIR_ID.fullmatch(patient_id):
        raise InvalidRequest("'context.patientId' must be a FHIR id")
    prefetch = body.get("prefetch")
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise InvalidRequest("'prefetch' must be an object")
    fhir_server, access_token = _fhir_access(body)
    return HookRequest(hook_instance, patient_id, fhir_server, access_token, prefetch, context)


def _fhir_access(body: dict[str, Any]) -> tuple[str | None, str | None]:
    server = body.get("fhirServer")
    auth = body.get("fhirAuthorization")
    if server is not None and not _http_url(server):
        raise InvalidRequest("'fhirServer' must be an http(s) URL")
    if auth is None:
        return server, None
    if server is None:
        raise InvalidRequest("'fhirServer' is required with 'fhirAuthorization'")
    if not isinstance(auth, dict) or not isinstance(auth.get("access_token"), str):
        raise InvalidRequest("'fhirAuthorization.access_token' is required")
    if not ACCESS_TOKEN.fullmatch(auth["access_token"]):
        raise InvalidRequest("'fhirAuthorization.access_token' must be 1 to 8192 visible ASCII "
                             "characters")
    return server, auth["access_token"]


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:  # urlsplit raises ValueError on e.g. an unclosed IPv6 bracket ("http://[")
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
