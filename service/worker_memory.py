"""A gunicorn worker gives back the memory a very large call took.

A 30,000-resource record (a 6 MB body), or a FHIR server's answers of several MB, make a worker
grow by 25 to 45 MB while the call is served (25 when the prefetch is read straight into the
lean shapes, ``hooks/call_text.py``; after it, trimming left 18 MB of that in use, hence a limit
below that). When it is over the objects are freed, but
CPython keeps most of that memory: its small-object arenas go back to the system only when
every object in them is gone, and a few objects that outlive the call (parser key caches,
interned strings) keep most arenas in use (measured: 83 arenas in use after such a call, 40
before it). So when a call has raised the worker's peak memory well above where it started, the
worker collects and trims the C heap; if it is still much bigger than when it started, it
finishes the call and stops, and gunicorn starts a fresh worker in its place (as gunicorn's own
``max_requests`` does). Other calls cost one ``getrusage`` here.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import resource
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

GROWTH_LIMIT_BYTES = 16 << 20  # grown more than this since the start: give back or restart
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class _Worker:
    started: int  # resident bytes once the app was loaded
    peak_seen: int  # the highest peak already looked at


_workers: dict[int, _Worker] = {}  # by pid: the hooks run in each forked worker


def resident_bytes() -> int | None:
    """This process's resident memory (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return None


def peak_bytes() -> int:
    """This process's highest resident memory so far (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def release_memory() -> None:
    """Collect cycles, then give the C heap's free pages back to the system (glibc only)."""
    gc.collect()
    process = ctypes.CDLL(None)  # the symbols already loaded: no search for the C library
    if hasattr(process, "malloc_trim"):
        process.malloc_trim(0)


def post_worker_init(worker: Any) -> None:
    """gunicorn hook: remember the worker's size once its app is loaded."""
    size = resident_bytes()
    if size is not None:
        _workers[os.getpid()] = _Worker(started=size, peak_seen=peak_bytes())


def post_request(worker: Any, req: Any, environ: Any = None, resp: Any = None) -> None:
    """gunicorn hook: after a call that raised the peak well above the start, give memory
    back, and stop the worker if that was not enough."""
    state = _workers.get(os.getpid())
    peak = peak_bytes()
    if state is None or peak <= state.peak_seen:
        return
    state.peak_seen = peak
    if peak - state.started <= GROWTH_LIMIT_BYTES:
        return
    release_memory()
    size = resident_bytes()
    if size is not None and size - state.started > GROWTH_LIMIT_BYTES:
        log.info("worker restarts to give back memory after a large call",
                 extra={"resident_mb": round(size / 2**20, 1),
                        "started_mb": round(state.started / 2**20, 1)})
        worker.alive = False  # the sync worker ends after this call; gunicorn starts another
