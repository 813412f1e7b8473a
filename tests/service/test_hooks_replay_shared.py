"""A token replayed against another worker is refused too: the jti cache lives in the database
that every gunicorn worker shares (SQLite here; PostgreSQL in production)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cds_harness import Signer
from sqlalchemy import create_engine

from service.hooks.auth import DatabaseReplayCache, JwtVerifier, Unauthorized, key_source

AUDIENCE = "http://127.0.0.1:8080/cds-services/relapsed-all"


def _worker(signer: Signer, database: Path) -> JwtVerifier:
    """What one gunicorn worker builds: its own engine on the shared database."""
    engine = create_engine(f"sqlite:///{database}")
    return JwtVerifier({signer.issuer: key_source(str(signer.jwks_path), 300)},
                       replays=DatabaseReplayCache(engine))


def test_a_token_used_on_one_worker_is_refused_on_another(signer: Signer, tmp_path: Path) -> None:
    first, second = _worker(signer, tmp_path / "db.sqlite3"), _worker(signer, tmp_path / "db.sqlite3")
    token = signer.token(AUDIENCE)
    assert first.verify(f"Bearer {token}", AUDIENCE)["iss"] == signer.issuer
    with pytest.raises(Unauthorized, match="jti replayed"):
        second.verify(f"Bearer {token}", AUDIENCE)
    fresh = signer.token(AUDIENCE)  # another jti is fine
    assert second.verify(f"Bearer {fresh}", AUDIENCE)


def test_expired_entries_are_dropped(tmp_path: Path) -> None:
    cache = DatabaseReplayCache(create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    assert cache.first_use("iss", "j1", time.time() - 1)
    assert cache.first_use("iss", "j1", time.time() + 60)  # the old entry had expired
    assert not cache.first_use("iss", "j1", time.time() + 60)
