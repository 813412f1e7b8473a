"""The facts of the request being served, gathered where they are known (the hook's instance
id, the FHIR fetch, the cards, why a call was refused) and reported once when it ends: in its
log line and its metrics.

Held in a context variable, so code that knows a fact notes it without depending on Flask.
Only facts that are not patient data go here: identifiers the service made or checked, key
names, counts, durations and causes.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_current: ContextVar[dict[str, Any] | None] = ContextVar("request_record", default=None)


def begin(request_id: str) -> None:
    """Start the record of a new request."""
    _current.set({"request_id": request_id})


def note(**facts: Any) -> None:
    """Add facts to the record of the request being served (ignored outside a request)."""
    record = _current.get()
    if record is not None:
        record.update(facts)


def current() -> dict[str, Any]:
    """The facts noted so far (empty outside a request)."""
    return dict(_current.get() or {})


def end() -> dict[str, Any]:
    """The facts of the request, which is then over."""
    facts = current()
    _current.set(None)
    return facts
