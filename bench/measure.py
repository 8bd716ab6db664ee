"""Timing primitives: percentiles, interleaved sampling and a closed-loop load generator."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0–100) of `values`, linearly interpolated between samples."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latency percentiles of one series, in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    min: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary:
        """Summarise samples given in seconds."""
        ms = [s * 1000.0 for s in seconds]
        return cls(
            n=len(ms),
            p50=round(percentile(ms, 50), 3),
            p95=round(percentile(ms, 95), 3),
            p99=round(percentile(ms, 99), 3),
            mean=round(sum(ms) / len(ms), 3),
            min=round(min(ms), 3),
            max=round(max(ms), 3),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


def interleaved(
    calls: dict[str, Callable[[int], None]], rounds: int, *, seed: int = 7
) -> dict[str, list[float]]:
    """Time each call once per round, in a shuffled order each round; seconds per call.

    Interleaving puts every series under the same background conditions (a GC pause, another
    process waking up), and shuffling keeps any one series from always running right after
    another (warm caches, a just-freed connection).
    """
    rng = random.Random(seed)
    names = list(calls)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        rng.shuffle(names)
        for name in names:
            started = time.perf_counter()
            calls[name](index)
            samples[name].append(time.perf_counter() - started)
    return samples


@dataclass
class LoadResult:
    """What a closed-loop run at one concurrency produced."""

    concurrency: int
    seconds: float
    completed: int
    errors: int
    latencies: list[float] = field(repr=False)
    in_window: int = 0
    error_examples: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Successful requests per second: those that completed inside the window, over it."""
        return self.in_window / self.seconds if self.seconds > 0 else 0.0


def closed_loop(
    make_client: Callable[[], Callable[[], str | None]],
    concurrency: int,
    *,
    duration: float,
    max_requests: int,
) -> LoadResult:
    """`concurrency` clients, each sending its next request as soon as the last one answered.

    `make_client()` is called once per client thread and returns a function doing one request
    and returning None on success or a short error description. Each client does one request
    before the clock starts (its connection is open, as on a warm instance). The run stops at
    `duration` seconds or `max_requests` requests, whichever comes first. Throughput counts
    the successes that completed inside the window (requests still in flight at its end
    finish, and count for latency and errors, but not for throughput): dividing everything by
    the time until the last straggler returns would charge the drain to the server.
    """
    clients = [make_client() for _ in range(concurrency)]
    lock = threading.Lock()
    latencies: list[float] = []
    completions: list[float] = []
    errors: list[str] = []
    issued = 0
    start_gate = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def worker(request: Callable[[], str | None]) -> None:
        nonlocal issued
        request()  # warm: connection open; not counted
        start_gate.wait()
        deadline = window["start"] + duration
        while True:
            with lock:
                if issued >= max_requests or time.perf_counter() >= deadline:
                    window["end"] = min(window.get("end", deadline), time.perf_counter())
                    return
                issued += 1
            began = time.perf_counter()
            error = request()
            ended = time.perf_counter()
            with lock:
                if error is None:
                    latencies.append(ended - began)
                    completions.append(ended)
                else:
                    errors.append(error)

    threads = [
        threading.Thread(target=worker, args=(client,), name=f"load-{i}", daemon=True)
        for i, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=duration + 120)
    # The window closes at the deadline, or earlier when `max_requests` ran out first.
    end = window.get("end", window["start"] + duration)
    return LoadResult(
        concurrency=concurrency,
        seconds=end - window["start"],
        completed=len(latencies),
        errors=len(errors),
        latencies=latencies,
        in_window=sum(1 for t in completions if t <= end),
        error_examples=sorted(set(errors))[:5],
    )
