"""The run's verdicts, its table and its JSON file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

COLD_START_MAX_RATIO = 2.0
RETURNING_MAX_RATIO = 1.05
NEW_USER_MAX_RATIO = 1.10
FIRST_REQUEST_MAX_RATIO = 1.10
THROUGHPUT_MIN_FRACTION = 0.90
WEBHOOK_MAX_RATIO = 1.10
GET_MAX_RATIO = 1.10
WORST_BODY_MAX_RATIO = 1.5
CHECKOUT_MAX_RATIO = 1.05
RETURN_MAX_RATIO = 1.10
CHECKOUT_LABELS = (
    "POST /checkout, returning user after the page's GET, stand-in +100 ms: p50/p95/p99 ms",
    "… state not read by this instance yet, vs the design's floor",
    "return GET ?checkout_session=, complete, stand-in +100 ms: p50/p95/p99 ms",
)

LOAD_LABELS = ("load, 1 client", "load, N/2 clients", "load, N clients", "load, 2N clients")
LISTENING_LABEL = "time to listening: start → port accepts, median ms"
FIRST_KINDS = ("returning", "new")


def first_request_label(kind: str, delay_ms: float) -> str:
    """The row of a new instance's first request of one kind of user at one latency."""
    return f"first request, {kind} user, latency +{delay_ms:g} ms: median ms"


# The rows that do not depend on the run's latency delays, in order.
ROW_LABELS = (
    "cold start: start → first 200, median ms",
    "import main (incl. app build), median ms",
    "returning user, stand-in +0 ms: p50/p95/p99 ms",
    "new user, stand-in +0 ms: p50/p95/p99 ms",
    "returning user, stand-in +100 ms: p50/p95/p99 ms",
    "new user, stand-in +100 ms: p50/p95/p99 ms",
    "HTTP hop (hello-world), +0 ms: p50/p95/p99 ms",
    "calls per returning request (Stripe, Firestore)",
    "calls per new-user request (Stripe, Firestore)",
    "worst-case body vs a plain body, 16 KiB, both 400: p50/p95/p99 ms",
    "webhook event → state written, +0 ms, vs the issue's floor: p50/p95/p99 ms",
    "webhook event → state written, +0 ms, vs the design's floor: p50/p95/p99 ms",
    "webhook event → state written, +100 ms, vs the issue's floor: p50/p95/p99 ms",
    "webhook event → state written, +100 ms, vs the design's floor: p50/p95/p99 ms",
    "entitlement summary event → state written, +100 ms, vs the design's floor: p50/p95/p99 ms",
    "GET, returning user with a state document: p50/p95/p99 ms",
    "calls per webhook event (Stripe, Firestore)",
    "calls per GET (Stripe, Firestore)",
    "webhook burst to one instance",
    *CHECKOUT_LABELS,
    *LOAD_LABELS,
    "peak RSS of the gunicorn worker, MiB",
    "signing-key fetches per 1,000 warm requests",
)


def row_labels(doc: dict[str, Any]) -> tuple[str, ...]:
    """Every row the table of `doc` has, in order (the smoke test checks each one is printed)."""
    first = [
        first_request_label(kind, phase["delay_ms"])
        for phase in doc["first_request"]["delays"]
        for kind in FIRST_KINDS
    ]
    return (*ROW_LABELS[:2], LISTENING_LABEL, *first, *ROW_LABELS[2:])


JSON_KEYS = (
    "schema",
    "mode",
    "started_at",
    "duration_s",
    "machine",
    "config",
    "cold_start",
    "import_time",
    "first_request",
    "warm",
    "calls_per_request",
    "body_scan",
    "webhook",
    "checkout",
    "load",
    "key_fetches",
    "targets",
    "rows",
)
HEADERS = ("measurement", "function", "floor / reference", "ratio", "target", "result")


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    label: str
    function: str
    floor: str
    ratio: str
    target: str
    verdict: str  # "pass", "MISS" or "info"


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else "pass" if ok else "MISS"


def _pcts(summary: dict[str, Any]) -> str:
    return f"{summary['p50']:.2f} / {summary['p95']:.2f} / {summary['p99']:.2f}"


def _warm_row(label: str, result: dict[str, Any], limit: float) -> tuple[Row, bool]:
    ok = result["ratio_p50"] <= limit
    row = Row(
        label,
        _pcts(result["function"]),
        _pcts(result["floor"]),
        f"{result['ratio_p50']:.2f}× p50",
        f"p50 ≤ {limit:.2f}×",
        _verdict(ok),
    )
    return row, ok


def _calls(counts: dict[str, Any]) -> str:
    return f"{counts['stripe']:g}, {counts['firestore']:g}"


def evaluate(doc: dict[str, Any]) -> tuple[list[Row], dict[str, dict[str, Any]]]:
    """The table rows and the target verdicts of a measured run."""
    rows: list[Row] = []
    targets: dict[str, dict[str, Any]] = {}
    labels = iter(row_labels(doc))

    cold = doc["cold_start"]
    ok = cold["ratio"] <= COLD_START_MAX_RATIO
    targets["cold_start_ratio"] = {
        "limit": COLD_START_MAX_RATIO,
        "measured": cold["ratio"],
        "pass": ok,
    }
    rows.append(
        Row(
            next(labels),
            f"{cold['function_ms']:.0f}",
            f"{cold['hello_ms']:.0f} (hello-world)",
            f"{cold['ratio']:.2f}×",
            f"≤ {COLD_START_MAX_RATIO:.2f}×",
            _verdict(ok),
        )
    )
    imports = doc["import_time"]
    rows.append(
        Row(
            next(labels),
            f"{imports['function_ms']:.0f}",
            f"{imports['hello_ms']:.0f} (hello-world)",
            f"{imports['ratio']:.2f}×",
            "–",
            "info",
        )
    )
    listening = doc["first_request"]["listening"]
    rows.append(
        Row(
            next(labels),
            f"{listening['function_ms']:.0f}",
            f"{listening['hello_ms']:.0f} (hello-world)",
            f"{listening['ratio']:.2f}×",
            "–",
            "info",
        )
    )
    for phase in doc["first_request"]["delays"]:
        for kind in FIRST_KINDS:
            result = phase[kind]
            ok = result["ratio"] <= FIRST_REQUEST_MAX_RATIO
            targets[f"first_{kind}_ratio_{phase['delay_ms']:g}ms"] = {
                "limit": FIRST_REQUEST_MAX_RATIO,
                "measured": result["ratio"],
                "pass": ok,
            }
            rows.append(
                Row(
                    next(labels),
                    f"{result['first_ms']:.1f} (first)",
                    f"{result['warm_ms']:.1f} (warm, same kind)",
                    f"{result['ratio']:.2f}× ({result['instance_ratio_min']:.2f}–"
                    f"{result['instance_ratio_max']:.2f})",
                    f"≤ {FIRST_REQUEST_MAX_RATIO:.2f}×",
                    _verdict(ok),
                )
            )
    for key in ("fast", "stripe_like"):
        phase = doc["warm"][key]
        for user, limit in (("returning", RETURNING_MAX_RATIO), ("new", NEW_USER_MAX_RATIO)):
            row, ok = _warm_row(next(labels), phase[user], limit)
            rows.append(row)
            targets[f"{user}_p50_ratio_{phase['stripe_latency_ms']}ms"] = {
                "limit": limit,
                "measured": phase[user]["ratio_p50"],
                "pass": ok,
            }
    hop = doc["warm"]["fast"]["returning"]["hello"]
    rows.append(Row(next(labels), _pcts(hop), "–", "–", "–", "info"))
    calls = doc["calls_per_request"]
    rows.append(Row(next(labels), _calls(calls["returning"]), "1, 0 (design)", "–", "–", "info"))
    rows.append(Row(next(labels), _calls(calls["new"]), "3, 2 (design)", "–", "–", "info"))
    body = doc["body_scan"]
    ok = body["ratio_p50"] <= WORST_BODY_MAX_RATIO
    targets["worst_body_p50_ratio"] = {
        "limit": WORST_BODY_MAX_RATIO,
        "measured": body["ratio_p50"],
        "pass": ok,
    }
    rows.append(
        Row(
            next(labels),
            _pcts(body["worst"]),
            f"{_pcts(body['plain'])} (plain)",
            f"{body['ratio_p50']:.2f}× p50",
            f"p50 ≤ {WORST_BODY_MAX_RATIO:.2f}×",
            _verdict(ok),
        )
    )
    _webhook_rows(doc["webhook"], labels, rows, targets)
    checkout_rows_, checkout_targets = checkout_rows(doc["checkout"])
    for row in checkout_rows_:
        if next(labels) != row.label:
            raise ValueError(f"row {row.label!r} out of order")
        rows.append(row)
    targets.update(checkout_targets)

    load = doc["load"]
    for level in load["levels"]:
        fraction = level["fraction_of_theoretical"]
        ok = fraction >= THROUGHPUT_MIN_FRACTION and level["errors"] == 0
        p50 = level.get("latency_ms", {}).get("p50", float("nan"))
        floor = level["floor"]
        floor_share = floor["function_fraction_of_floor"] or 0.0
        targets[f"throughput_c{level['concurrency']}"] = {
            "limit": THROUGHPUT_MIN_FRACTION,
            "measured": fraction,
            "errors": level["errors"],
            "pass": ok,
        }
        rows.append(
            Row(
                next(labels),
                f"c={level['concurrency']}: {level['throughput_rps']:.1f} req/s, "
                f"{level['errors']} err, p50 {p50:.0f} ms",
                f"{level['theoretical_rps']:.0f} theory, {floor['throughput_rps']:.1f} direct",
                f"{fraction * 100:.1f} % ({floor_share * 100:.0f} % of direct)",
                f"≥ {THROUGHPUT_MIN_FRACTION * 100:.0f} %, 0 err",
                _verdict(ok),
            )
        )
    rows.append(
        Row(
            next(labels),
            f"{load['worker_peak_rss_mib']:.1f}",
            f"master {load['master_peak_rss_mib']:.1f}",
            "–",
            "–",
            "info",
        )
    )
    fetches = doc["key_fetches"]
    ok = fetches["warm_fetches"] == 0
    targets["key_fetches_warm"] = {"limit": 0, "measured": fetches["per_1000"], "pass": ok}
    rows.append(
        Row(
            next(labels),
            f"{fetches['per_1000']:g} ({fetches['warm_fetches']} in {fetches['warm_requests']})",
            "0",
            "–",
            "0",
            _verdict(ok),
        )
    )
    return rows, targets


def checkout_rows(
    checkout: dict[str, Any],
) -> tuple[list[Row], dict[str, dict[str, Any]]]:
    """`POST /checkout` against one session create, the return against retrieve + list + write
    (both at the stand-in's +100 ms; `bench/checkout.py`)."""
    rows: list[Row] = []
    targets: dict[str, dict[str, Any]] = {}
    design = checkout["checkout"]
    design_row = Row(
        CHECKOUT_LABELS[1],
        _pcts(design["cold"]),
        f"{_pcts(design['design_floor'])} (state read + create)",
        f"{design['ratio_p50_cold_design']:.2f}× p50 ({design['ratio_p50_cold']:.2f}× create)",
        "–",
        "info",
    )
    for key, label, limit, floor in (
        ("checkout", CHECKOUT_LABELS[0], CHECKOUT_MAX_RATIO, "1 session create"),
        ("return", CHECKOUT_LABELS[2], RETURN_MAX_RATIO, "retrieve + list + write"),
    ):
        result = checkout[key]
        ok = result["ratio_p50"] <= limit
        targets[f"{key}_p50_ratio_{result['stripe_latency_ms']}ms"] = {
            "limit": limit,
            "measured": result["ratio_p50"],
            "pass": ok,
        }
        rows.append(
            Row(
                label,
                _pcts(result["function"]),
                f"{_pcts(result['floor'])} ({floor})",
                f"{result['ratio_p50']:.2f}× p50",
                f"p50 ≤ {limit:.2f}×",
                _verdict(ok),
            )
        )
        if key == "checkout":
            rows.append(design_row)
    return rows, targets


def _webhook_rows(
    hook: dict[str, Any],
    labels: Iterator[str],
    rows: list[Row],
    targets: dict[str, dict[str, Any]],
) -> None:
    """The webhook's latency rows (two floors each), `GET`, their call counts and the burst."""
    design = _calls(hook["design_calls"]["webhook"])
    issue = _calls(hook["issue_floor_calls"])
    for key in ("fast", "stripe_like"):
        result = hook["latency"][key]
        ms = result["stripe_latency_ms"]
        for floor, calls_text in (("issue", issue), ("design", design)):
            ratio = result[f"ratio_p50_{floor}"]
            ok = ratio <= WEBHOOK_MAX_RATIO
            targets[f"webhook_{floor}_p50_ratio_{ms}ms"] = {
                "limit": WEBHOOK_MAX_RATIO,
                "measured": ratio,
                "pass": ok,
            }
            rows.append(
                Row(
                    next(labels),
                    _pcts(result["function"]),
                    f"{_pcts(result[f'{floor}_floor'])} ({calls_text})",
                    f"{ratio:.2f}× p50",
                    f"p50 ≤ {WEBHOOK_MAX_RATIO:.2f}×",
                    _verdict(ok),
                )
            )
    summary = hook["latency"].get("summary_stripe_like")
    if summary is not None:  # results recorded before entitlements have no such row
        ratio = summary["ratio_p50_design"]
        ok = ratio <= WEBHOOK_MAX_RATIO
        targets[f"summary_design_p50_ratio_{summary['stripe_latency_ms']}ms"] = {
            "limit": WEBHOOK_MAX_RATIO,
            "measured": ratio,
            "pass": ok,
        }
        rows.append(
            Row(
                next(labels),
                _pcts(summary["function"]),
                f"{_pcts(summary['design_floor'])} ({design})",
                f"{ratio:.2f}× p50",
                f"p50 ≤ {WEBHOOK_MAX_RATIO:.2f}×",
                _verdict(ok),
            )
        )
    else:
        next(labels)
    get = hook["get"]
    ok = get["ratio_p50"] <= GET_MAX_RATIO
    targets["get_p50_ratio"] = {"limit": GET_MAX_RATIO, "measured": get["ratio_p50"], "pass": ok}
    rows.append(
        Row(
            next(labels),
            _pcts(get["function"]),
            f"{_pcts(get['floor'])} (1 read)",
            f"{get['ratio_p50']:.2f}× p50",
            f"p50 ≤ {GET_MAX_RATIO:.2f}×",
            _verdict(ok),
        )
    )
    calls = hook["calls_per_request"]
    rows.append(
        Row(
            next(labels),
            _calls(calls["webhook"]),
            f"{design} (design), {issue} (issue's floor)",
            "–",
            "–",
            "info",
        )
    )
    rows.append(
        Row(
            next(labels),
            _calls(calls["get"]),
            f"{_calls(hook['design_calls']['get'])} (design)",
            "–",
            "–",
            "info",
        )
    )
    burst = hook["burst"]
    failures = burst["lost"] + burst["errors"] + burst["users_unequal"]
    ok = failures == 0
    targets["webhook_burst_failures"] = {
        "limit": 0,
        "measured": failures,
        "lost": burst["lost"],
        "errors": burst["errors"],
        "users_unequal": burst["users_unequal"],
        "pass": ok,
    }
    p50 = (burst["latency_ms"] or {}).get("p50", float("nan"))
    p99 = (burst["latency_ms"] or {}).get("p99", float("nan"))
    rows.append(
        Row(
            next(labels),
            f"{burst['deliveries']} sent, c={burst['in_flight']}: {burst['lost']} lost, "
            f"{burst['errors']} err; {burst['throughput_eps']:.0f}/s, "
            f"p50 {p50:.0f} p99 {p99:.0f} ms",
            f"state = stand-in's: {burst['users'] - burst['users_unequal']}/{burst['users']} users",
            "–",
            "0 lost, 0 err, equal",
            _verdict(ok),
        )
    )


def render(rows: list[Row]) -> str:
    """A plain-text table, one line per row."""
    cells = [HEADERS, *[(r.label, r.function, r.floor, r.ratio, r.target, r.verdict) for r in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = []
    for index, line in enumerate(cells):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_details(doc: dict[str, Any]) -> str:
    """Below the table: machine, cold-start breakdown and where import time goes."""
    machine = doc["machine"]
    cold = doc["cold_start"]
    imports = doc["import_time"]
    lines = [
        f"machine: {machine['nproc']} CPUs, {machine['cpu_model']}, Python {machine['python']}, "
        f"load average {machine['loadavg_1m_before']} before, {machine['loadavg_1m_after']} after",
        f"mode: {doc['mode']}, N = {doc['config']['threads']} threads, {doc['duration_s']:.0f} s",
        "",
        f"cold start samples (ms): function {cold['function_samples_ms']}, "
        f"hello {cold['hello_samples_ms']}",
        f"function's own time for its first request (its log): "
        f"{cold['function_first_request_ms']} ms (median)",
        "",
        *_first_request_details(doc["first_request"]),
        "",
        *_webhook_details(doc["webhook"]),
        "",
        "import main, top entries by cumulative time (ms):",
    ]
    for row in imports["top_cumulative"]:
        indent = "  " * row["depth"]
        lines.append(f"  {row['cumulative_ms']:8.1f}  {indent}{row['module']}")
    lines.append("import main, exclusive time by top-level package (ms):")
    lines.append(
        "  " + ", ".join(f"{name} {ms:.1f}" for name, ms in imports["self_by_package"].items())
    )
    return "\n".join(lines)


def _webhook_details(hook: dict[str, Any]) -> list[str]:
    calls = hook["calls_per_request"]
    burst = hook["burst"]
    return [
        f"webhook calls per event by Firestore method: {calls['webhook']['firestore_by_method']}; "
        f"GET: {calls['get']['firestore_by_method']}",
        f"webhook burst: {burst['deliveries']} deliveries ({burst['first_deliveries']} first, "
        f"{burst['redelivered']} redelivered) of {burst['distinct_events']} distinct events of "
        f"{burst['users']} users / {burst['subscriptions']} subscriptions, "
        f"{burst['live_changes']} changes in Stripe during the burst "
        f"({burst['live_events']} events, each delivered twice), "
        f"{burst['late_deliveries']} delivered after a newer event of the same customer; "
        f"answers {burst['statuses']}, {burst['seconds']:.1f} s; "
        f"examples {burst['error_examples'] or '–'}",
    ]


def _first_request_details(first: dict[str, Any]) -> list[str]:
    listening = first["listening"]
    hello = first["hello_first_request"]
    lines = [
        f"time to listening samples (ms): function {listening['function_samples_ms']}, "
        f"hello {listening['hello_samples_ms']}",
        f"hello-world's own first request after listening: {hello['first_ms']} ms, "
        f"its next {hello['warm_ms']} ms (medians)",
    ]
    for phase in first["delays"]:
        for kind in FIRST_KINDS:
            result = phase[kind]
            warmups = [i["warm_up"] for i in result["instances"] if i["warm_up"]]
            conns = [i["connections_until_first_answered"] for i in result["instances"]]
            lines.append(
                f"latency +{phase['delay_ms']:g} ms, {kind} user: "
                f"first {result['first_samples_ms']} ms, "
                f"warm medians {result['warm_medians_ms']} ms; "
                f"connections until the first answer {conns[0] if conns else '–'}; "
                f"boot warm-up {warmups[0] if warmups else 'not logged'}"
            )
    return lines


def write(doc: dict[str, Any], out_dir: Path, *, latest_name: str, stamp: str) -> list[Path]:
    """Write the run as `<stamp>.json` and as `latest_name`; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    paths = [out_dir / f"{stamp}.json", out_dir / latest_name]
    for path in paths:
        path.write_text(text, encoding="utf-8")
    return paths


def rows_as_dicts(rows: list[Row]) -> list[dict[str, str]]:
    """Rows for the JSON document."""
    return [asdict(row) for row in rows]
