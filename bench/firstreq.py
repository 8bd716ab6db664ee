"""A new instance's first request against a warm one, with the network latency mode on.

For each one-way delay d (`bench.latency`: d per chunk each way, two round trips per new
connection), latency proxies stand in front of the Stripe stand-in, the Firestore emulator and the
token issuer, and the function is pointed at them. Then, per repetition and per kind of user:

1. start the function (`spawn_framework`, not waiting) and poll its port every 2 ms: **time to
   listening**; hello-world is started the same way once per repetition, alternating, as its floor;
2. at once, the **first request**: a returning user (mapped in Firestore by an earlier instance,
   unknown to this one) or a new user — what the request that woke the instance asks for;
3. on the same instance, now warm, `warm_each` **warm requests of the same kind** (other returning
   users this instance has not seen: a Firestore read and a session create, like the first; or
   other new users); their median is the reference of that instance's first request.

The ratio compares medians over the repetitions; each instance's own first/warm ratio is kept
too (the spread). The function's "Boot warm-up finished" log line and the connections each proxy
saw are recorded per instance.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from bench import client
from bench.latency import ProxiedParts, proxied
from bench.servers import (
    FUNCTION_TARGET,
    HELLO_DIR,
    HELLO_TARGET,
    HOST,
    FrameworkServer,
    LocalParts,
    spawn_framework,
)
from bench.warm import Users
from local.net import port_is_open

POLL_SECONDS = 0.002
KINDS = ("returning", "new")


def proxied_env(env: Mapping[str, str], parts: LocalParts, proxies: ProxiedParts) -> dict[str, str]:
    """`env` with Stripe, Firestore and the key URL going through the latency proxies."""
    jwks_path = parts.issuer.jwks_url.removeprefix(parts.issuer.url)
    return {
        **env,
        "STRIPE_API_BASE": proxies.stripe.url,
        "FIRESTORE_EMULATOR_HOST": proxies.firestore.address,
        "AUTH_JWKS_URL": proxies.issuer.url + jwks_path,
    }


def time_to_listening(server: FrameworkServer, started: float, limit: float = 60.0) -> float:
    """Seconds from `started` until the server's port accepts a TCP connection."""
    deadline = started + limit
    while time.perf_counter() < deadline:
        if port_is_open(HOST, server.port, timeout=0.05):
            return time.perf_counter() - started
        if not server.process.alive():
            raise client.BenchError(f"{server.name} exited:\n{server.process.log_tail()}")
        time.sleep(POLL_SECONDS)
    raise client.BenchError(f"{server.name} did not listen within {limit:.0f}s")


def _timed_post(session: requests.Session, url: str, token: str) -> float:
    started = time.perf_counter()
    client.post_ok(session, url, token)
    return time.perf_counter() - started


def warm_up_line(server: FrameworkServer) -> dict[str, str] | None:
    """The function's "Boot warm-up finished" fields (task → outcome), if it logged them."""
    for line in server.process.log_text().splitlines():
        if line.startswith("{") and "Boot warm-up finished" in line:
            try:
                return json.loads(line).get("warmUp")
            except ValueError:
                return None
    return None


def _one_instance(
    *,
    kind: str,
    function_dir: Path,
    env: Mapping[str, str],
    tokens: list[str],
    proxies: ProxiedParts,
    log_dir: Path,
) -> dict[str, Any]:
    before = proxies.stats()
    started = time.perf_counter()
    name = f"first-{kind}"
    server = spawn_framework(name, FUNCTION_TARGET, function_dir, env, log_dir, wait=False)
    try:
        listening = time_to_listening(server, started)
        session = requests.Session()
        first = _timed_post(session, server.url, tokens[0])
        after_first = proxies.stats()
        warm = [_timed_post(session, server.url, token) for token in tokens[1:]]
        time.sleep(0.05)  # let a still-running warm-up task log its line
    finally:
        server.stop()
    warm_ms = statistics.median(warm) * 1000.0
    return {
        "listening_ms": round(listening * 1000.0, 1),
        "first_ms": round(first * 1000.0, 2),
        "warm_ms": round(warm_ms, 2),
        "warm_samples_ms": [round(s * 1000.0, 2) for s in warm],
        "ratio": round(first * 1000.0 / warm_ms, 3),
        "connections_until_first_answered": {k: after_first[k] - before[k] for k in before},
        "warm_up": warm_up_line(server),
    }


def _hello_start(env: Mapping[str, str], log_dir: Path, token: str) -> dict[str, float]:
    """Hello-world's time to listening, and its own first request after listening vs its next."""
    started = time.perf_counter()
    server = spawn_framework("first-hello", HELLO_TARGET, HELLO_DIR, env, log_dir, wait=False)
    try:
        listening = time_to_listening(server, started)
        session = requests.Session()
        first = _timed_post(session, server.url, token)
        warm = _timed_post(session, server.url, token)
    finally:
        server.stop()
    return {
        "listening_ms": round(listening * 1000.0, 1),
        "first_ms": round(first * 1000.0, 2),
        "warm_ms": round(warm * 1000.0, 2),
    }


def _summary(instances: list[dict[str, Any]]) -> dict[str, Any]:
    first = statistics.median(i["first_ms"] for i in instances)
    warm = statistics.median(i["warm_ms"] for i in instances)
    ratios = [i["ratio"] for i in instances]
    return {
        "first_ms": round(first, 2),
        "warm_ms": round(warm, 2),
        "ratio": round(first / warm, 3),
        "instance_ratio_min": min(ratios),
        "instance_ratio_max": max(ratios),
        "first_samples_ms": [i["first_ms"] for i in instances],
        "warm_medians_ms": [i["warm_ms"] for i in instances],
        "instances": instances,
    }


def first_requests(
    parts: LocalParts,
    *,
    env: Mapping[str, str],
    function_dir: Path,
    delays_ms: list[float],
    repetitions: int,
    warm_each: int,
    seed_url: str,
) -> dict[str, Any]:
    """First request vs warm, and time to listening, at each delay (see the module docstring).

    `env` is the function's environment on the direct addresses; `seed_url` a running function
    on the same collection, used to map the returning users beforehand.
    """
    per_instance = 1 + warm_each
    returning = Users(parts, "bench-first-returning").fresh(
        len(delays_ms) * repetitions * per_instance
    )
    seeding = requests.Session()
    for _, token in returning:  # mapped in Firestore; no instance started below has seen them
        client.post_ok(seeding, seed_url, token)
    returning_tokens = iter(token for _, token in returning)
    new_users = Users(parts, "bench-first-new")
    phases = []
    listening: dict[str, list[float]] = {"function": []}
    hellos: list[dict[str, float]] = []
    ((_, hello_token),) = new_users.fresh(1)
    for delay in delays_ms:
        with proxied(
            stripe_url=parts.standin.url,
            firestore_host=parts.firestore.host,
            issuer_url=parts.issuer.url,
            delay_ms=delay,
        ) as proxies:
            function_env = proxied_env(env, parts, proxies)
            instances: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
            for rep in range(repetitions):
                hello_first = rep % 2 == 1  # alternate, so neither always follows the other
                if hello_first:
                    hellos.append(_hello_start(env, parts.log_dir, hello_token))
                for kind in KINDS:
                    if kind == "returning":
                        tokens = [next(returning_tokens) for _ in range(per_instance)]
                    else:
                        tokens = [token for _, token in new_users.fresh(per_instance)]
                    result = _one_instance(
                        kind=kind,
                        function_dir=function_dir,
                        env=function_env,
                        tokens=tokens,
                        proxies=proxies,
                        log_dir=parts.log_dir,
                    )
                    instances[kind].append(result)
                    listening["function"].append(result["listening_ms"])
                if not hello_first:
                    hellos.append(_hello_start(env, parts.log_dir, hello_token))
        phases.append(
            {
                "delay_ms": delay,
                "setup_rtts": proxies.stripe.setup_rtts,
                **{kind: _summary(instances[kind]) for kind in KINDS},
            }
        )
    listening["hello"] = [hello["listening_ms"] for hello in hellos]
    function_ms = statistics.median(listening["function"])
    hello_ms = statistics.median(listening["hello"])
    return {
        "repetitions": repetitions,
        "warm_each": warm_each,
        "listening": {
            "function_ms": round(function_ms, 1),
            "hello_ms": round(hello_ms, 1),
            "ratio": round(function_ms / hello_ms, 3),
            "function_samples_ms": [round(s, 1) for s in listening["function"]],
            "hello_samples_ms": [round(s, 1) for s in listening["hello"]],
        },
        # The floor of "first request after listening" that is not the function's: the worker
        # gunicorn forks after listening, and Flask's first request (hello-world's first vs next).
        "hello_first_request": {
            "first_ms": round(statistics.median(h["first_ms"] for h in hellos), 2),
            "warm_ms": round(statistics.median(h["warm_ms"] for h in hellos), 2),
        },
        "delays": phases,
    }
