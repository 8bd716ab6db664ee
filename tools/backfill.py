"""Rebuild every mapped user's billing state from Stripe (after an outage, or when adopting the
product on an account that already has subscriptions).

    .venv/bin/python -m tools.backfill [--checkpoint FILE] [--max-users N] [--restart]

Runs with the session function's environment (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`,
`CUSTOMERS_COLLECTION`, `GOOGLE_CLOUD_PROJECT`, `FIRESTORE_DATABASE`, `FIRESTORE_EMULATOR_HOST`;
the variables it does not use may be left out). For each mapping document, in document-id
order, it does exactly what the webhook does for one event of that user (`BillingState.sync`:
write the state from the mapping and Stripe's current list, then verify), so it is idempotent
and safe to run while the webhook is live. Resumable: the last finished document id is kept in
the checkpoint file (default `backfill-<collection>.json`); a rerun continues after it, and
`--restart` starts over. Stripe's 429 is honoured with backoff (its `Retry-After`, else 1 s, 2 s,
4 s … up to 30 s, 6 tries per user). A progress bar goes to stderr and a summary (users,
subscriptions, skipped, errors) to stdout; the exit status is 1 if any user failed.
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
from typing import TextIO

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "function") not in sys.path:
    sys.path.append(str(REPO / "function"))

from billing_portal.billing_state import user_sources  # noqa: E402
from billing_portal.clients import build_clients  # noqa: E402
from billing_portal.customers import (  # noqa: E402
    HASH_PREFIX,
    parse_mapping,
)
from billing_portal.errors import ApiError, RateLimited  # noqa: E402
from billing_portal.settings import load_settings  # noqa: E402

MAX_TRIES = 6
MAX_BACKOFF_SECONDS = 30.0
# What load_settings needs but the backfill never uses (no sessions, no tokens).
_UNUSED_DEFAULTS = {
    "DEFAULT_RETURN_URL": "https://backfill.example.com/",
    "AUTH_ISSUER": "https://backfill.example.com",
    "AUTH_AUDIENCE": "backfill",
    "AUTH_JWKS_URL": "https://backfill.example.com/jwks",
}


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


def with_backoff(
    call: Callable[[], object], summary: Summary, sleep: Callable[[float], None]
) -> object:
    """`call()`, waiting out Stripe's 429 (Retry-After, else doubling) up to MAX_TRIES times."""
    delay = 1.0
    for attempt in range(1, MAX_TRIES + 1):
        try:
            return call()
        except RateLimited as error:
            if attempt == MAX_TRIES:
                raise
            summary.rate_limited += 1
            retry_after = error.headers.get("Retry-After", "")
            wait = float(retry_after) if retry_after.isdigit() else delay
            sleep(min(wait, MAX_BACKOFF_SECONDS))
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    raise AssertionError("unreachable")


def run(
    env: Mapping[str, str],
    *,
    checkpoint_path: Path | None = None,
    restart: bool = False,
    max_users: int | None = None,
    stderr: TextIO = sys.stderr,
    sleep: Callable[[float], None] = time.sleep,
) -> Summary:
    """Backfill every mapped user of `env`'s deployment; the cumulative summary."""

    settings = load_settings({**_UNUSED_DEFAULTS, **env})
    clients = build_clients(settings)
    gateway, db, directory, billing = (
        clients.stripe,
        clients.db,
        clients.directory,
        clients.billing,
    )
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
    for count, (doc_id, data) in enumerate(remaining):
        if max_users is not None and count >= max_users:
            break
        progress(done + count, total, stderr)
        try:
            mapping = parse_mapping(data)
            uid = mapping.uid or (None if doc_id.startswith(HASH_PREFIX) else doc_id)
            if uid is None or mapping.livemode != settings.livemode:
                summary.skipped += 1  # an old hashed document without uid; or the other mode
            else:
                written = with_backoff(
                    lambda uid=uid: billing.sync(
                        uid, lambda: user_sources(directory, gateway, uid)
                    ),
                    summary,
                    sleep,
                )
                summary.users += 1
                summary.subscriptions += len(written.subscriptions) if written else 0
        except ApiError as error:
            summary.errors += 1
            stderr.write(f"\n{doc_id}: {error.code}: {error.message}\n")
        checkpoint.save(doc_id)
    else:
        progress(total, total, stderr)
    stderr.write("\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command line: the summary on stdout; 1 if any user failed."""
    parser = argparse.ArgumentParser(prog="python -m tools.backfill", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, help="checkpoint file")
    parser.add_argument("--restart", action="store_true", help="ignore the checkpoint")
    parser.add_argument("--max-users", type=int, help="stop after this many (resume later)")
    args = parser.parse_args(argv)
    summary = run(
        os.environ,
        checkpoint_path=args.checkpoint,
        restart=args.restart,
        max_users=args.max_users,
    )
    print(summary.line())
    return 1 if summary.errors else 0


if __name__ == "__main__":
    sys.exit(main())
