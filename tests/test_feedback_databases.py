"""The feedback store against the databases it ships for: SQLite (default) and a real PostgreSQL
server started for the test (skipped, with the reason, where PostgreSQL is not installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.hooks.feedback import FeedbackStore, parse_feedback

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    return found or (str(PG_BIN / name) if (PG_BIN / name).exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    pytest.importorskip("psycopg")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            pytest.skip("running as root and no 'postgres' user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="feedback-pg-"))
    os.chmod(data, 0o777)
    port = _free_port()
    cluster = data / "cluster"
    subprocess.run([*as_user, initdb, "-D", str(cluster), "-A", "trust", "-U", "cds"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(cluster), "-w", "-l", str(data / "log"), "-o",
                    f"-p {port} -k {data} -h 127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://cds@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(cluster), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FeedbackStore:
    if request.param == "sqlite":
        return FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
    url = request.getfixturevalue("postgres_url")
    fresh = FeedbackStore(url)
    with fresh.engine.begin() as conn:  # each test starts empty
        for table in ("feedback", "issued_cards"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    return fresh


def test_feedback_is_stored_once_per_delivery_and_reported(store: FeedbackStore) -> None:
    store.record_cards("relapsed-all", [("card-1", "recommendation/hsct-cr2"),
                                        ("card-2", "warning/cd19-negative")])
    store.record_cards("relapsed-all", [("card-1", "recommendation/hsct-cr2")])  # re-issued
    batch = parse_feedback({"feedback": [
        {"card": "card-1", "outcome": "accepted", "outcomeTimestamp": "2024-03-01T10:00:00Z",
         "acceptedSuggestions": [{"id": "s-1"}]},
        {"card": "card-2", "outcome": "overridden", "outcomeTimestamp": "2024-03-01T10:01:00Z",
         "overrideReason": {"reason": {"system": "urn:x", "code": "already-aware",
                                       "display": "Already aware"}}},
        {"card": "card-9", "outcome": "overridden", "outcomeTimestamp": "2024-03-01T10:02:00Z"},
    ]})
    store.store("relapsed-all", batch)
    store.store("relapsed-all", batch)  # the EHR delivers the same batch again
    report = store.report()
    assert report["recommendation/hsct-cr2"]["accepted"] == 1
    assert report["warning/cd19-negative"]["overridden"] == 1
    assert report["warning/cd19-negative"]["override_reasons"][0]["code"] == "already-aware"
    assert report["unknown"]["overridden"] == 1


def test_token_replay_cache_is_shared_through_the_database(store: FeedbackStore) -> None:
    import time

    from service.hooks.auth import DatabaseReplayCache

    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS seen_tokens")
    worker_a, worker_b = DatabaseReplayCache(store.engine), DatabaseReplayCache(store.engine)
    expires = time.time() + 60
    assert worker_a.first_use("https://ehr.example", "jti-1", expires)
    assert not worker_b.first_use("https://ehr.example", "jti-1", expires)
    assert worker_b.first_use("https://ehr.example", "jti-2", expires)
