"""Which FHIR servers the service may call: ``fhirServer`` comes from the caller, so it is
checked before any network traffic (SSRF).

- With an allowlist (``RELAPSED_ALL_CDS_FHIR_SERVERS``, JSON list of base URL prefixes), only
  servers under one of its prefixes are called (scheme, host, port and path compared after
  normalising; a path prefix matches whole segments). The list always applies, in every mode;
  the site vouches for those hosts, private addresses included.
- Without it, only https servers whose every address is public; ``serve`` (local sandbox use)
  also allows loopback servers, over http too, and says so at start-up.
User information in a URL (``https://user:pw@host``) is always refused.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.fhir.client import BaseUrl, PeerPolicy, peer_allowed

LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class FhirServerPolicy:
    allowed: tuple[BaseUrl, ...] | None
    allow_loopback: bool = False

    @classmethod
    def from_settings(cls, prefixes: list[str] | None, *, allow_loopback: bool) -> FhirServerPolicy:
        """Raises ValueError naming a prefix that is not a plain http(s) base URL."""
        if prefixes is None:
            return cls(None, allow_loopback)
        allowed = []
        for prefix in prefixes:
            try:
                allowed.append(_base(prefix))
            except ValueError as exc:
                raise ValueError(f"RELAPSED_ALL_CDS_FHIR_SERVERS: {prefix!r}: {exc}") from None
        return cls(tuple(allowed), allow_loopback)

    def refusal(self, url: str) -> str | None:
        """Why the service will not call ``url`` (None: it may)."""
        try:
            base = _base(url)
        except ValueError as exc:
            return f"fhirServer refused: {exc}"
        if self.allowed is not None:
            if not any(prefix.contains(base) for prefix in self.allowed):
                return "fhirServer is not one of the FHIR servers this service may call"
            return None
        if _ip_literal(base.host) and not peer_allowed(base.host,
                                                       allow_loopback=self.allow_loopback):
            return "fhirServer is not a public address"
        if base.scheme == "https" or (self.allow_loopback and _loopback_host(base.host)):
            return None
        return "fhirServer must be an https URL"

    def peers(self) -> PeerPolicy:
        """Which addresses a connection may reach: any with an allowlist (it names the hosts),
        else public ones (and loopback where allowed)."""
        if self.allowed is not None:
            return lambda ip: True
        loopback = self.allow_loopback
        return lambda ip: peer_allowed(ip, allow_loopback=loopback)


def _base(url: str) -> BaseUrl:
    """A base URL: a plain http(s) URL without query or fragment (ValueError says why not)."""
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise ValueError("a base URL has no query or fragment")
    return BaseUrl.parse(url)


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
