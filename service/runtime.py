"""Process tuning for long-running entry points (gunicorn workers, replay), not for libraries.

The pipeline allocates many small objects per record (lean models, facts) that die young, and
CPython's default cyclic-GC thresholds make it traverse them, and everything imported at
start-up, again and again: measured at about 30% of the engine's time on a 3,000-resource
record (bench/). The objects alive after start-up are moved out of the collector's view
(``gc.freeze``) and young collections run every 50,000 allocations instead of 700. Reference
counting still frees almost everything at once; cycles are still collected.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 50_000
DEFAULT_DATABASE_URL = "sqlite:///relapsed-all-cds-feedback.sqlite3"  # a file in the current folder


def cores() -> int:
    """The CPU cores this process may run on (the default number of workers)."""
    if hasattr(os, "sched_getaffinity"):  # Linux: honours CPU sets (containers, taskset)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def tune_gc() -> None:
    """Call once, after start-up (the app built, the maps loaded)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, max(gen1, 20), max(gen2, 20))


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and on again after it, if it was)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
