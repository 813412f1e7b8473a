from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cds_harness import Signer, free_port, start_fhir_server

from service.app import create_app
from service.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
FHIR_TOKEN = "fhir-access-token-SECRET-1234"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[str]:
    """The Node FHIR server with the test patients; it requires the access token."""
    with start_fhir_server([DATA / "relapse_bundle.json", DATA / "no_relapse_bundle.json",
                            DATA / "administration_only_bundle.json"],
                           token=FHIR_TOKEN) as url:
        yield url


@pytest.fixture()
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path)


@pytest.fixture()
def settings(tmp_path: Path, signer: Signer) -> Settings:
    return Settings(auth_enabled=True, issuers={signer.issuer: str(signer.jwks_path)},
                    public_base_url=f"http://127.0.0.1:{free_port()}", fhir_allow_loopback=True,
                    database_url=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
                    max_body_bytes=200_000, fetch_budget_seconds=2.0,
                    fetch_timeout_seconds=1.0)


@pytest.fixture()
def app(settings: Settings) -> Any:
    return create_app(settings)
