"""A map over worker processes that keeps input order and bounded memory.

``concurrent.futures`` and ``multiprocessing.Pool.imap`` read their whole input ahead of the
workers; this reads it a few chunks at a time, so a file of any size is processed in constant
memory, and gives the results back in the order of the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, processes: int, chunk: int = 4,
                initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Iterator[R]:
    """``fn`` over ``items`` in ``processes`` worker processes, results in input order; at most
    two chunks of ``chunk`` items per process are read ahead. ``fn`` must be picklable (a
    module-level function); ``initializer(*initargs)`` runs once in each worker."""
    ahead = 2 * processes
    with ProcessPoolExecutor(processes, initializer=initializer, initargs=initargs) as pool:
        pending: deque[Future[list[R]]] = deque()
        for part in _chunks(items, chunk):
            pending.append(pool.submit(_run_chunk, fn, part))
            if len(pending) >= ahead:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
