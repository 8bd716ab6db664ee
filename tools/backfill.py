"""Rebuild every mapped user's billing state from Stripe (after an outage, or when adopting the
product on an account that already has subscriptions).

    .venv/bin/python -m tools.backfill [--stack NAME] [--checkpoint FILE] [--max-users N]
                                       [--restart] [--rate N] [--workers N]

Runs with the session function's environment (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`,
`CUSTOMERS_COLLECTION`, `GOOGLE_CLOUD_PROJECT`, `FIRESTORE_DATABASE`, `FIRESTORE_EMULATOR_HOST`;
the variables it does not use may be left out; `--stack` takes the Firestore ones from the stack
file, see `tools.toolenv`). For each mapping document, in document-id order (`--workers` users
at once, default 16), it does exactly what the webhook does for one event of that user
(`BillingState.sync`: write the state from the mapping and Stripe's current list, then
verify), so it is idempotent and safe to run while the webhook is live. Resumable: the last
document id up to which every document is finished is kept in the checkpoint file (default
`backfill-<collection>.json`); a rerun continues after it, and `--restart` starts over. Every
Stripe request of every worker goes through one shared budget (`tools.ratelimit`: `--rate`
requests a second, default 20); a 429 pauses the whole run (Stripe's `Retry-After`, else 1 s,
2 s, 4 s … up to 30 s) and halves its rate, and the user is tried again (6 tries). A progress
bar goes to stderr and a summary (users, subscriptions, skipped, errors) to stdout; the exit
status is 1 if any user failed, 2 if it could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "function") not in sys.path:
    sys.path.append(str(REPO / "function"))

from billing_portal.billing_state import user_sources  # noqa: E402
from billing_portal.clients import build_clients  # noqa: E402
from billing_portal.customers import (  # noqa: E402
    HASH_PREFIX,
    parse_mapping,
)
from billing_portal.errors import ApiError  # noqa: E402
from tools.ratelimit import TokenBucket, default_rate, meter  # noqa: E402
from tools.toolenv import ToolSetupError, tool_settings  # noqa: E402
from tools.workpool import DEFAULT_WORKERS, in_order, with_retries  # noqa: E402


@dataclass
class Summary:
    """What a run did (cumulative across resumed runs)."""

    users: int = 0
    subscriptions: int = 0
    skipped: int = 0
    errors: int = 0
    rate_limited: int = 0

    def line(self) -> str:
        return (
            f"users {self.users}, subscriptions {self.subscriptions}, skipped {self.skipped}, "
            f"errors {self.errors} (Stripe rate limits waited out: {self.rate_limited})"
        )


@dataclass
class Checkpoint:
    """The resumable position: the last finished document id, and the counts so far."""

    path: Path
    after: str | None = None
    summary: Summary | None = None

    @classmethod
    def load(cls, path: Path, restart: bool) -> Checkpoint:
        if restart or not path.exists():
            return cls(path, None, Summary())
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, data.get("after"), Summary(**data.get("summary", {})))

    def save(self, after: str) -> None:
        self.after = after
        temporary = self.path.with_suffix(".tmp")
        payload = {"after": after, "summary": asdict(self.summary or Summary())}
        temporary.write_text(json.dumps(payload), encoding="utf-8")
        temporary.replace(self.path)  # atomic: a crash leaves the old or the new checkpoint


def progress(done: int, total: int, stream: TextIO) -> None:
    """A one-line progress bar on `stream` (stderr)."""
    width = 30
    filled = width * done // total if total else width
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} users")
    stream.flush()


@dataclass(frozen=True)
class Outcome:
    """What one mapping document came to: synced (with its subscription count) or skipped."""

    skipped: bool = False
    subscriptions: int = 0


def run(
    env: Mapping[str, str],
    *,
    checkpoint_path: Path | None = None,
    restart: bool = False,
    max_users: int | None = None,
    stderr: TextIO = sys.stderr,
    sleep: Callable[[float], None] = time.sleep,
    stack: str | None = None,
    rate: float | None = None,
    workers: int = DEFAULT_WORKERS,
) -> Summary:
    """Backfill every mapped user of `env`'s deployment; the cumulative summary."""

    settings = tool_settings(env, stack)
    clients = build_clients(settings)
    gateway, db, directory, billing = (
        clients.stripe,
        clients.db,
        clients.directory,
        clients.billing,
    )
    bucket = TokenBucket(rate or default_rate(settings.livemode), sleep=sleep)
    meter(clients.stripe_session, bucket, pool_size=max(workers, 4) * 2)
    path = checkpoint_path or Path(f"backfill-{settings.customers_collection}.json")
    checkpoint = Checkpoint.load(path, restart)
    summary = checkpoint.summary or Summary()
    checkpoint.summary = summary
    documents = sorted(
        (snapshot.id, snapshot.to_dict() or {})
        for snapshot in db.collection(settings.customers_collection).stream()
    )
    remaining = [(doc_id, data) for doc_id, data in documents if doc_id > (checkpoint.after or "")]
    total, done = len(documents), len(documents) - len(remaining)
    if max_users is not None:
        remaining = remaining[:max_users]
    throttled_before = summary.rate_limited

    def backfill_one(document: tuple[str, dict[str, Any]]) -> Outcome:
        doc_id, data = document
        mapping = parse_mapping(data)
        uid = mapping.uid or (None if doc_id.startswith(HASH_PREFIX) else doc_id)
        if uid is None or mapping.livemode != settings.livemode:
            return Outcome(skipped=True)  # an old hashed document without uid; or the other mode
        written = with_retries(
            lambda: billing.sync(uid, lambda: user_sources(directory, gateway, uid))
        )
        return Outcome(subscriptions=len(written.subscriptions) if written else 0)

    for count, ((doc_id, _), future) in enumerate(
        in_order(remaining, backfill_one, workers), start=1
    ):
        error = future.exception()
        if isinstance(error, ApiError):
            summary.errors += 1
            stderr.write(f"\n{doc_id}: {error.code}: {error.message}\n")
        elif error is not None:
            raise error
        elif future.result().skipped:
            summary.skipped += 1
        else:
            summary.users += 1
            summary.subscriptions += future.result().subscriptions
        summary.rate_limited = throttled_before + bucket.stats.throttled
        checkpoint.save(doc_id)  # in order: every document up to this one is finished
        progress(done + count, total, stderr)
    if not remaining:
        progress(total, total, stderr)
    stderr.write("\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command line: the summary on stdout; 1 if any user failed, 2 if it could not run."""
    parser = argparse.ArgumentParser(prog="python -m tools.backfill", description=__doc__)
    parser.add_argument("--stack", help="take Firestore settings from Pulumi.<stack>.yaml")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint file")
    parser.add_argument("--restart", action="store_true", help="ignore the checkpoint")
    parser.add_argument("--max-users", type=int, help="stop after this many (resume later)")
    parser.add_argument(
        "--rate", type=float, help="Stripe requests per second, all workers (default 20)"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="users at once")
    args = parser.parse_args(argv)
    try:
        if args.rate is not None and not 0 < args.rate <= 1000:
            raise ToolSetupError("--rate must be between 0 and 1000 requests per second")
        summary = run(
            os.environ,
            checkpoint_path=args.checkpoint,
            restart=args.restart,
            max_users=args.max_users,
            stack=args.stack,
            rate=args.rate,
            workers=max(1, args.workers),
        )
    except ToolSetupError as error:
        print(f"tools.backfill: {error}", file=sys.stderr)
        return 2
    print(summary.line())
    return 1 if summary.errors else 0


if __name__ == "__main__":
    sys.exit(main())
