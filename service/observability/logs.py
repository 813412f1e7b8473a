"""JSON log lines, one object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, the ``request_id`` of the request being served, and the fields a call passed in
``extra``. An exception is named by its type only: its message or traceback may quote patient
data.

``LOGGING`` is the configuration for :func:`logging.config.dictConfig` that the gunicorn
configuration (``service.gunicorn_conf``) applies to gunicorn's own loggers and the service's.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from service.observability import record

# What every LogRecord carries: anything else was passed in ``extra`` and is logged.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, entry: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(entry.created, UTC).isoformat(timespec="milliseconds"),
            "level": entry.levelname,
            "logger": entry.name,
            "message": entry.getMessage(),
        }
        request_id = record.current().get("request_id")
        if request_id:
            line["request_id"] = request_id
        line.update({k: v for k, v in entry.__dict__.items() if k not in _STANDARD})
        if entry.exc_info and entry.exc_info[0] is not None:
            line["exception"] = entry.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def _handler(stream: str) -> dict[str, Any]:
    return {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}


LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"stderr": _handler("ext://sys.stderr")},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # the service logs each request itself (service.requests): no second, raw-path line
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}


def configure_logging() -> None:
    """JSON lines on stderr for the whole process, unless logging is already set up (under
    gunicorn with ``service.gunicorn_conf``, or by the embedding application)."""
    if not logging.getLogger().handlers:
        logging.config.dictConfig(LOGGING)
