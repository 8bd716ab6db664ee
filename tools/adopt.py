"""Adopt an existing Stripe account: map each app user to the customer they already pay with.

    .venv/bin/python -m tools.adopt [--stack NAME] (--match-metadata KEY | --users FILE | both)
                                    [--apply] [--strict] [--rate N] [--workers N] [--report FILE]

Without it, a user who already pays through an older integration gets a *new*, duplicate customer
the first time they open the portal, and the webhook ignores their old customer's events. This
reads every customer of the account (`GET /v1/customers`, all pages), matches each to a user
(`tools.adoptplan`: this deployment's `metadata.app_user_id`, the old integration's metadata key,
or a verified email from a Firebase `auth:export` JSON or a `uid,email,email_verified` CSV), and
reports what it would do. A dry run unless `--apply`, which for each adopted user: writes the
mapping with the function's own create-if-absent (`CustomerDirectory.adopt`; a user already
mapped is left alone and reported), sets `metadata.app_user_id` on the customer (the webhook finds
an event's user by it, then checks the mapping names that customer), and syncs the user's state
with the webhook's own `BillingState.sync`. Nothing is ever deleted.

Settings as `tools.backfill` (the function's environment; `--stack` for the deployment's
Firestore settings, see `tools.toolenv`). Mode-safe: only customers of the key's mode are read,
and any other is skipped. Resumable: every step checks what is in place first, so a rerun does
what is left and a run after a complete one changes nothing. Every Stripe request goes through one
shared budget (`tools.ratelimit`; `--rate`, default 20/s); a 429 slows the whole run.

Exit status: 0 done and nothing needs a human; 1 something does — a conflict (a user mapped to a
customer none of their matches, or of the other mode; a customer whose marks name two users), a
failure, or with `--strict` any unmatched customer or ambiguous user; 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "function") not in sys.path:
    sys.path.append(str(REPO / "function"))

from billing_portal.billing_state import user_sources  # noqa: E402
from billing_portal.clients import Clients, build_clients  # noqa: E402
from billing_portal.customers import Ownership  # noqa: E402
from billing_portal.errors import ApiError, MappingMalformed  # noqa: E402
from tools import adoptplan as ap  # noqa: E402
from tools.ratelimit import TokenBucket, default_rate, meter  # noqa: E402
from tools.toolenv import ToolSetupError, tool_settings  # noqa: E402
from tools.userexport import ExportError, read_users  # noqa: E402
from tools.workpool import DEFAULT_WORKERS, in_order, with_retries  # noqa: E402

__all__ = ["REPO", "Report", "main", "run"]


@dataclass
class Report:
    """Everything a run found and did; `lines()` is the human report, `as_json()` the file."""

    applied: bool
    livemode: bool
    customers: int = 0
    plans: list[ap.UserPlan] = field(default_factory=list)
    skipped: list[ap.Skipped] = field(default_factory=list)
    done: Counter[str] = field(default_factory=Counter)  # what --apply did
    errors: list[tuple[str, str]] = field(default_factory=list)  # (uid, error code)
    rate_limited: int = 0
    requests: int = 0

    def count(self, action: ap.Action) -> int:
        return sum(1 for plan in self.plans if plan.action is action)

    @property
    def ambiguous(self) -> list[ap.UserPlan]:
        return [plan for plan in self.plans if plan.alternatives]

    @property
    def unmatched(self) -> list[ap.Skipped]:
        return [s for s in self.skipped if s.reason is not ap.Unmatched.OTHER_MODE]

    @property
    def conflicts(self) -> list[str]:
        found = [
            f"{plan.uid}: {plan.action.value} (mapped to {plan.mapped_to}, matched "
            f"{plan.customer.id})"
            for plan in self.plans
            if plan.action in ap.NEEDS_HUMAN
        ]
        found += [
            f"{s.customer.id}: {s.reason.value}"
            for s in self.skipped
            if s.reason is ap.Unmatched.CONFLICTING_MARKS
        ]
        return found

    def exit_status(self, strict: bool) -> int:
        """0: nothing needs a human; 1: something does (see the module's docstring)."""
        if self.errors or self.conflicts:
            return 1
        if strict and (self.unmatched or self.ambiguous):
            return 1
        return 0

    def lines(self) -> list[str]:
        """The report a human reviews before `--apply` (ids only: no emails are printed)."""
        mode = "live" if self.livemode else "test"
        verb = "adopted" if self.applied else "to adopt"
        # By source: the users of this line only (a user being finished has its own line).
        sources = Counter(
            plan.source.name.lower() for plan in self.plans if plan.action is ap.Action.ADOPT
        )
        out = [
            f"{'APPLY' if self.applied else 'DRY RUN'} ({mode} mode): {self.customers} customers",
            f"  matched, {verb}: {self.count(ap.Action.ADOPT)} "
            f"(by {', '.join(f'{k} {v}' for k, v in sorted(sources.items())) or 'none'})",
            f"  already mapped, finishing metadata/state: {self.count(ap.Action.COMPLETE)}",
            f"  already mapped, left alone: {self.count(ap.Action.ALREADY_MAPPED)}",
            f"  ambiguous users (proposal taken, others untouched): {len(self.ambiguous)}",
            f"  unmatched customers: {len(self.unmatched)}",
            f"  other-mode customers skipped: {len(self.skipped) - len(self.unmatched)}",
            f"  conflicts (need a human, left alone): {len(self.conflicts)}",
            f"  errors: {len(self.errors)}",
            f"  Stripe requests: {self.requests} (429s waited out: {self.rate_limited})",
        ]
        if self.applied:
            out.append(
                "  written: "
                + ", ".join(f"{k} {self.done[k]}" for k in ("mappings", "metadata", "states"))
            )
        for plan in self.ambiguous:
            out.append(
                f"ambiguous {plan.uid}: {plan.customer.id} proposed; not adopted: "
                + ", ".join(plan.alternatives)
            )
        for conflict in self.conflicts:
            out.append(f"conflict {conflict}")
        reasons = Counter(s.reason.value for s in self.unmatched)
        for reason, count in sorted(reasons.items()):
            ids = [s.customer.id for s in self.unmatched if s.reason.value == reason]
            shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            out.append(f"unmatched ({reason}) {count}: {shown}")
        for uid, code in self.errors:
            out.append(f"error {uid}: {code}")
        return out

    def as_json(self) -> dict[str, Any]:
        """Every decision, for review and for the record."""
        return {
            "applied": self.applied,
            "livemode": self.livemode,
            "customers": self.customers,
            "users": [
                {
                    "uid": plan.uid,
                    "customer": plan.customer.id,
                    "source": plan.source.name.lower(),
                    "action": plan.action.value,
                    "alternatives": list(plan.alternatives),
                    "mapped_to": plan.mapped_to,
                }
                for plan in self.plans
            ],
            "skipped": [
                {"customer": s.customer.id, "reason": s.reason.value, "uid": s.uid}
                for s in self.skipped
            ],
            "done": dict(self.done),
            "errors": [{"uid": uid, "code": code} for uid, code in self.errors],
            "requests": self.requests,
            "rate_limited": self.rate_limited,
        }


class Progress:
    """A one-line progress bar on a terminal; nothing when stderr is not one (CI, pipes)."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled

    def show(self, label: str, done: int, total: int | None = None) -> None:
        if not self._enabled:
            return
        if total:
            filled = 30 * done // total
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
        else:
            bar = str(done)
        self._stream.write(f"\r{label}: {bar}   ")
        self._stream.flush()

    def end(self) -> None:
        if self._enabled:
            self._stream.write("\n")


def list_customers(clients: Clients, progress: Progress) -> list[ap.Customer]:
    """Every customer of the key's mode: `GET /v1/customers`, pages of 100 by `starting_after`,
    each page retried on its own after a 429."""
    found: list[ap.Customer] = []
    after: str | None = None
    while True:
        page, more = with_retries(lambda cursor=after: clients.stripe.customers_page(cursor))
        found += [ap.Customer.from_stripe(customer) for customer in page]
        progress.show("reading customers", len(found))
        if not more or not page:
            break
        after = found[-1].id
    progress.end()
    return found


def read_view(clients: Clients, uid: str) -> ap.MappingView:
    """The user's mapping and state as Firestore has them now (no cache)."""
    try:
        found = clients.directory.mapping_of(uid)
    except MappingMalformed:
        return ap.MappingView(unreadable=True)
    if found is None:
        return ap.MappingView()
    mapping, whose = found
    if whose is Ownership.FOREIGN:
        return ap.MappingView(unreadable=True)
    state = clients.billing.read(uid)
    return ap.MappingView(
        customer_id=mapping.customer_id,
        livemode=mapping.livemode,
        state_customer=state.customer_id if state is not None else None,
    )


def apply_plan(
    clients: Clients, plan: ap.UserPlan, done: Counter[str], lock: threading.Lock
) -> str:
    """Carry out one ADOPT/COMPLETE decision; each step checks first, so a rerun resumes.

    Order: the mapping first (from then on the portal uses this customer, never a new one),
    then the metadata (from then on the webhook acts on its events), then the state.
    """
    uid, customer = plan.uid, plan.customer
    if plan.action is ap.Action.ADOPT:
        mapping, wrote = clients.directory.adopt(uid, customer.id, customer.livemode)
        if mapping.customer_id != customer.id:
            return ap.Action.MAPPED_ELSEWHERE.value  # the function mapped them meanwhile
        if wrote:
            with lock:
                done["mappings"] += 1
    if plan.needs_tag:
        with_retries(lambda: clients.stripe.set_customer_user(customer.id, uid))
        with lock:
            done["metadata"] += 1
    if plan.needs_sync:
        with_retries(
            lambda: clients.billing.sync(
                uid, lambda: user_sources(clients.directory, clients.stripe, uid)
            )
        )
        with lock:
            done["states"] += 1
    return "ok"


def run(
    env: Mapping[str, str],
    *,
    rule: ap.Rule,
    stack: str | None = None,
    apply: bool = False,
    rate: float | None = None,
    workers: int = DEFAULT_WORKERS,
    stderr: TextIO = sys.stderr,
    progress: bool | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Report:
    """One adoption run over `env`'s deployment (see the module docstring); the report.

    Raises `ToolSetupError` when it cannot run at all.
    """
    settings = tool_settings(env, stack)
    clients = build_clients(settings)
    bucket = TokenBucket(
        rate or default_rate(settings.livemode), **({"sleep": sleep} if sleep else {})
    )
    meter(clients.stripe_session, bucket, pool_size=max(workers, 4) * 2)
    bar = Progress(stderr, stderr.isatty() if progress is None else progress)
    report = Report(applied=apply, livemode=settings.livemode)
    try:
        customers = list_customers(clients, bar)
    except ApiError as error:
        raise ToolSetupError(f"listing the account's customers failed: {error.code}") from None
    report.customers = len(customers)
    candidates, skipped = ap.match_customers(customers, rule, settings.livemode)
    matches, outranked = ap.group_by_user(candidates)
    report.skipped = skipped + outranked

    def examine(match: ap.UserMatch) -> ap.UserPlan:
        live: dict[str, bool] = {}
        if match.ambiguous:
            for customer in match.customers:
                subscriptions = with_retries(
                    lambda c=customer: clients.stripe.customer_subscriptions(c.id)
                )
                live[customer.id] = ap.has_live_subscription(subscriptions)
        chosen = ap.propose(match, live)
        return ap.decide(match, chosen, read_view(clients, match.uid), settings.livemode)

    for count, (match, future) in enumerate(in_order(matches, examine, workers), start=1):
        bar.show("matching users", count, len(matches))
        error = future.exception()
        if error is None:
            report.plans.append(future.result())
        elif isinstance(error, ApiError):
            report.errors.append((match.uid, error.code))
        else:
            raise error
    bar.end()

    if apply:
        lock = threading.Lock()
        todo = [plan for plan in report.plans if plan.action in ap.WRITES]
        for count, (plan, future) in enumerate(
            in_order(todo, lambda p: apply_plan(clients, p, report.done, lock), workers), start=1
        ):
            bar.show("adopting", count, len(todo))
            error = future.exception()
            if isinstance(error, ApiError):
                report.errors.append((plan.uid, error.code))
            elif error is not None:
                raise error
            elif future.result() != "ok":
                report.errors.append((plan.uid, future.result()))
        bar.end()
    report.requests = bucket.stats.requests
    report.rate_limited = bucket.stats.throttled
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.adopt",
        description="Adopt an existing Stripe account's customers (docs/adopt.md).",
    )
    parser.add_argument("--stack", help="take Firestore settings from Pulumi.<stack>.yaml")
    parser.add_argument(
        "--match-metadata", metavar="KEY", help="customer metadata key holding the app's user id"
    )
    parser.add_argument(
        "--users",
        type=Path,
        metavar="FILE",
        help="user export: `firebase auth:export` JSON, or CSV uid,email,email_verified",
    )
    parser.add_argument("--apply", action="store_true", help="write (default: dry run)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 on any unmatched customer or ambiguous user"
    )
    parser.add_argument(
        "--rate", type=float, help="Stripe requests per second, all workers (default 20)"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="parallel users")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the report as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: the report on stdout; exit 0, 1 (needs a human) or 2 (could not run)."""
    args = parse_args(argv)
    try:
        if not args.match_metadata and not args.users:
            raise ToolSetupError("name a matching rule: --match-metadata KEY and/or --users FILE")
        if args.rate is not None and not 0 < args.rate <= 1000:
            raise ToolSetupError("--rate must be between 0 and 1000 requests per second")
        if args.workers < 1:
            raise ToolSetupError("--workers must be at least 1")
        users = tuple(read_users(args.users)) if args.users else None
        rule = ap.Rule(metadata_key=args.match_metadata, users=users)
        report = run(
            os.environ,
            rule=rule,
            stack=args.stack,
            apply=args.apply,
            rate=args.rate,
            workers=args.workers,
        )
    except (ToolSetupError, ExportError) as error:
        print(f"tools.adopt: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    if args.report:
        args.report.write_text(json.dumps(report.as_json(), indent=2), encoding="utf-8")
    return report.exit_status(args.strict)


if __name__ == "__main__":
    sys.exit(main())
