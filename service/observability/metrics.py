"""Prometheus metrics, counted across every gunicorn worker.

Under gunicorn (``service.gunicorn_conf``) each worker writes its counts to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up the files of all workers, live and
exited; elsewhere (the development server, tests in one process) the process's own registry
is read. The directory must be set before this module is first imported: prometheus_client
chooses its storage at import.

Label values come from fixed sets (route names, known service ids, statuses, card types and
indicators the service itself issues, fetch outcomes), never from what a caller sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "relapsed_all_cds"
# From a trivial route (~1 ms) to the FHIR fetch budget and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

REQUESTS = Counter(f"{PREFIX}_requests", "HTTP requests answered",
                   ["endpoint", "service", "status"])
LATENCY = Histogram(f"{PREFIX}_request_duration_seconds", "Time to answer an HTTP request",
                    ["endpoint", "service", "status"], buckets=LATENCY_BUCKETS)
FHIR_FETCHES = Counter(f"{PREFIX}_fhir_fetches", "Fallback FHIR fetches, one per prefetch key",
                       ["outcome"])
FHIR_FETCH_TIME = Histogram(f"{PREFIX}_fhir_fetch_duration_seconds",
                            "Time spent on the fallback FHIR fetches of one call",
                            buckets=LATENCY_BUCKETS)
CARDS = Counter(f"{PREFIX}_cards", "Cards issued", ["type", "indicator"])


def observe_request(endpoint: str, service: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, service, str(status)).inc()
    LATENCY.labels(endpoint, service, str(status)).observe(seconds)


def observe_fetch(outcomes: dict[str, str], seconds: float) -> None:
    """The outcome of each prefetch key fetched for one call, and the time all of them took."""
    for outcome in outcomes.values():
        FHIR_FETCHES.labels(outcome).inc()
    FHIR_FETCH_TIME.observe(seconds)


def observe_cards(cards: Iterable[tuple[str, str]]) -> None:
    """Cards issued, as (card type, indicator) pairs."""
    for card_type, indicator in cards:
        CARDS.labels(card_type, indicator).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

