"""Service configuration, read from environment variables prefixed ``RELAPSED_ALL_CDS_``.

Production defaults are the safe ones: JWT authentication is on. ``ISSUERS`` is a JSON object
mapping each trusted ``iss`` to its JWKS, given as an https URL or a file path, e.g.
``RELAPSED_ALL_CDS_ISSUERS='{"https://sandbox.cds-hooks.org":
"https://sandbox.cds-hooks.org/.well-known/jwks.json"}'``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAPSED_ALL_CDS_", extra="ignore")

    auth_enabled: bool = True
    issuers: dict[str, str] = Field(default_factory=dict)
    # The service's public base URL (scheme://host[:port][/prefix]) when behind a proxy: the JWT
    # `aud` is checked against it. Unset: the URL of the request as this process received it.
    public_base_url: str | None = None
    jwt_leeway_seconds: int = 30
    jwks_cache_seconds: int = 300
    database_url: str = "sqlite:///relapsed-all-cds-feedback.sqlite3"
    max_body_bytes: int = 5 * 1024 * 1024
    fetch_budget_seconds: float = 2.0
    fetch_timeout_seconds: float = 1.0
    cors_origins: str = "*"
