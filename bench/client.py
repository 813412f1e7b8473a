"""A bounded HTTP load client on 127.0.0.1: a few threads, one POST at a time each.

It uses ``http.client`` (standard library, the lightest client here) with a new connection per
request, as gunicorn's sync workers close the connection after each response anyway.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # transport errors by type
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def failures(self) -> int:
        bad = sum(n for s, n in self.statuses.items() if s != 200)
        return bad + sum(self.errors.values())

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {"requests": self.requests, "seconds": round(self.seconds, 3),
                "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99),
                "max_ms": round(lat[-1] * 1000, 2) if lat else 0.0,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "errors": dict(self.errors), "failures": self.failures}


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[index] * 1000, 2)


def post_once(host: str, port: int, path: str, body: bytes, timeout: float) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def hammer(url: str, bodies: list[bytes], *, seconds: float, threads: int = 2,
           rate: float | None = None, timeout: float = 30.0,
           max_requests: int | None = None) -> Run:
    """POST ``bodies`` (round robin) to ``url`` from ``threads`` threads for ``seconds``.

    ``rate`` (requests/s, all threads together) paces the requests (open loop, latency counted
    from the scheduled start, so queueing shows); None sends as fast as answers come back.
    """
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    run = Run()
    lock = threading.Lock()
    counter = iter(range(10**12))
    start = time.perf_counter()
    stop = start + seconds

    def worker() -> None:
        while True:
            with lock:
                n = next(counter)
            if max_requests is not None and n >= max_requests:
                return
            scheduled = start + n / rate if rate else time.perf_counter()
            if scheduled >= stop:
                return
            if rate:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            try:
                status = post_once(host, port, path, bodies[n % len(bodies)], timeout)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    name = type(exc).__name__
                    run.errors[name] = run.errors.get(name, 0) + 1
                continue
            elapsed = time.perf_counter() - scheduled
            with lock:
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if status == 200:
                    run.latencies.append(elapsed)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    run.seconds = time.perf_counter() - start
    return run
