"""The benchmark cannot rot: its smoke run starts everything, measures a little, prints the
whole table and writes a JSON document with every section (the full run is `python -m bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.report import (
    CHECKOUT_MAX_RATIO,
    FIRST_REQUEST_MAX_RATIO,
    JSON_KEYS,
    RETURN_MAX_RATIO,
    WEBHOOK_MAX_RATIO,
    row_labels,
)
from local.process import REPO_ROOT

pytestmark = pytest.mark.integration

# The smoke run starts new instances at two latencies, sends a webhook burst and measures checkout
# and the entitlement summary (about 55 s on a quiet 2-CPU machine; 93 s once on a machine shared
# with other test runs): the budget keeps it from growing unnoticed, with room for a busy runner.
SMOKE_BUDGET_SECONDS = 120


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, float]:
    """One `python -m bench --smoke` into a temporary folder: its stdout, folder and duration."""
    out = tmp_path_factory.mktemp("bench-results")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout, out, seconds


def test_prints_every_row_of_the_table(smoke_run: tuple[str, Path, float]) -> None:
    stdout, out, _ = smoke_run
    doc = json.loads((out / "smoke-latest.json").read_text(encoding="utf-8"))
    table = stdout.split("\n\n")[1]
    assert table.splitlines()[0].split()[:2] == ["measurement", "function"]
    for label in row_labels(doc):
        lines = [line for line in table.splitlines() if line.startswith(label)]
        assert len(lines) == 1, f"row {label!r} missing or repeated in:\n{table}"
        assert lines[0].rstrip().endswith(("pass", "MISS", "info")), lines[0]


def test_writes_json_with_every_section(smoke_run: tuple[str, Path, float]) -> None:
    _, out, _ = smoke_run
    stamped = list(out.glob("*-smoke.json"))
    assert len(stamped) == 1
    doc = json.loads((out / "smoke-latest.json").read_text(encoding="utf-8"))
    assert doc == json.loads(stamped[0].read_text(encoding="utf-8"))
    assert set(JSON_KEYS) <= set(doc)
    assert doc["mode"] == "smoke"
    assert [row["label"] for row in doc["rows"]] == list(row_labels(doc))


def test_every_targeted_row_has_a_verdict_that_follows_from_its_numbers(
    smoke_run: tuple[str, Path, float],
) -> None:
    _, out, _ = smoke_run
    doc = json.loads((out / "smoke-latest.json").read_text(encoding="utf-8"))
    targeted = [row for row in doc["rows"] if row["verdict"] != "info"]
    targets = doc["targets"]
    # cold start, first request (2 users × 2 latency-mode delays), 2 users × 2 Stripe latencies,
    # the worst-case body, the webhook (2 floors × 2 Stripe latencies), the entitlement summary
    # event, GET, the burst, checkout and its return, one per load level, key fetches
    delays = doc["first_request"]["delays"]
    assert [phase["delay_ms"] for phase in delays] == doc["config"]["latency_mode_delays_ms"]
    expected_count = (
        1 + 2 * len(delays) + 4 + 1 + 4 + 1 + 1 + 1 + 2 + len(doc["load"]["levels"]) + 1
    )
    assert len(targets) == expected_count, sorted(targets)
    for key in ("fast", "stripe_like"):
        result = doc["webhook"]["latency"][key]
        for floor in ("issue", "design"):
            target = targets[f"webhook_{floor}_p50_ratio_{result['stripe_latency_ms']}ms"]
            assert target["limit"] == WEBHOOK_MAX_RATIO
            assert target["measured"] == result[f"ratio_p50_{floor}"]
            assert target["measured"] == round(
                result["function"]["p50"] / result[f"{floor}_floor"]["p50"], 3
            )
    assert targets["get_p50_ratio"]["measured"] == doc["webhook"]["get"]["ratio_p50"]
    summary = doc["webhook"]["latency"]["summary_stripe_like"]
    target = targets[f"summary_design_p50_ratio_{summary['stripe_latency_ms']}ms"]
    assert target["limit"] == WEBHOOK_MAX_RATIO
    assert target["measured"] == round(
        summary["function"]["p50"] / summary["design_floor"]["p50"], 3
    )
    for key, limit in (("checkout", CHECKOUT_MAX_RATIO), ("return", RETURN_MAX_RATIO)):
        result = doc["checkout"][key]
        target = targets[f"{key}_p50_ratio_{result['stripe_latency_ms']}ms"]
        assert target["limit"] == limit and result["stripe_latency_ms"] == 100
        assert target["measured"] == round(result["function"]["p50"] / result["floor"]["p50"], 3)
    body = doc["body_scan"]
    assert body["bytes"]["worst"] == body["bytes"]["plain"] == 16 * 1024
    assert targets["worst_body_p50_ratio"]["measured"] == round(
        body["worst"]["p50"] / body["plain"]["p50"], 3
    )
    burst = doc["webhook"]["burst"]
    failures = targets["webhook_burst_failures"]
    assert failures["limit"] == 0
    assert failures["measured"] == burst["lost"] + burst["errors"] + burst["users_unequal"]
    for phase in delays:
        for kind in ("returning", "new"):
            target = targets[f"first_{kind}_ratio_{phase['delay_ms']:g}ms"]
            assert target["limit"] == FIRST_REQUEST_MAX_RATIO
            assert target["measured"] == phase[kind]["ratio"]
    assert len(targeted) == len(targets), "a target without a table row, or a row without one"
    for name, target in targets.items():
        assert isinstance(target["pass"], bool), name
        if name.startswith("throughput_"):
            expected = target["measured"] >= target["limit"] and target["errors"] == 0
        else:
            expected = target["measured"] <= target["limit"]
        assert target["pass"] == expected, f"{name}: {target}"
    table_passes = sorted(row["verdict"] == "pass" for row in targeted)
    assert table_passes == sorted(target["pass"] for target in targets.values())


def test_measurements_are_plausible(smoke_run: tuple[str, Path, float]) -> None:
    _, out, _ = smoke_run
    doc = json.loads((out / "smoke-latest.json").read_text(encoding="utf-8"))
    threads = doc["config"]["threads"]
    assert doc["cold_start"]["function_ms"] > 0 and doc["cold_start"]["hello_ms"] > 0
    assert doc["import_time"]["top_cumulative"][0]["module"] == "main"
    first = doc["first_request"]
    assert first["listening"]["function_ms"] > 0 and first["listening"]["hello_ms"] > 0
    # The smoke run exercises the latency mode with a non-zero delay, through the proxies.
    assert doc["config"]["latency_mode_delays_ms"][0] == 0
    assert doc["config"]["latency_mode_delays_ms"][1] > 0
    for phase in first["delays"]:
        for kind in ("returning", "new"):
            result = phase[kind]
            assert result["first_ms"] > 0 and result["warm_ms"] > 0
            for instance in result["instances"]:
                # every dependency was reached through its proxy
                assert all(instance["connections_until_first_answered"].values()), instance
    for phase in doc["warm"].values():
        for user in ("returning", "new"):
            assert phase[user]["function"]["p50"] > 0 and phase[user]["floor"]["p50"] > 0
    levels = [level["concurrency"] for level in doc["load"]["levels"]]
    assert levels == sorted({1, max(1, threads // 2), threads, 2 * threads})
    assert all(level["completed"] > 0 for level in doc["load"]["levels"])
    assert doc["load"]["worker_peak_rss_mib"] > 0
    hook = doc["webhook"]
    for result in hook["latency"].values():
        for series in ("function", "issue_floor", "design_floor"):
            assert result[series]["p50"] > 0, series
    assert hook["get"]["function"]["p50"] > 0 and hook["get"]["floor"]["p50"] > 0
    burst = hook["burst"]
    assert burst["deliveries"] >= burst["events_requested"] > 0
    assert burst["distinct_events"] > burst["users"] > 0
    assert burst["deliveries"] == sum(burst["statuses"].values())
    # Targets are reported, not asserted here; counts just have to be there.
    assert hook["calls_per_request"]["webhook"]["stripe"] > 0
    assert doc["calls_per_request"]["returning"]["stripe"] > 0
    assert doc["key_fetches"]["warm_requests"] > 0


def test_stays_within_the_ci_budget(smoke_run: tuple[str, Path, float]) -> None:
    _, _, seconds = smoke_run
    assert seconds < SMOKE_BUDGET_SECONDS
