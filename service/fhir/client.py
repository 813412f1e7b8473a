"""Fallback fetch from the EHR's FHIR server when prefetch did not bring the data.

Every call shares one time budget (the hook must answer in about half a second to two seconds);
each request gets the smaller of its own timeout and what is left of the budget. Connection
errors are retried once (urllib3 ``Retry``). Paging follows ``Bundle.link`` ``next`` only on the
same server, so the access token never leaves for another host. Neither the token, nor the
URLs (they hold the patient id), nor any response content is ever logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from service.fhir.bundle import bundle_resources

FHIR_JSON = "application/fhir+json"


# urllib3 logs request URLs (with the patient id in the search) at DEBUG and on each retry at
# WARNING: keep them out of the logs of this process.
for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(lambda record: False)


class FhirFetchError(Exception):
    """The data could not be fetched; the message names the cause, never the content."""


def _session() -> requests.Session:
    retry = Retry(total=1, connect=1, read=0, status=0, other=0, backoff_factor=0,
                  allowed_methods=frozenset({"GET"}), raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class FhirClient:
    """Reads and searches against one FHIR server with one access token and one time budget."""

    def __init__(self, base_url: str, access_token: str | None, *, budget_seconds: float = 2.0,
                 timeout_seconds: float = 1.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": FHIR_JSON}
        if access_token:
            self._headers["Authorization"] = f"Bearer {access_token}"
        self._deadline = time.monotonic() + budget_seconds
        self._timeout = timeout_seconds
        self._session = session or _session()

    def read(self, relative: str) -> dict[str, Any]:
        """The resource at ``relative`` (e.g. ``Patient/123``)."""
        return self._get(f"{self.base_url}/{relative.lstrip('/')}")

    def search(self, relative: str) -> list[dict[str, Any]]:
        """The resources of a search (``Type?params``), every page followed."""
        return self.follow(self._get(f"{self.base_url}/{relative.lstrip('/')}"))

    def follow(self, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        """The resources of a search Bundle and of the pages its ``next`` links lead to."""
        resources: list[dict[str, Any]] = []
        seen: set[str] = set()
        page: dict[str, Any] | None = bundle
        while page is not None:
            if page.get("resourceType") != "Bundle":
                raise FhirFetchError(f"expected a Bundle, got {_kind(page)}")
            resources += bundle_resources(page)
            link = next_link(page)
            if link is None:
                break
            if link in seen:
                raise FhirFetchError("paging loops back to a page already read")
            seen.add(link)
            page = self._get(self._same_server(link))
        return resources

    def _same_server(self, url: str) -> str:
        base, link = urlsplit(self.base_url), urlsplit(url)
        if (link.scheme, link.netloc) != (base.scheme, base.netloc):
            raise FhirFetchError("a paging link points to another server")
        return url

    def _get(self, url: str) -> dict[str, Any]:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise FhirFetchError("time budget spent")
        try:
            response = self._session.get(url, headers=self._headers,
                                         timeout=min(self._timeout, remaining))
        except requests.RequestException as exc:
            raise FhirFetchError(_cause(exc)) from exc
        if response.status_code != 200:
            raise FhirFetchError(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise FhirFetchError("response is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            raise FhirFetchError("response is not a FHIR resource")
        return data


def next_link(bundle: dict[str, Any]) -> str | None:
    """The URL of a Bundle's ``next`` page, if any."""
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
    return None


def _cause(exc: requests.RequestException) -> str:
    # With retries configured, a read timeout reaches requests as a ConnectionError wrapping
    # urllib3's MaxRetryError whose reason is the timeout.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    timeout = isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError)  # a refused connect subclasses it
    if isinstance(exc, requests.Timeout) or timeout:
        return "timed out"
    return f"connection failed ({type(exc).__name__})"


def _kind(data: dict[str, Any]) -> str:
    return str(data.get("resourceType", "something else"))
