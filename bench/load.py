"""One instance under load: closed-loop clients against gunicorn with one worker and N threads.

Every request is a returning user's (the steady state of a warm instance): one Stripe call,
which the stand-in delays by `latency_ms`. With N threads and 100 ms per call, one instance can
at best answer N / 0.1 s requests per second. Each level is followed by the same closed loop
calling the stand-in directly with min(c, N) clients (the floor under load, run once per
distinct client count): what this machine, this client and this stand-in reach without the
function in between, so the gap can be split into the function's part and the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from bench import client
from bench.measure import LoadResult, Summary, closed_loop
from bench.servers import DEFAULT_RETURN_URL, FrameworkServer, LocalParts, cpu_seconds, memory_kib
from bench.warm import Users, customers_by_user, floor_stripe_client


def theoretical(concurrency: int, threads: int, latency_ms: int) -> float:
    """Requests/s if every request took exactly the Stripe latency: min(c, N) / latency."""
    return min(concurrency, threads) / (latency_ms / 1000.0)


def _client_factory(
    function: FrameworkServer, tokens: list[str]
) -> Callable[[], Callable[[], str | None]]:
    counter = {"next": 0}

    def make_client() -> Callable[[], str | None]:
        token = tokens[counter["next"] % len(tokens)]
        counter["next"] += 1
        session = requests.Session()

        def request() -> str | None:
            try:
                response = client.post(session, function.url, token)
            except requests.RequestException as error:
                return type(error).__name__
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
            return None

        return request

    return make_client


def _floor_factory(
    parts: LocalParts, customers: list[str]
) -> Callable[[], Callable[[], str | None]]:
    counter = {"next": 0}

    def make_client() -> Callable[[], str | None]:
        customer = customers[counter["next"] % len(customers)]
        counter["next"] += 1
        stripe_client = floor_stripe_client(parts)

        def request() -> str | None:
            try:
                stripe_client.v1.billing_portal.sessions.create(
                    params={"customer": customer, "return_url": DEFAULT_RETURN_URL}
                )
            except Exception as error:  # any failure is an error of the run, counted
                return type(error).__name__
            return None

        return request

    return make_client


def _level(
    result: LoadResult, floor: LoadResult, threads: int, latency_ms: int, cpu: float
) -> dict[str, Any]:
    best = theoretical(result.concurrency, threads, latency_ms)
    level: dict[str, Any] = {
        "concurrency": result.concurrency,
        "seconds": round(result.seconds, 3),
        "completed": result.completed,
        "completed_in_window": result.in_window,
        "errors": result.errors,
        "error_examples": result.error_examples,
        "throughput_rps": round(result.throughput, 2),
        "theoretical_rps": round(best, 2),
        "fraction_of_theoretical": round(result.throughput / best, 4),
        "worker_cpu_ms_per_request": (
            round(cpu * 1000.0 / result.completed, 3) if result.completed else None
        ),
    }
    if result.latencies:
        level["latency_ms"] = Summary.of(result.latencies).as_dict()
    # The floor ran at min(c, N) clients: more would not be the same instance's work.
    level["floor"] = {
        "concurrency": floor.concurrency,
        "throughput_rps": round(floor.throughput, 2),
        "errors": floor.errors,
        "fraction_of_theoretical": round(floor.throughput / best, 4),
        "function_fraction_of_floor": (
            round(result.throughput / floor.throughput, 4) if floor.throughput else None
        ),
    }
    if floor.latencies:
        level["floor"]["latency_ms"] = Summary.of(floor.latencies).as_dict()
    return level


def load(
    parts: LocalParts,
    function: FrameworkServer,
    *,
    threads: int,
    levels: list[int],
    latency_ms: int,
    seconds: float,
    max_requests: int,
) -> dict[str, Any]:
    """Throughput, errors and latency at each concurrency, then the worker's peak memory."""
    users = Users(parts, "bench-load").fresh(max(levels))
    session = requests.Session()
    for _, token in users:  # map every user and fill the instance's cache, at full speed
        client.post_ok(session, function.url, token)
    worker = function.worker_pid()
    if worker is None:
        raise client.BenchError("the load server has no gunicorn worker")
    tokens = [token for _, token in users]
    by_user = customers_by_user(parts)
    customers = [by_user[uid] for uid, _ in users]
    floors: dict[int, LoadResult] = {}
    results = []
    parts.standin.set_latency(latency_ms)
    try:
        for concurrency in levels:
            cpu_before = cpu_seconds(worker)
            result = closed_loop(
                _client_factory(function, tokens),
                concurrency,
                duration=seconds,
                max_requests=max_requests,
            )
            cpu = cpu_seconds(worker) - cpu_before
            floor_concurrency = min(concurrency, threads)
            if floor_concurrency not in floors:
                floors[floor_concurrency] = closed_loop(
                    _floor_factory(parts, customers),
                    floor_concurrency,
                    duration=seconds,
                    max_requests=max_requests,
                )
            floor = floors[floor_concurrency]
            results.append(_level(result, floor, threads, latency_ms, cpu))
    finally:
        parts.standin.set_latency(0)
    memory = memory_kib(worker)
    master = memory_kib(function.process.pid)
    return {
        "threads": threads,
        "stripe_latency_ms": latency_ms,
        "seconds_per_level": seconds,
        "max_requests_per_level": max_requests,
        "levels": results,
        "worker_peak_rss_mib": round(memory["VmHWM"] / 1024.0, 1),
        "worker_rss_mib": round(memory["VmRSS"] / 1024.0, 1),
        "master_peak_rss_mib": round(master["VmHWM"] / 1024.0, 1),
    }
