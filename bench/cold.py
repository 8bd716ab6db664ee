"""Cold start: process start → first 200, the function against a hello-world function.

Both are started by the same functions-framework command with the same environment, one after
the other (alternating, so a slow moment hits both alike), and polled with the same request:
the function's first 200 is a real portal session for a returning user — on a new instance that
includes the first signing-key fetch, the first Firestore read and the first Stripe connection,
which is what the user whose request started the instance waits for.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from bench import client
from bench.servers import (
    FUNCTION_TARGET,
    HELLO_DIR,
    HELLO_TARGET,
    FrameworkServer,
    spawn_framework,
)

POLL_SECONDS = 0.005
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def time_to_first_200(server: FrameworkServer, token: str, started: float, limit: float) -> float:
    """Seconds from `started` until `server` answers the portal request with 200."""
    deadline = started + limit
    while time.perf_counter() < deadline:
        try:
            response = client.post(None, server.url, token)
        except requests.ConnectionError:
            if not server.process.alive():
                raise client.BenchError(
                    f"{server.name} exited while starting:\n{server.process.log_tail()}"
                ) from None
            time.sleep(POLL_SECONDS)
            continue
        if response.status_code != 200:
            raise client.BenchError(
                f"{server.name}'s first answer was {response.status_code}: {response.text[:300]}"
            )
        return time.perf_counter() - started
    raise client.BenchError(f"{server.name} did not answer 200 within {limit:.0f}s")


def first_request_ms(server: FrameworkServer) -> float | None:
    """The function's own latency for its first request, from its structured log line."""
    for line in server.process.log_text().splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        latency = (entry.get("httpRequest") or {}).get("latency")
        if isinstance(latency, str) and latency.endswith("s"):
            return float(latency[:-1]) * 1000.0
    return None


def cold_starts(
    *,
    function_dir: Path,
    env: Mapping[str, str],
    token: str,
    repetitions: int,
    discarded: int,
    log_dir: Path,
    limit: float = 60.0,
) -> dict[str, Any]:
    """Median start → first 200 of the function and of hello-world, with every sample."""
    kinds = {
        "function": (FUNCTION_TARGET, function_dir),
        "hello": (HELLO_TARGET, HELLO_DIR),
    }
    samples: dict[str, list[float]] = defaultdict(list)
    first_requests: list[float] = []
    for index in range(discarded + repetitions):
        # Alternate which goes first, so neither always follows the other's teardown.
        order = list(kinds) if index % 2 == 0 else list(reversed(kinds))
        for kind in order:
            target, source = kinds[kind]
            started = time.perf_counter()
            server = spawn_framework(f"cold-{kind}", target, source, env, log_dir, wait=False)
            try:
                seconds = time_to_first_200(server, token, started, limit)
            finally:
                server.stop()
            if index < discarded:
                continue  # the first start also warms the page cache and the .pyc files
            samples[kind].append(seconds)
            if kind == "function" and (ms := first_request_ms(server)) is not None:
                first_requests.append(ms)
    function_ms = statistics.median(samples["function"]) * 1000.0
    hello_ms = statistics.median(samples["hello"]) * 1000.0
    return {
        "repetitions": repetitions,
        "discarded": discarded,
        "function_ms": round(function_ms, 1),
        "hello_ms": round(hello_ms, 1),
        "ratio": round(function_ms / hello_ms, 3),
        "function_samples_ms": [round(s * 1000.0, 1) for s in samples["function"]],
        "hello_samples_ms": [round(s * 1000.0, 1) for s in samples["hello"]],
        "function_first_request_ms": (
            round(statistics.median(first_requests), 1) if first_requests else None
        ),
    }


def parse_importtime(stderr: str) -> list[dict[str, Any]]:
    """`-X importtime` lines as dicts: module, depth, self_ms, cumulative_ms (in order)."""
    rows = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            rows.append(
                {
                    "module": match[4],
                    "depth": len(match[3]) // 2,
                    "self_ms": int(match[1]) / 1000.0,
                    "cumulative_ms": int(match[2]) / 1000.0,
                }
            )
    return rows


def import_main(source_dir: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """`python -X importtime -c "import main"` in `source_dir`, parsed.

    For the function, `import main` also builds the app (settings, clients): exactly the work
    an instance does before it can serve.
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import main"],
        cwd=source_dir,
        env={**env, "PYTHONPATH": str(source_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise client.BenchError(f"import main failed in {source_dir}:\n{result.stderr[-2000:]}")
    return parse_importtime(result.stderr)


def _main_ms(rows: list[dict[str, Any]]) -> float:
    return next(row["cumulative_ms"] for row in rows if row["module"] == "main")


def self_time_by_package(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Exclusive import time per top-level package (`google`, `flask`, …), largest first.

    Self times add up without double counting, whichever module imported a package first.
    """
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row["module"].split(".")[0]] += row["self_ms"]
    ordered = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return {name: round(ms, 1) for name, ms in ordered}


def import_times(
    *, function_dir: Path, env: Mapping[str, str], runs: int, top: int = 15
) -> dict[str, Any]:
    """Median `import main` time of the function and of hello-world, and where it goes."""
    function_runs = [import_main(function_dir, env) for _ in range(runs)]
    hello_runs = [import_main(HELLO_DIR, env) for _ in range(runs)]
    function_runs.sort(key=_main_ms)
    median_run = function_runs[len(function_runs) // 2]
    function_ms = statistics.median(_main_ms(rows) for rows in function_runs)
    hello_ms = statistics.median(_main_ms(rows) for rows in hello_runs)
    by_cumulative = sorted(median_run, key=lambda row: row["cumulative_ms"], reverse=True)
    return {
        "runs": runs,
        "function_ms": round(function_ms, 1),
        "hello_ms": round(hello_ms, 1),
        "ratio": round(function_ms / hello_ms, 3),
        "top_cumulative": [
            {
                **row,
                "self_ms": round(row["self_ms"], 1),
                "cumulative_ms": round(row["cumulative_ms"], 1),
            }
            for row in by_cumulative[:top]
        ],
        "self_by_package": dict(list(self_time_by_package(median_run).items())[:top]),
    }
