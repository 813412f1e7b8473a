"""Prefetch resolution: the resources the client sent, completed from ``fhirServer``.

A key that is absent, null, or holds an OperationOutcome (or anything that is not the expected
resource or Bundle) is fetched from the FHIR server; a prefetched Bundle with a ``next`` link is
followed there too. Fetches run concurrently under the call's one time budget: when it is
spent, the keys still being fetched are given up (their connections shut) and treated as
unavailable. When a required key (the
Patient, the Conditions) cannot be had, :class:`PrefetchUnavailable` names the keys and why each
was lost (→ 412). A resource whose subject/patient reference names another patient is dropped.
Logs, metrics and the request's record name keys and causes only, never content.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from itertools import chain
from typing import Any, TypeVar

from service.fhir.bundle import bundle_resources
from service.fhir.client import FhirClient, FhirFetchError, next_link
from service.hooks.discovery import PATIENT, REQUIRED_KEYS
from service.hooks.request import HookRequest
from service.observability import metrics, record

log = logging.getLogger(__name__)

T = TypeVar("T")
PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")


class PrefetchUnavailable(Exception):
    """Required keys that could not be had, each with why (``None``: not sent, not fetched)."""

    def __init__(self, causes: dict[str, str | None]) -> None:
        named = [f"{key} ({cause})" if cause else key for key, cause in causes.items()]
        super().__init__(f"required data unavailable: {', '.join(named)}")


def resolve_resources(request: HookRequest, templates: Mapping[str, str],
                      client: FhirClient | None) -> list[dict[str, Any]]:
    """Every resource of every prefetch key, each (type, id) once."""
    queries = {key: t.replace(PATIENT, request.patient_id) for key, t in templates.items()}
    found: dict[str, list[dict[str, Any]]] = {}
    to_fetch: dict[str, str] = {}
    to_follow: dict[str, dict[str, Any]] = {}
    for key, query in queries.items():
        usable = _usable(request.prefetch.get(key), query)
        if usable is None:
            to_fetch[key] = query
        elif next_link(usable) is not None and client is not None:
            to_follow[key] = usable
        else:
            found[key] = _resources(usable)
    causes: dict[str, str] = {}
    if client is not None and (to_fetch or to_follow):
        fetched, causes = _fetch_all(to_fetch, to_follow, client)
        found.update(fetched)
    unavailable = [key for key in REQUIRED_KEYS if key in queries and key not in found]
    if unavailable:
        raise PrefetchUnavailable({key: causes.get(key) for key in unavailable})
    resources = unique(chain.from_iterable(found.get(key, []) for key in queries),
                       _type_and_id)
    mine = [r for r in resources if of_patient(r, request.patient_id)]
    if len(mine) < len(resources):
        log.warning("dropped %d resources of another patient", len(resources) - len(mine))
    return mine


def _usable(value: Any, query: str) -> dict[str, Any] | None:
    """The prefetched value if it answers ``query``, else None (fetch it)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("resourceType")
    if "?" in query:
        return value if kind == "Bundle" else None
    expected_type, expected_id = query.split("/", 1)
    if kind == expected_type and value.get("id") in (None, expected_id):
        return value
    return None


def _resources(value: dict[str, Any]) -> list[dict[str, Any]]:
    return bundle_resources(value) if value.get("resourceType") == "Bundle" else [value]


def _fetch_all(to_fetch: dict[str, str], to_follow: dict[str, dict[str, Any]], client: FhirClient
               ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """The resources of each key fetched, and why each key that was not could not be."""
    def fetch(key: str) -> list[dict[str, Any]]:
        if key in to_follow:
            return client.follow(to_follow[key])
        query = to_fetch[key]
        return client.search(query) if "?" in query else [client.read(query)]

    keys = [*to_fetch, *to_follow]
    results: dict[str, list[dict[str, Any]]] = {}
    causes: dict[str, str] = {}
    outcomes: dict[str, str] = {}
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=len(keys))
    try:
        futures = {key: pool.submit(fetch, key) for key in keys}
        wait(futures.values(), timeout=client.remaining())
    finally:
        client.abort()  # wakes any fetch still blocked on its socket
        pool.shutdown(wait=False, cancel_futures=True)
    seconds = time.monotonic() - started
    for key, future in futures.items():
        if not future.done():
            causes[key], outcomes[key] = "time budget spent", "timed-out"
            log.warning("prefetch key %r could not be fetched: time budget spent", key)
            continue
        try:
            results[key] = future.result()
            outcomes[key] = "ok"
        except FhirFetchError as exc:
            causes[key], outcomes[key] = str(exc), exc.outcome
            log.warning("prefetch key %r could not be fetched: %s", key, exc)
        except Exception as exc:  # a fault of ours: the key is unavailable, the call goes on
            causes[key], outcomes[key] = "internal error", "error"
            log.error("prefetch key %r: fetch failed with %s", key, type(exc).__name__)
    metrics.observe_fetch(outcomes, seconds)
    record.note(fhir_fetch_ms=round(seconds * 1000, 1), fhir_fetch=outcomes)
    return results, causes


def of_patient(resource: dict[str, Any], patient_id: str) -> bool:
    """False for a resource that names another patient (a wrong search, a mixed Bundle)."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    for field in ("subject", "patient"):
        reference = resource.get(field)
        if isinstance(reference, dict) and isinstance(text := reference.get("reference"), str):
            return names_patient(text, patient_id)  # the first reference decides
    return True


def names_patient(reference: str, patient_id: str) -> bool:
    """Whether a reference's text names the patient, or no patient at all (``urn:uuid:…``)."""
    if reference == f"Patient/{patient_id}" and "/" not in patient_id:
        return True  # the usual reference (most of a record): what the search would find
    named = PATIENT_REFERENCE.search(reference)
    return named is None or named.group(1) == patient_id


def unique(items: Iterable[T], identity: Callable[[T], tuple[Any, Any]]) -> list[T]:
    """Each item once by its (type, id), the first kept; one whose type and id are not both
    strings (no id, or a list, an object…) is always kept."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for item in items:
        kind, rid = identity(item)
        if isinstance(kind, str) and isinstance(rid, str):
            if (kind, rid) in seen:
                continue
            seen.add((kind, rid))
        kept.append(item)
    return kept


def _type_and_id(resource: dict[str, Any]) -> tuple[Any, Any]:
    return resource.get("resourceType"), resource.get("id")
