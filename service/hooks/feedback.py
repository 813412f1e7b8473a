"""Feedback on cards: validated, stored with SQLAlchemy Core, summarised per card type.

The service stores every card it issues (uuid → card type) in the same database, so feedback
can be attributed to a card type. Decisions:
- Feedback for a card uuid the store does not know is accepted (200) and stored; the report
  lists it under the card type ``unknown`` (cards issued before the database was set up, or by
  an instance with another database). Refusing it would make clients resend it forever.
- Repeated deliveries are stored once: (card, outcome, outcomeTimestamp) is unique, the instant
  compared as parsed (stored in UTC, so "10:00Z" and "11:00+01:00" are one delivery; a time
  without an offset is taken as UTC, as CDS Hooks specifies).
- Every stored string is checked against its column (length, no NUL character): a field that
  does not fit is a 400 naming it, never a database error; a reason's display is only a label
  and is cut to fit.
- ``overrideReason.userComment`` is free text that may name the patient: it is not stored.
- Each issued suggestion is stored with what its actions do (``delete``, ``update``, ``create``):
  the report counts accepted suggestions by that, so an order check accepted as "remove the
  draft" is told apart from one accepted as "add the alternative", and both from overrides.
SQLite by default; any SQLAlchemy URL (e.g. ``postgresql+psycopg://…``) in production. A SQLite
database is kept in WAL mode with ``synchronous=NORMAL``: a commit (every patient-view records
its cards) is visible to every process at once but no longer waits for the disk; a power cut,
never a crash of the service, may lose the last ones (their feedback is then ``unknown``).
Measured: 0.6 → 0.25 ms CPU and 1.7-2.6 → 0.3-0.4 ms wall per call's cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from service.hooks.tables import create_missing_tables

OUTCOMES = ("accepted", "overridden")
UNKNOWN = "unknown"

metadata = MetaData()
issued_cards = Table(
    "issued_cards", metadata,
    Column("uuid", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("card_type", String(128), nullable=False),
    Column("issued_at", String(40), nullable=False),
)
issued_suggestions = Table(
    "issued_suggestions", metadata,
    Column("uuid", String(64), primary_key=True),
    Column("card_type", String(128), nullable=False),
    Column("actions", String(64), nullable=False),  # e.g. "delete", "create+delete"
)
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(64), nullable=False),
    Column("card", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("outcome_timestamp", String(40), nullable=False),
    Column("accepted_suggestions", String(1000)),
    Column("reason_system", String(255)),
    Column("reason_code", String(128)),
    Column("reason_display", String(255)),
    Column("received_at", String(40), nullable=False),
    UniqueConstraint("card", "outcome", "outcome_timestamp", name="feedback_once"),
)


MAX_CARD = 64
MAX_SUGGESTIONS = 1000  # the ids, joined with commas
MAX_SYSTEM, MAX_CODE, MAX_DISPLAY = 255, 128, 255


class InvalidFeedback(ValueError):
    """The feedback body is not valid; the message says why."""


class NoFeedbackDatabase(LookupError):
    """There is no feedback database where the URL points; the message names the place."""


@dataclass(frozen=True)
class Feedback:
    card: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...] = ()
    reason: tuple[str | None, str | None, str | None] = (None, None, None)


def parse_feedback(body: Any) -> list[Feedback]:
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list) \
            or not body["feedback"]:
        raise InvalidFeedback("the body must hold a non-empty 'feedback' array")
    return [_parse_item(item, n) for n, item in enumerate(body["feedback"])]


def _parse_item(item: Any, n: int) -> Feedback:
    where = f"feedback[{n}]"
    if not isinstance(item, dict):
        raise InvalidFeedback(f"{where} must be an object")
    card, outcome, stamp = item.get("card"), item.get("outcome"), item.get("outcomeTimestamp")
    if not _fits(card, MAX_CARD) or not card:
        raise InvalidFeedback(f"{where}.card must be a card uuid")
    if outcome not in OUTCOMES:
        raise InvalidFeedback(f"{where}.outcome must be 'accepted' or 'overridden'")
    instant = _instant(stamp)
    if instant is None:
        raise InvalidFeedback(f"{where}.outcomeTimestamp must be an ISO 8601 date-time")
    if outcome == "accepted":
        accepted = item.get("acceptedSuggestions")
        if not isinstance(accepted, list) or not accepted or not all(
                isinstance(s, dict) and _fits(s.get("id"), MAX_SUGGESTIONS) for s in accepted):
            raise InvalidFeedback(f"{where}.acceptedSuggestions is required for 'accepted'")
        ids = tuple(s["id"] for s in accepted)
        if len(",".join(ids)) > MAX_SUGGESTIONS:
            raise InvalidFeedback(f"{where}.acceptedSuggestions: over {MAX_SUGGESTIONS} "
                                  "characters of ids")
        return Feedback(card, outcome, instant, ids)
    return Feedback(card, outcome, instant, reason=_reason(item.get("overrideReason"), where))


def _fits(value: Any, size: int) -> bool:
    """A string that fits a column of ``size`` characters (and PostgreSQL: no NUL)."""
    return isinstance(value, str) and len(value) <= size and "\x00" not in value


def _reason(value: Any, where: str) -> tuple[str | None, str | None, str | None]:
    if value is None:
        return (None, None, None)
    coding = value.get("reason") if isinstance(value, dict) else None
    if coding is None:
        return (None, None, None)
    if not isinstance(coding, dict) or not _fits(coding.get("code"), MAX_CODE):
        raise InvalidFeedback(f"{where}.overrideReason.reason must be a Coding "
                              f"(code of at most {MAX_CODE} characters)")
    system, display = coding.get("system"), coding.get("display")
    if system is not None and not _fits(system, MAX_SYSTEM):
        raise InvalidFeedback(f"{where}.overrideReason.reason.system must be a URI of at most "
                              f"{MAX_SYSTEM} characters")
    display = display.replace("\x00", "")[:MAX_DISPLAY] if isinstance(display, str) else None
    return (system, coding["code"], display)


def _instant(value: Any) -> str | None:
    """``value`` as one spelling of its instant (UTC, microseconds), or None if not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat(timespec="microseconds")
    except (ValueError, OverflowError):
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def database_name(database_url: str) -> str:
    """The database a URL names, for people: a SQLite file's absolute path, else the URL
    without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return str(Path(str(url.database)).resolve())
    return url.render_as_string(hide_password=True)


class FeedbackStore:
    def __init__(self, database_url: str, *, create: bool = True) -> None:
        """The store at ``database_url``: its tables are created if missing, or with
        ``create=False`` nothing is created and :class:`NoFeedbackDatabase` says what is
        missing."""
        name = database_name(database_url)
        if not create and make_url(database_url).get_backend_name() == "sqlite" \
                and not Path(name).is_file():
            raise NoFeedbackDatabase(f"no feedback database at {name}")
        self.engine = create_engine(database_url)
        self._inserts = _inserts_once(self.engine.dialect.name)
        if create:
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _commit_without_fsync)
            create_missing_tables(metadata, self.engine)
            return
        try:
            found = inspect(self.engine).has_table(feedback.name)
        except SQLAlchemyError as exc:
            raise NoFeedbackDatabase(f"{name} cannot be opened ({type(exc).__name__})") from None
        if not found:
            raise NoFeedbackDatabase(f"{name} holds no feedback tables")

    def _insert_once(self, table: Table) -> Insert:
        """The table's INSERT that skips rows breaking a unique key (repeated deliveries)."""
        statement = self._inserts.get(table.name)
        if statement is None:
            raise RuntimeError(f"feedback store: database '{self.engine.dialect.name}' is not "
                               "supported")
        return statement

    def check(self) -> None:
        """Raise unless the store can be read (the database reachable, its tables there)."""
        with self.engine.connect() as conn:
            conn.execute(select(issued_cards.c.uuid).limit(1)).all()

    def record_issued(self, service_id: str, cards: list[tuple[str, str]],
                      suggestions: list[tuple[str, str, str]]) -> None:
        """Remember a call's issued cards as (uuid, card type) pairs and their suggestions as
        (uuid, card type, action types) triples, in one transaction."""
        if not cards and not suggestions:
            return
        now = _now()
        with self.engine.begin() as conn:
            if cards:
                conn.execute(self._insert_once(issued_cards), [
                    {"uuid": u, "service_id": service_id, "card_type": t, "issued_at": now}
                    for u, t in cards])
            if suggestions:
                conn.execute(self._insert_once(issued_suggestions), [
                    {"uuid": u, "card_type": t, "actions": a} for u, t, a in suggestions])

    def store(self, service_id: str, items: list[Feedback]) -> None:
        now = _now()
        rows = [{
            "service_id": service_id, "card": f.card, "outcome": f.outcome,
            "outcome_timestamp": f.outcome_timestamp,
            "accepted_suggestions": ",".join(f.accepted_suggestions) or None,
            "reason_system": f.reason[0], "reason_code": f.reason[1],
            "reason_display": f.reason[2], "received_at": now,
        } for f in items]
        with self.engine.begin() as conn:
            conn.execute(self._insert_once(feedback), rows)

    def report(self) -> dict[str, Any]:
        """Accepted/overridden counts per card type, override reasons and accepted suggestions
        (by what their actions do) per card type."""
        card_type = func.coalesce(issued_cards.c.card_type, UNKNOWN).label("card_type")
        joined = feedback.outerjoin(issued_cards, feedback.c.card == issued_cards.c.uuid)
        with self.engine.connect() as conn:
            outcomes = conn.execute(
                select(card_type, feedback.c.outcome, func.count()).select_from(joined)
                .group_by(card_type, feedback.c.outcome).order_by(card_type, feedback.c.outcome)
            ).all()
            reasons = conn.execute(
                select(card_type, feedback.c.reason_system, feedback.c.reason_code,
                       func.max(feedback.c.reason_display), func.count()).select_from(joined)
                .where(feedback.c.outcome == "overridden")
                .group_by(card_type, feedback.c.reason_system, feedback.c.reason_code)
                .order_by(card_type, feedback.c.reason_code)
            ).all()
            accepted = conn.execute(
                select(card_type, feedback.c.accepted_suggestions).select_from(joined)
                .where(feedback.c.outcome == "accepted")).all()
            chosen = {s for _, ids in accepted for s in (ids or "").split(",") if s}
            actions = dict(conn.execute(
                select(issued_suggestions.c.uuid, issued_suggestions.c.actions)
                .where(issued_suggestions.c.uuid.in_(chosen))).all()) if chosen else {}
        by_type: dict[str, dict[str, Any]] = {}
        for kind, outcome, count in outcomes:
            by_type.setdefault(kind, {"accepted": 0, "overridden": 0, "override_reasons": []})
            by_type[kind][outcome] = count
        for kind, system, code, display, count in reasons:
            by_type[kind]["override_reasons"].append(
                {"system": system, "code": code or "(none given)", "display": display,
                 "count": count})
        for kind, ids in accepted:
            for suggestion in (ids or "").split(","):
                counts = by_type[kind].setdefault("accepted_suggestions", {})
                what = actions.get(suggestion, UNKNOWN)
                counts[what] = counts.get(what, 0) + 1
        return by_type


def _commit_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: write-ahead log, synced at checkpoints only (see the module's docstring)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _inserts_once(dialect: str) -> dict[str, Insert]:
    """Per table, its INSERT … ON CONFLICT DO NOTHING for ``dialect``, built once per store
    (building it on every call cost a third of recording a call's cards)."""
    tables = (issued_cards, issued_suggestions, feedback)
    if dialect == "sqlite":
        return {t.name: sqlite.insert(t).on_conflict_do_nothing() for t in tables}
    if dialect == "postgresql":
        return {t.name: postgresql.insert(t).on_conflict_do_nothing() for t in tables}
    return {}
