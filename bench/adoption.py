"""Adoption and backfill at Stripe's rate: wall time against the floor that the budget sets.

    .venv/bin/python -m bench.adoption [--users N] [--latency-ms D] [--rate R] [--workers W]

Starts the local parts (the stand-in as its own process, the Firestore emulator), seeds an account
an older integration filled (N customers with `metadata.firebaseUID`, every second one with a
subscription), sets the stand-in's latency to D ms per call, then runs `tools.adopt --apply` and
`tools.backfill --restart` in this process with a budget of R requests a second. Floor: the Stripe
calls the run made ÷ R (the fastest any run within the budget can be); target ≤ 1.2×. Then every
user's state document is compared with the stand-in's subscriptions. Full run: 2,000 users, 100 ms,
25/s (bench/README.md has its latest table); `--users` makes it smaller. Prints the table;
exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import LOG_DIR, PROJECT, function_env, local_parts
from local.process import REPO_ROOT

if str(REPO_ROOT / "function") not in sys.path:
    sys.path.append(str(REPO_ROOT / "function"))

from billing_portal.billing_state import state_reference, summarize_all
from tools import adopt, backfill
from tools.adoptplan import Rule

TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Row:
    """One measured step."""

    name: str
    users: int
    calls: int
    seconds: float
    rate: float
    errors: int
    rate_limited: int

    @property
    def floor(self) -> float:
        return self.calls / self.rate

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else 0.0


def seed(standin: Any, users: int) -> list[tuple[str, str]]:
    """`users` customers as an older integration left them; (uid, customer id) pairs."""
    sdk = standin.client()
    price = sdk.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    ).id
    tag = uuid.uuid4().hex[:6]

    def one(n: int) -> tuple[str, str]:
        uid = f"bench-{tag}-{n:05d}"
        customer = sdk.v1.customers.create(params={"metadata": {"firebaseUID": uid}}).id
        if n % 2 == 0:
            sdk.v1.subscriptions.create(params={"customer": customer, "items": [{"price": price}]})
        return uid, customer

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(users)))


def states_equal(standin: Any, db: Any, collection: str, pairs: list[tuple[str, str]]) -> int:
    """How many users' state documents differ from the stand-in's subscriptions."""
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for subscription in standin.subscriptions():
        by_customer[subscription["customer"]].append(subscription)
    wrong = 0
    for uid, customer in pairs:
        snapshot = state_reference(db.collection(collection), uid).get()
        state = snapshot.to_dict() if snapshot.exists else None
        expected = summarize_all(by_customer.get(customer, []))
        if state is None or state.get("customer") != customer or state["subscriptions"] != expected:
            wrong += 1
    return wrong


def run(users: int, latency_ms: int, rate: float, workers: int) -> tuple[list[Row], int]:
    """Seed, adopt, backfill; the rows and the number of users whose state is wrong."""
    with local_parts(LOG_DIR / time.strftime("adoption-%Y%m%dT%H%M%SZ", time.gmtime())) as parts:
        collection = f"bench_adopt_{uuid.uuid4().hex[:8]}"
        env = function_env(parts, threads=1, collection=collection)
        os.environ["FIRESTORE_EMULATOR_HOST"] = env["FIRESTORE_EMULATOR_HOST"]
        pairs = seed(parts.standin, users)
        parts.standin.set_latency(latency_ms)
        rows = []

        before = len(parts.standin.requests())
        started = time.monotonic()
        report = adopt.run(
            env,
            rule=Rule(metadata_key="firebaseUID"),
            apply=True,
            rate=rate,
            workers=workers,
            stderr=io.StringIO(),
        )
        seconds = time.monotonic() - started
        calls = len(parts.standin.requests()) - before
        rows.append(
            Row(
                "adopt --apply",
                users,
                calls,
                seconds,
                rate,
                len(report.errors),
                report.rate_limited,
            )
        )

        before = len(parts.standin.requests())
        started = time.monotonic()
        checkpoint = Path(LOG_DIR / f"{collection}-checkpoint.json")
        summary = backfill.run(
            env,
            checkpoint_path=checkpoint,
            restart=True,
            rate=rate,
            workers=workers,
            stderr=io.StringIO(),
        )
        seconds = time.monotonic() - started
        calls = len(parts.standin.requests()) - before
        rows.append(
            Row(
                "backfill",
                summary.users,
                calls,
                seconds,
                rate,
                summary.errors,
                summary.rate_limited,
            )
        )
        parts.standin.set_latency(0)
        wrong = states_equal(parts.standin, parts.firestore.client(PROJECT), collection, pairs)
        return rows, wrong


def table(rows: list[Row], wrong: int, latency_ms: int) -> str:
    """The printed table: one row per step, and the state check."""
    header = (
        f"{'step':<15}{'users':>7}{'calls':>7}{'budget/s':>10}{'floor s':>9}{'wall s':>8}"
        f"{'ratio':>7}{'target':>8}{'errors':>8}{'429s':>6}  result"
    )
    lines = [f"Stripe stand-in +{latency_ms} ms per call", header]
    for row in rows:
        ok = row.ratio <= TARGET_RATIO and row.errors == 0
        lines.append(
            f"{row.name:<15}{row.users:>7}{row.calls:>7}{row.rate:>10g}{row.floor:>9.1f}"
            f"{row.seconds:>8.1f}{row.ratio:>7.2f}{'≤ 1.20':>8}{row.errors:>8}"
            f"{row.rate_limited:>6}  {'pass' if ok else 'MISS'}"
        )
    lines.append(f"states equal to the stand-in's: {rows[0].users - wrong}/{rows[0].users}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.adoption", description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    rows, wrong = run(args.users, args.latency_ms, args.rate, args.workers)
    print(table(rows, wrong, args.latency_ms))
    missed = wrong or any(row.ratio > TARGET_RATIO or row.errors for row in rows)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
