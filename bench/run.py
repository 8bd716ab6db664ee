"""One benchmark run: start the local parts, measure everything side by side, report."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from bench import bodies, checkout, client, cold, firstreq, load, report, warm, webhook
from bench.servers import (
    FUNCTION_TARGET,
    HELLO_DIR,
    HELLO_TARGET,
    JWKS_MAX_AGE,
    LOG_DIR,
    FrameworkServer,
    LocalParts,
    function_env,
    local_parts,
    spawn_framework,
)
from local.process import REPO_ROOT

LOAD_LATENCY_MS = 100
STRIPE_LIKE_LATENCY_MS = 100
BUSY_LOADAVG = 1.0  # above this before a run starts, something else is competing for the CPUs


@dataclass(frozen=True)
class Profile:
    """How much to measure: the full run or the CI smoke."""

    name: str
    cold_repetitions: int
    cold_discarded: int
    import_runs: int
    returning_rounds: int
    new_rounds: int
    slow_returning_rounds: int
    slow_new_rounds: int
    load_seconds: float
    load_max_requests: int
    calls_requests: int
    first_repetitions: int
    first_warm_each: int
    latency_ms: float  # the latency mode's delay (one way); its rows also run at 0 ms
    webhook_rounds: int
    slow_webhook_rounds: int
    get_rounds: int
    burst_events: int
    burst_in_flight: int
    burst_users: int
    burst_live_changes: int
    body_rounds: int
    checkout_rounds: int


FULL = Profile(
    name="full",
    cold_repetitions=7,
    cold_discarded=1,
    import_runs=5,
    returning_rounds=1000,
    new_rounds=300,
    slow_returning_rounds=100,
    slow_new_rounds=50,
    load_seconds=10.0,
    load_max_requests=5000,
    calls_requests=20,
    first_repetitions=5,
    first_warm_each=3,
    latency_ms=20.0,
    webhook_rounds=300,
    slow_webhook_rounds=50,
    get_rounds=1000,
    burst_events=1000,
    burst_in_flight=16,
    burst_users=10,
    burst_live_changes=40,
    body_rounds=300,
    checkout_rounds=50,
)
SMOKE = Profile(
    name="smoke",
    cold_repetitions=1,
    cold_discarded=0,
    import_runs=1,
    returning_rounds=20,
    new_rounds=5,
    slow_returning_rounds=3,
    slow_new_rounds=2,
    load_seconds=1.0,
    load_max_requests=200,
    calls_requests=3,
    first_repetitions=1,
    first_warm_each=1,
    latency_ms=5.0,
    webhook_rounds=5,
    slow_webhook_rounds=2,
    get_rounds=10,
    burst_events=50,
    burst_in_flight=16,
    burst_users=2,
    burst_live_changes=4,
    body_rounds=10,
    checkout_rounds=2,
)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": int(nproc) if nproc.isdigit() else None,
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it (the JSON is committed)."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def count_requests(server: FrameworkServer) -> int:
    """Requests the function has answered: one structured log line with `httpRequest` each."""
    lines = server.process.log_text().splitlines()
    return sum(1 for line in lines if line.startswith("{") and '"httpRequest"' in line)


def prime(server: FrameworkServer, parts: LocalParts) -> None:
    """The instance's first request (it fetches the signing keys); later ones are warm."""
    ((_, token),) = warm.Users(parts, "bench-prime").fresh(1)
    client.post_ok(requests.Session(), server.url, token)


def seed_returning_user(parts: LocalParts, env: dict[str, str], function_dir: Path) -> str:
    """A user already mapped in `env`'s collection: whom a just-started instance serves."""
    ((_, token),) = warm.Users(parts, "bench-cold").fresh(1)
    server = spawn_framework("seed", FUNCTION_TARGET, function_dir, env, parts.log_dir, wait=True)
    try:
        client.post_ok(requests.Session(), server.url, token)
    finally:
        server.stop()
    return token


def _first_request_phase(
    profile: Profile, parts: LocalParts, function_dir: Path, env: dict[str, str]
) -> dict[str, Any]:
    seed = spawn_framework(
        "first-seed", FUNCTION_TARGET, function_dir, env, parts.log_dir, wait=True
    )
    try:
        return firstreq.first_requests(
            parts,
            env=env,
            function_dir=function_dir,
            delays_ms=[0.0, profile.latency_ms],
            repetitions=profile.first_repetitions,
            warm_each=profile.first_warm_each,
            seed_url=seed.url,
        )
    finally:
        seed.stop()


def _warm_phases(
    profile: Profile, parts: LocalParts, function_dir: Path, threads: int
) -> dict[str, Any]:
    env = function_env(parts, threads=threads)
    function = spawn_framework(
        "warm-function", FUNCTION_TARGET, function_dir, env, parts.log_dir, wait=True
    )
    hello = spawn_framework("warm-hello", HELLO_TARGET, HELLO_DIR, env, parts.log_dir, wait=True)
    try:
        prime(function, parts)
        fetches_before = parts.issuer.stats()["jwks_fetches"]
        floor_collection = f"{env['CUSTOMERS_COLLECTION']}_floor"
        phases = {}
        for key, latency, returning_rounds, new_rounds in (
            ("fast", 0, profile.returning_rounds, profile.new_rounds),
            (
                "stripe_like",
                STRIPE_LIKE_LATENCY_MS,
                profile.slow_returning_rounds,
                profile.slow_new_rounds,
            ),
        ):
            phases[key] = warm.warm_latency(
                parts,
                function,
                hello,
                floor_collection=floor_collection,
                returning_rounds=returning_rounds,
                new_rounds=new_rounds,
                latency_ms=latency,
            )
        calls = warm.calls_per_request(parts, function, requests_each=profile.calls_requests)
        body_scan = bodies.worst_case_body(parts, function, rounds=profile.body_rounds)
        webhook_result = _webhook_phase(profile, parts, function, env, function_dir)
        fetches = parts.issuer.stats()["jwks_fetches"] - fetches_before
        warm_requests = max(0, count_requests(function) - 1)
    finally:
        function.stop()
        hello.stop()
    return {
        "warm": phases,
        "calls": calls,
        "body_scan": body_scan,
        "webhook": webhook_result,
        "fetches": fetches,
        "requests": warm_requests,
    }


def _webhook_phase(
    profile: Profile,
    parts: LocalParts,
    function: FrameworkServer,
    env: dict[str, str],
    function_dir: Path,
) -> dict[str, Any]:
    """Webhook and `GET` latency, calls per request and the burst: one webhook instance beside
    the warm session function (same mapping collection, as a stack deploys them)."""
    instance = webhook.spawn_webhook(env, function_dir, parts.log_dir)
    try:
        price = webhook.new_price(parts)
        webhook.grant_feature(parts, price)  # its subscribers have an entitlement
        (user,) = webhook.subscribers(parts, function, "bench-webhook", 1, 1, price)
        # A real `customer.subscription.updated`: the user sets the plan to cancel.
        webhook.change(parts.standin.client(), user.subscriptions[0], 0)
        latency = {}
        for key, stripe_ms, rounds in (
            ("fast", 0, profile.webhook_rounds),
            ("stripe_like", STRIPE_LIKE_LATENCY_MS, profile.slow_webhook_rounds),
        ):
            latency[key] = webhook.webhook_latency(
                parts,
                instance,
                user,
                collection=env["CUSTOMERS_COLLECTION"],
                floor_collection=f"{env['CUSTOMERS_COLLECTION']}_webhook_floor",
                rounds=rounds,
                latency_ms=stripe_ms,
            )
        # The entitlement summary the subscription's creation recorded, at Stripe-like latency.
        latency["summary_stripe_like"] = webhook.webhook_latency(
            parts,
            instance,
            user,
            collection=env["CUSTOMERS_COLLECTION"],
            floor_collection=f"{env['CUSTOMERS_COLLECTION']}_webhook_floor",
            rounds=profile.slow_webhook_rounds,
            latency_ms=STRIPE_LIKE_LATENCY_MS,
            event_type=webhook.SUMMARY_EVENT,
        )
        get = webhook.get_latency(parts, function, user, rounds=profile.get_rounds)
        calls = webhook.calls_per_request(
            parts, function, instance, user, each=profile.calls_requests
        )
        burst_users = webhook.subscribers(
            parts, function, "bench-burst", profile.burst_users, 2, price
        )
        burst = webhook.burst(
            parts,
            function,
            instance,
            burst_users,
            events=profile.burst_events,
            in_flight=profile.burst_in_flight,
            live_changes=profile.burst_live_changes,
        )
    finally:
        instance.stop()
    return {
        "latency": latency,
        "get": get,
        "calls_per_request": calls,
        "design_calls": {"webhook": webhook.DESIGN_CALLS, "get": webhook.GET_DESIGN_CALLS},
        "issue_floor_calls": webhook.ISSUE_CALLS,
        "burst": burst,
    }


def _load_phase(
    profile: Profile, parts: LocalParts, function_dir: Path, threads: int
) -> dict[str, Any]:
    env = function_env(parts, threads=threads)
    function = spawn_framework(
        "load-function", FUNCTION_TARGET, function_dir, env, parts.log_dir, wait=True
    )
    try:
        prime(function, parts)
        fetches_before = parts.issuer.stats()["jwks_fetches"]
        levels = sorted({1, max(1, threads // 2), threads, 2 * threads})
        result = load.load(
            parts,
            function,
            threads=threads,
            levels=levels,
            latency_ms=LOAD_LATENCY_MS,
            seconds=profile.load_seconds,
            max_requests=profile.load_max_requests,
        )
        fetches = parts.issuer.stats()["jwks_fetches"] - fetches_before
        warm_requests = max(0, count_requests(function) - 1)
    finally:
        function.stop()
    return {"load": result, "fetches": fetches, "requests": warm_requests}


def measure(profile: Profile, *, function_dir: Path, threads: int, log_dir: Path) -> dict[str, Any]:
    """Every measurement of one run, as the JSON document (without rows and verdicts)."""
    started = time.time()
    load_before = os.getloadavg()
    with local_parts(log_dir) as parts:
        cold_env = function_env(parts, threads=threads)
        token = seed_returning_user(parts, cold_env, function_dir)
        cold_start = cold.cold_starts(
            function_dir=function_dir,
            env=cold_env,
            token=token,
            repetitions=profile.cold_repetitions,
            discarded=profile.cold_discarded,
            log_dir=parts.log_dir,
        )
        imports = cold.import_times(
            function_dir=function_dir, env=cold_env, runs=profile.import_runs
        )
        first = _first_request_phase(profile, parts, function_dir, cold_env)
        warm_result = _warm_phases(profile, parts, function_dir, threads)
        checkout_result = checkout.checkout_phase(
            parts,
            function_dir,
            threads,
            rounds=profile.checkout_rounds,
            return_rounds=profile.checkout_rounds,
        )
        load_result = _load_phase(profile, parts, function_dir, threads)
    fetches = warm_result["fetches"] + load_result["fetches"]
    requests_total = warm_result["requests"] + load_result["requests"]
    return {
        "schema": 5,
        "mode": profile.name,
        "started_at": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(),
        "duration_s": round(time.time() - started, 1),
        "machine": {
            **machine(),
            # Other work on the machine shows up in every number: keep the evidence.
            "loadavg_1m_before": round(load_before[0], 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
        },
        "config": {
            "threads": threads,
            "function_dir": _shown(function_dir),
            "load_stripe_latency_ms": LOAD_LATENCY_MS,
            "stripe_like_latency_ms": STRIPE_LIKE_LATENCY_MS,
            "latency_mode_delays_ms": [0.0, profile.latency_ms],
            "profile": asdict(profile),
        },
        "cold_start": cold_start,
        "import_time": imports,
        "first_request": first,
        "warm": warm_result["warm"],
        "calls_per_request": warm_result["calls"],
        "body_scan": warm_result["body_scan"],
        "webhook": warm_result["webhook"],
        "checkout": checkout_result,
        "load": load_result["load"],
        "key_fetches": {
            "warm_requests": requests_total,
            "warm_fetches": fetches,
            "per_1000": round(fetches * 1000.0 / requests_total, 3) if requests_total else 0.0,
            "jwks_max_age_s": JWKS_MAX_AGE,
        },
    }


def run(profile: Profile, *, function_dir: Path, threads: int, out_dir: Path) -> int:
    """Measure, print the table, write the JSON; 0 when it ran (misses are reported, not fatal)."""
    busy = os.getloadavg()[0]
    if busy > BUSY_LOADAVG:
        print(
            f"note: the machine is busy (1-minute load average {busy:.2f}); "
            "expect noisy numbers, or re-run when it is idle.",
            flush=True,
        )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    if profile.name != "full":
        stamp = f"{stamp}-{profile.name}"
    log_dir = LOG_DIR / stamp
    print(
        f"billing-portal benchmark ({profile.name}), N = {threads} threads; "
        f"server logs in {log_dir}",
        flush=True,
    )
    doc = measure(profile, function_dir=function_dir, threads=threads, log_dir=log_dir)
    rows, targets = report.evaluate(doc)
    doc["targets"] = targets
    doc["rows"] = report.rows_as_dicts(rows)
    print()
    print(report.render(rows))
    print()
    print(report.render_details(doc))
    latest = "latest.json" if profile.name == "full" else f"{profile.name}-latest.json"
    paths = report.write(doc, out_dir, latest_name=latest, stamp=stamp)
    print(f"\nwrote {', '.join(str(p) for p in paths)}", flush=True)
    return 0
