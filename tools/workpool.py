"""The admin tools' worker pool: many units of work at once, results back in input order.

In order, so that a resumable tool can checkpoint "everything up to here is done" as results
arrive; a bounded window of submitted units, so that 50,000 users are not 50,000 futures.
A unit that Stripe rate-limited is tried again (the shared bucket in `tools.ratelimit` has
already paused every worker), up to `MAX_TRIES` times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from billing_portal.errors import RateLimited

T = TypeVar("T")
R = TypeVar("R")

MAX_TRIES = 6
DEFAULT_WORKERS = 16


def with_retries(call: Callable[[], R], on_retry: Callable[[], None] = lambda: None) -> R:
    """`call()`, repeated while Stripe answers 429 (at most `MAX_TRIES` calls in all)."""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            return call()
        except RateLimited:
            if attempt == MAX_TRIES:
                raise
            on_retry()
    raise AssertionError("unreachable")


def in_order(
    items: Iterable[T], work: Callable[[T], R], workers: int = DEFAULT_WORKERS
) -> Iterator[tuple[T, Future[R]]]:
    """Run `work` on every item with `workers` threads; yield (item, its finished future) in
    the items' order. Stopping the iteration early stops submitting (running units finish)."""
    window: deque[tuple[T, Future[R]]] = deque()
    limit = max(1, workers) * 4
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="tool") as pool:
        try:
            for item in items:
                window.append((item, pool.submit(work, item)))
                while len(window) >= limit:
                    done = window.popleft()
                    done[1].exception()  # wait
                    yield done
            while window:
                done = window.popleft()
                done[1].exception()
                yield done
        finally:
            for _, future in window:
                future.cancel()
