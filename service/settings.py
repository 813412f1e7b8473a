"""Service configuration, read from environment variables prefixed ``RELAPSED_ALL_CDS_``.

Production defaults are the safe ones: JWT authentication is on (and then ``PUBLIC_BASE_URL``
is required: it gives the expected ``aud``), FHIR servers must be https with public addresses
unless ``FHIR_SERVERS`` lists the ones to call. ``ISSUERS`` is a JSON object mapping each
trusted ``iss`` to its JWKS, as an https URL or a file path, or to an object
``{"jwks": "<URL or file>", "jku": ["<allowed jku URL>", ...]}``, e.g.
``RELAPSED_ALL_CDS_ISSUERS='{"https://sandbox.cds-hooks.org":
{"jwks": "/etc/cds/sandbox-jwks.json", "jku": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"]}}'``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.runtime import DEFAULT_DATABASE_URL, cores


class IssuerKeys(BaseModel):
    """Where an issuer's keys are (``jwks``), and the ``jku`` header values its tokens may name
    (verified against those same keys: the service never fetches a URL a token names)."""

    jwks: str
    jku: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAPSED_ALL_CDS_", extra="ignore")

    auth_enabled: bool = True
    issuers: dict[str, str | IssuerKeys] = Field(default_factory=dict)
    # The service's public base URL (scheme://host[:port][/prefix]): the JWT `aud` is this plus
    # the path called. Required with auth on (never taken from the request's Host header).
    public_base_url: str | None = None
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = 3600
    jwks_cache_seconds: int = 300
    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = 5 * 1024 * 1024
    max_header_bytes: int = 32 * 1024
    # FHIR fallback fetch: the base URL prefixes it may call (None: https, public addresses),
    # whether loopback servers are allowed (``serve`` only), its total time and body size cap.
    fhir_servers: list[str] | None = None
    fhir_allow_loopback: bool = False
    fetch_budget_seconds: float = 2.0
    fetch_timeout_seconds: float = 1.0
    fetch_max_bytes: int = 4 * 1024 * 1024  # parsed JSON takes about 7 times its size
    cors_origins: str = "*"
    # SMART App Launch (the relapse view, opened from the summary card's smart link): on when a
    # client id is set. The launching FHIR server must pass the same rules as fhirServer
    # (FHIR_SERVERS). The redirect URL defaults to PUBLIC_BASE_URL + /smart/callback.
    smart_client_id: str | None = None
    smart_redirect_url: str | None = None
    smart_scope: str = "launch patient/*.read"
    smart_launch_seconds: int = 600  # how long a launch may wait for its callback
    # The server (``serve`` and the gunicorn configuration ``service.gunicorn_conf``): where it
    # listens and how many worker processes it runs (CPU-bound work: one per core).
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default_factory=lambda: cores(), ge=1, le=64)
