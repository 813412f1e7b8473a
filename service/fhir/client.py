"""Fallback fetch from the EHR's FHIR server when prefetch did not bring the data.

One :class:`FhirClient` serves one hook call: every fetch of that call (connect, headers, body,
every page, every key) shares one deadline, and :meth:`FhirClient.abort` shuts the sockets still
in use when the deadline passes, so a server that drips a byte at a time cannot hold the call
(per-read timeouts alone would not stop it). Bodies are streamed and cut at a size cap per key.
All clients share one HTTP session per process (connection reuse).

The token goes only to URLs under the client's base (same scheme, host, port and path prefix):
redirects are never followed and paging links elsewhere are refused. Each new connection is
checked against the call's peer policy twice: every address the host name resolves to before
connecting, and the address actually connected to (against DNS rebinding).
Neither the token, nor the URLs (they hold the patient id), nor any content is ever logged.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from service.fhir.bundle import bundle_resources
from service.hooks.json_input import InvalidJson, loads_strict

FHIR_JSON = "application/fhir+json"
CHUNK_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")  # what a log line may name

# urllib3 logs request URLs (with the patient id in the search) at DEBUG and on each retry at
# WARNING: keep them out of the logs of this process.
for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(lambda record: False)

PeerPolicy = Callable[[str], bool]  # an IP address (text) → may we connect to it?


class FhirFetchError(Exception):
    """The data could not be fetched; the message names the cause, never the content.

    ``outcome`` is its kind, for metrics: ``timed-out`` (the time budget or a read timeout),
    ``refused`` (the server refused the connection), ``not-allowed`` (this service's policy: the
    peer address, a URL outside the base), ``unreachable`` (the name does not resolve, the
    connection failed otherwise), ``http-error``, ``too-large`` or ``invalid`` (not what FHIR
    answers)."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


# --- base URLs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BaseUrl:
    """A URL reduced to what decides "under this base": scheme, host, port, path segments."""

    scheme: str
    host: str
    port: int
    path: tuple[str, ...]

    @classmethod
    def parse(cls, url: str) -> BaseUrl:
        """Raises ValueError (with the reason) for anything but a plain http(s) URL."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError("not an http(s) URL")
        if "@" in parts.netloc:
            raise ValueError("user information in the URL is not allowed")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise ValueError("no host")
        segments = tuple(unquote(s) for s in parts.path.split("/") if s)
        if any(s in (".", "..") or "/" in s for s in segments):
            raise ValueError("dot segments in the path are not allowed")
        return cls(scheme, host, parts.port or DEFAULT_PORTS[scheme], segments)

    def contains(self, other: BaseUrl) -> bool:
        return (other.scheme, other.host, other.port) == (self.scheme, self.host, self.port) \
            and other.path[:len(self.path)] == self.path


def is_under(base: BaseUrl, url: str) -> bool:
    try:
        return base.contains(BaseUrl.parse(url))
    except ValueError:
        return False


# --- the per-call guard and the connections that report to it ---------------------------------

class _CallGuard:
    """The sockets one call's fetch threads are using, so they can be shut at the deadline, and
    the peer policy new connections must pass."""

    def __init__(self, peer_allowed: PeerPolicy) -> None:
        self.peer_allowed = peer_allowed
        self._sockets: dict[int, socket.socket] = {}
        self._lock = threading.Lock()
        self._aborted = False

    def check_host(self, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            return  # urllib3 resolves again and reports the failure as its own
        if not infos or not all(self.peer_allowed(str(info[4][0])) for info in infos):
            raise _PeerRefused()

    def in_use(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        peer = sock.getpeername()[0]
        if not self.peer_allowed(str(peer)):
            sock.close()
            raise _PeerRefused()
        with self._lock:
            if self._aborted:
                _shut(sock)
            self._sockets[threading.get_ident()] = sock

    def done(self) -> None:
        with self._lock:
            self._sockets.pop(threading.get_ident(), None)

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            for sock in self._sockets.values():
                _shut(sock)
            self._sockets.clear()


class _PeerRefused(OSError):
    """A connection to an address the policy does not allow (not retried, not connected)."""


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_active = threading.local()


def _guard() -> _CallGuard | None:
    guard: _CallGuard | None = getattr(_active, "guard", None)
    return guard


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self, super()._new_conn)

    def getresponse(self) -> Any:
        _watched(self.sock)
        return super().getresponse()


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self, super()._new_conn)

    def getresponse(self) -> Any:
        _watched(self.sock)
        return super().getresponse()


def _guarded_new_conn(conn: HTTPConnection, connect: Callable[[], socket.socket]) -> socket.socket:
    guard = _guard()
    if guard is None:
        raise _PeerRefused()  # shared pools are only used inside a guarded fetch
    guard.check_host(conn.host, conn.port)
    sock = connect()
    guard.in_use(sock)
    return sock


def _watched(sock: socket.socket | None) -> None:
    guard = _guard()
    if guard is not None:
        guard.in_use(sock)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}


_session: requests.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> requests.Session:
    """The process's one HTTP session (made on first use, so after a gunicorn fork)."""
    global _session
    with _session_lock:
        if _session is None:
            retry = Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0,
                          backoff_factor=0, allowed_methods=frozenset({"GET"}),
                          raise_on_status=False, raise_on_redirect=False)
            session = requests.Session()
            session.trust_env = False  # no proxy, netrc or CA settings from the environment
            adapter = _GuardedAdapter(max_retries=retry, pool_connections=32, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _session = session
        return _session


def public_peers_only(ip: str) -> bool:
    """The default peer policy: globally routable unicast addresses only."""
    return peer_allowed(ip, allow_loopback=False)


def peer_allowed(ip: str, *, allow_loopback: bool) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast


# --- the client ----------------------------------------------------------------------------------

class FhirClient:
    """Reads and searches against one FHIR server for one hook call: one access token, one
    deadline, one byte cap per read or search (all its pages), one peer policy."""

    def __init__(self, base_url: str, access_token: str | None, *, budget_seconds: float = 2.0,
                 timeout_seconds: float = 1.0, max_bytes: int = 4 * 1024 * 1024,
                 peer_policy: PeerPolicy = public_peers_only) -> None:
        self.base_url = base_url.rstrip("/")
        self._base = BaseUrl.parse(self.base_url)
        self._headers = {"Accept": FHIR_JSON}
        if access_token:
            self._headers["Authorization"] = f"Bearer {access_token}"
        self._deadline = time.monotonic() + budget_seconds
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._guard = _CallGuard(peer_policy)
        self._watchdog: threading.Timer | None = None
        self._watchdog_lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def abort(self) -> None:
        """Shut every connection still in use by this call: done by a timer at the deadline,
        and by the caller once it has what it waits for."""
        with self._watchdog_lock:
            if self._watchdog is not None:
                self._watchdog.cancel()
        self._guard.abort()

    def _watch(self) -> None:
        """Start the deadline's timer with the first request (a client that fetches nothing
        costs no thread)."""
        with self._watchdog_lock:
            if self._watchdog is None:
                self._watchdog = threading.Timer(self.remaining(), self._guard.abort)
                self._watchdog.daemon = True
                self._watchdog.start()

    def read(self, relative: str) -> dict[str, Any]:
        """The resource at ``relative`` (e.g. ``Patient/123``)."""
        return self._get(f"{self.base_url}/{relative.lstrip('/')}", _Allowance(self._max_bytes))

    def search(self, relative: str) -> list[dict[str, Any]]:
        """The resources of a search (``Type?params``), every page followed."""
        allowance = _Allowance(self._max_bytes)
        return self._follow(self._get(f"{self.base_url}/{relative.lstrip('/')}", allowance),
                            allowance)

    def follow(self, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        """The resources of a search Bundle and of the pages its ``next`` links lead to."""
        return self._follow(bundle, _Allowance(self._max_bytes))

    def _follow(self, bundle: dict[str, Any], allowance: _Allowance) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = []
        seen: set[str] = set()
        page: dict[str, Any] | None = bundle
        while page is not None:
            if page.get("resourceType") != "Bundle":
                raise FhirFetchError(f"expected a Bundle, got {_kind(page)}", "invalid")
            resources += bundle_resources(page)
            link = next_link(page)
            if link is None:
                break
            url = urljoin(self.base_url + "/", link)
            if url in seen:
                raise FhirFetchError("paging loops back to a page already read", "invalid")
            seen.add(url)
            if not is_under(self._base, url):
                raise FhirFetchError("a paging link points outside the FHIR server's base",
                                     "not-allowed")
            page = self._get(url, allowance)
        return resources

    def _get(self, url: str, allowance: _Allowance) -> dict[str, Any]:
        if not is_under(self._base, url):  # the token goes nowhere else
            raise FhirFetchError("a URL outside the FHIR server's base", "not-allowed")
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise FhirFetchError("time budget spent", "timed-out")
        self._watch()
        _active.guard = self._guard
        try:
            return checked_resource(
                loads_strict(self._body(url, min(self._timeout, remaining), allowance)))
        except InvalidJson as exc:
            raise FhirFetchError("response is not JSON", "invalid") from exc
        finally:
            self._guard.done()
            _active.guard = None

    def _body(self, url: str, timeout: float, allowance: _Allowance) -> bytearray:
        try:
            response = shared_session().get(url, headers=self._headers, timeout=timeout,
                                            stream=True, allow_redirects=False)
        except requests.RequestException as exc:
            raise self._failure(exc) from exc
        with response:
            if response.is_redirect:
                raise FhirFetchError(f"HTTP {response.status_code} (redirects are not followed)",
                                     "http-error")
            if response.status_code != 200:
                raise FhirFetchError(f"HTTP {response.status_code}", "http-error")
            allowance.expect(response.headers.get("Content-Length"))
            body = bytearray()
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    allowance.take(len(chunk))
                    if time.monotonic() > self._deadline:
                        raise FhirFetchError("time budget spent", "timed-out")
                    body += chunk
            except requests.RequestException as exc:
                raise self._failure(exc) from exc
        return body

    def _failure(self, exc: requests.RequestException) -> FhirFetchError:
        if time.monotonic() >= self._deadline:  # the watchdog shut the connection
            return FhirFetchError("time budget spent", "timed-out")
        return FhirFetchError(*_cause(exc))


class _Allowance:
    """The bytes one read or search (all its pages) may still receive."""

    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes

    def expect(self, content_length: str | None) -> None:
        if content_length is not None and content_length.isdigit() \
                and int(content_length) > self.left:
            raise FhirFetchError("response larger than the size cap", "too-large")

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise FhirFetchError("response larger than the size cap", "too-large")


def checked_resource(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FhirFetchError("response is not a FHIR resource", "invalid")
    return data


def next_link(bundle: dict[str, Any]) -> str | None:
    """The URL of a Bundle's ``next`` page, if any."""
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
    return None


def _cause(exc: requests.RequestException) -> tuple[str, str]:
    """Why a request failed, and the outcome it counts as."""
    # With retries configured, a read timeout reaches requests as a ConnectionError wrapping
    # urllib3's MaxRetryError whose reason is the timeout.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    timeout = isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError)  # a refused connect subclasses it
    if isinstance(exc, requests.Timeout) or timeout:
        return "timed out", "timed-out"
    if _caused_by(exc, _PeerRefused):
        return "address not allowed by the peer policy", "not-allowed"
    if _caused_by(exc, ConnectionRefusedError):
        return "connection refused by the FHIR server", "refused"
    if _caused_by(exc, urllib3.exceptions.NameResolutionError):
        return "the FHIR server's host name does not resolve", "unreachable"
    return f"connection failed ({type(exc).__name__})", "unreachable"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether an exception of ``kind`` is somewhere in the chain that led to ``exc``."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        if isinstance(item, kind):
            return True
        seen.add(id(item))
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return False


def _kind(data: dict[str, Any]) -> str:
    kind = data.get("resourceType")
    return kind if isinstance(kind, str) and RESOURCE_TYPE.fullmatch(kind) else "something else"
