"""The feedback store against the databases it ships for: SQLite (default) and a real PostgreSQL
server started for the test (skipped, with the reason, where PostgreSQL is not installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.exc import OperationalError

from service.hooks.auth import DatabaseReplayCache
from service.hooks.feedback import FeedbackStore, InvalidFeedback, parse_feedback
from service.hooks.tables import ATTEMPTS, PAUSE_SECONDS, create_missing_tables
from service.smart.state import Launch, LaunchStates

WORKERS = 6  # processes creating the tables at once in the race test

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
        for table in ("feedback", "issued_cards", "issued_suggestions"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    return fresh


def test_feedback_is_stored_once_per_delivery_and_reported(store: FeedbackStore) -> None:
    suggestion = ("s-1", "recommendation/hsct-cr2", "create")
    store.record_issued("relapsed-all", [("card-1", "recommendation/hsct-cr2"),
                                        ("card-2", "warning/cd19-negative")], [suggestion])
    store.record_issued("relapsed-all", [("card-1", "recommendation/hsct-cr2")],
                        [suggestion])  # re-issued
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
    assert report["recommendation/hsct-cr2"]["accepted_suggestions"] == {"create": 1}
    assert report["warning/cd19-negative"]["overridden"] == 1
    assert report["warning/cd19-negative"]["override_reasons"][0]["code"] == "already-aware"
    assert report["unknown"]["overridden"] == 1


def test_token_replay_cache_is_shared_through_the_database(store: FeedbackStore) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS seen_tokens")
    worker_a, worker_b = DatabaseReplayCache(store.engine), DatabaseReplayCache(store.engine)
    expires = time.time() + 60
    assert worker_a.first_use("https://ehr.example", "jti-1", expires)
    assert not worker_b.first_use("https://ehr.example", "jti-1", expires)
    assert worker_b.first_use("https://ehr.example", "jti-2", expires)


def _item(**fields: object) -> dict[str, object]:
    return {"card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2024-03-01T10:00:00Z",
            **fields}


def _reason(**coding: object) -> dict[str, object]:
    return {"reason": {"system": "urn:x", "code": "c", **coding}}


def test_fields_at_their_column_limits_are_stored(store: FeedbackStore) -> None:
    """PostgreSQL refuses strings longer than a column or holding NUL: what is accepted fits."""
    batch = parse_feedback({"feedback": [
        _item(card="c" * 64, overrideReason=_reason(system="s" * 255, code="k" * 128,
                                                    display="d" * 1000 + "\x00")),
        _item(card="c" * 64, outcome="accepted", acceptedSuggestions=[{"id": "x" * 1000}]),
    ]})
    store.store("relapsed-all", batch)
    reasons = store.report()["unknown"]["override_reasons"]
    assert reasons[0]["display"] == "d" * 255


@pytest.mark.parametrize("item", [
    _item(card="c" * 65), _item(card="card\x00"),
    _item(overrideReason=_reason(code="k" * 129)), _item(overrideReason=_reason(code="a\x00")),
    _item(overrideReason=_reason(system="s" * 256)),
    _item(overrideReason=_reason(system="urn:\x00")),
    _item(outcome="accepted", acceptedSuggestions=[{"id": "x" * 600}, {"id": "y" * 600}]),
    _item(outcome="accepted", acceptedSuggestions=[{"id": "x\x00"}]),
    _item(outcomeTimestamp="2024-03-01T10:00:00Z" + " " * 100),
    _item(outcomeTimestamp="0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
], ids=["card-long", "card-nul", "code-long", "code-nul", "system-long", "system-nul",
        "suggestions-long", "suggestion-nul", "stamp-long", "stamp-overflow"])
def test_fields_that_do_not_fit_are_refused_before_the_database(item: dict[str, object]) -> None:
    with pytest.raises(InvalidFeedback):
        parse_feedback({"feedback": [item]})


def test_one_instant_is_one_delivery_however_it_is_spelled(store: FeedbackStore) -> None:
    for stamp in ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00+01:00",
                  "2024-03-01T10:00:00.000+00:00", "2024-03-01T10:00:00z",
                  "2024-03-01T10:00:00"):  # no offset: UTC, as CDS Hooks says
        store.store("relapsed-all", parse_feedback({"feedback": [_item(outcomeTimestamp=stamp)]}))
    assert store.report()["unknown"]["overridden"] == 1
    store.store("relapsed-all", parse_feedback({"feedback": [
        _item(outcomeTimestamp="2024-03-01T10:00:01Z")]}))
    assert store.report()["unknown"]["overridden"] == 2


def _fresh_database(request: pytest.FixtureRequest, kind: str, tmp_path: Path, name: str) -> str:
    """The URL of a database with no tables yet."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
    server = request.getfixturevalue("postgres_url")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def _boot_at_once(url: str) -> tuple[list[FeedbackStore], list[str]]:
    """What :data:`WORKERS` workers starting at the same instant on ``url`` set up: their
    stores, and the errors that would have stopped a worker from booting."""
    together = threading.Barrier(WORKERS)
    stores: list[FeedbackStore] = []
    failures: list[str] = []

    def boot() -> None:
        together.wait()
        try:
            store = FeedbackStore(url)
            DatabaseReplayCache(store.engine)
            LaunchStates(store.engine, lifetime=600)  # with a SMART client id configured
            stores.append(store)
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=boot) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stores, failures


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_workers_starting_at_once_on_a_new_database_all_start(
        request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> None:
    """gunicorn's workers each create the tables of a new database at the same moment: one
    that lost the race used to fail to boot, and gunicorn then stopped the whole server."""
    for round_ in range(4):
        stores, failures = _boot_at_once(_fresh_database(request, kind, tmp_path, f"race_{round_}"))
        assert failures == [], f"round {round_}: {failures}"
        for store in stores:
            store.check()  # every worker reads the tables the others created
        stores[0].record_issued("relapsed-all", [("card-1", "recommendation/hsct-cr2")], [])
        stores[-1].store("relapsed-all", parse_feedback({"feedback": [
            {"card": "card-1", "outcome": "accepted", "outcomeTimestamp": "2024-03-01T10:00:00Z",
             "acceptedSuggestions": [{"id": "s-1"}]}]}))
        assert stores[1].report()["recommendation/hsct-cr2"]["accepted"] == 1
        assert DatabaseReplayCache(stores[-1].engine).first_use("iss", "jti-1", time.time() + 60)
        LaunchStates(stores[0].engine, lifetime=600).put(Launch("s-1", "v", "https://ehr", "t"))
        assert LaunchStates(stores[1].engine, lifetime=600).take("s-1") is not None
        for store in stores:
            store.engine.dispose()


class _Racing(MetaData):
    """Tables whose creation loses the race ``losses`` times (another process got there first)."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses, self.tries = losses, 0

    def create_all(self, bind: Any, tables: Any = None, checkfirst: bool = True) -> None:
        self.tries += 1
        if self.tries <= self.losses:
            raise OperationalError("CREATE TABLE", {}, Exception("table already exists"))


def test_a_worker_that_keeps_losing_the_race_retries_then_says_why(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    late = _Racing(losses=ATTEMPTS - 1)
    started = time.monotonic()
    create_missing_tables(late, engine)  # the last try finds the tables there: it starts
    assert late.tries == ATTEMPTS
    assert time.monotonic() - started >= (ATTEMPTS - 1) * PAUSE_SECONDS  # it gave them time
    never = _Racing(losses=ATTEMPTS)
    with pytest.raises(OperationalError, match="already exists"):
        create_missing_tables(never, engine)  # a database that never works stops the start
    assert never.tries == ATTEMPTS
