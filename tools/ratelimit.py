"""One request budget for a whole run: every Stripe call of every worker waits its turn here.

Stripe limits an account, not a worker: about 100 requests a second in live mode and 25 in test
mode, and 25 a second per endpoint in either mode (docs.stripe.com/rate-limits). The admin tools
(`tools.adopt`, `tools.backfill`) run many workers, so the budget is ONE bucket shared by all of
them, enforced at the HTTP transport (`BudgetedAdapter`): every request the stripe SDK sends —
list pages and its own network retries included — takes a slot first. A 429 seen by any worker
pauses the whole bucket (Stripe's `Retry-After` if it sends one, else a doubling backoff) and
halves its rate, which then recovers linearly to the budget: the run slows down, not one worker.

The bucket schedules slots (a virtual clock, as GCRA does) rather than counting tokens: a caller
is told how long to wait for its slot and sleeps once, so an injected `sleep` (tests) never spins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

# Stripe's documented limits (requests per second; docs.stripe.com/rate-limits).
ACCOUNT_LIMIT = {True: 100.0, False: 25.0}  # livemode → the account's basic limit
ENDPOINT_LIMIT = 25.0  # every endpoint, unless the docs say otherwise
# The share of the limit a tool takes by default: the deployment's own function and webhook keep
# using the same account while a tool runs.
SAFE_FRACTION = 0.8
MAX_PAUSE_SECONDS = 30.0
RECOVERY_SECONDS = 10.0  # after a 429, the rate climbs back to the budget over this long
MIN_RATE = 1.0


def default_rate(livemode: bool) -> float:
    """The default budget for a key's mode: a safe fraction of what Stripe allows. Pure.

    The tools spend most calls on one endpoint (`GET /v1/subscriptions` for the state sync), so
    the per-endpoint limit binds even in live mode: 0.8 × min(100, 25) = 20 requests a second in
    either mode. Raise it with `--rate` after checking the account's limits with Stripe.
    """
    return SAFE_FRACTION * min(ACCOUNT_LIMIT[livemode], ENDPOINT_LIMIT)


def pause_seconds(retry_after: str | None, strikes: int) -> float:
    """How long the whole run pauses after a 429. Pure.

    Stripe's `Retry-After` (whole seconds) when present, else 1 s, 2 s, 4 s … for consecutive
    429s (`strikes` ≥ 1), capped at `MAX_PAUSE_SECONDS`.
    """
    if retry_after is not None and retry_after.strip().isdigit():
        return min(float(retry_after.strip()), MAX_PAUSE_SECONDS)
    return min(2.0 ** max(strikes - 1, 0), MAX_PAUSE_SECONDS)


def recovered_rate(budget: float, reduced: float, since_429: float) -> float:
    """The rate `since_429` s after a 429 cut it to `reduced`: linear back to `budget`. Pure."""
    if since_429 >= RECOVERY_SECONDS:
        return budget
    return reduced + (budget - reduced) * max(since_429, 0.0) / RECOVERY_SECONDS


@dataclass
class BucketStats:
    """What the bucket saw: requests let through, 429s, and the time spent waiting."""

    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0


class TokenBucket:
    """A requests-per-second budget shared by threads; `acquire` before every request."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.budget = float(rate)
        self._burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()  # when the next slot is free (virtual clock)
        self._reduced = self.budget
        self._cut_at: float | None = None
        self._strikes = 0
        self.stats = BucketStats()

    def rate(self, now: float | None = None) -> float:
        """The rate in force now (the budget, or less while recovering from a 429)."""
        now = self._clock() if now is None else now
        if self._cut_at is None:
            return self.budget
        return recovered_rate(self.budget, self._reduced, now - self._cut_at)

    def acquire(self) -> None:
        """Wait for this request's slot."""
        with self._lock:
            now = self._clock()
            interval = 1.0 / self.rate(now)
            # At most `burst` slots may be handed out ahead of their time after an idle spell.
            slot = max(self._next, now - (self._burst - 1) * interval)
            self._next = slot + interval
            wait = max(0.0, slot - now)
            self.stats.requests += 1
            self.stats.waited_seconds += wait
        if wait > 0:
            self._sleep(wait)

    def succeeded(self) -> None:
        """A request got an answer that was not a 429: the backoff starts over."""
        with self._lock:
            self._strikes = 0

    def throttled(self, retry_after: str | None = None) -> float:
        """Stripe answered 429: pause every worker and halve the rate. Returns the pause."""
        with self._lock:
            now = self._clock()
            if self._cut_at is not None and now < self._cut_at:
                # Another worker's request of the same burst: the run is already paused and
                # slowed for it; counting it again would double the pause for one event.
                self.stats.throttled += 1
                return self._cut_at - now
            self._strikes += 1
            self.stats.throttled += 1
            pause = pause_seconds(retry_after, self._strikes)
            self._reduced = max(MIN_RATE, self.rate(now) / 2)
            self._cut_at = now + pause
            self._next = max(self._next, now + pause)
            return pause


class BudgetedAdapter(HTTPAdapter):
    """A `requests` transport that spends one slot of `bucket` per request sent and reports
    Stripe's 429s to it. Mounted on the SDK's session, it also meters the SDK's own retries."""

    def __init__(self, bucket: TokenBucket, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.bucket.acquire()
        response = super().send(request, **kwargs)
        if response.status_code == 429 and _is_rate_limit(response):
            self.bucket.throttled(response.headers.get("Retry-After"))
        else:
            self.bucket.succeeded()
        return response


def _is_rate_limit(response: requests.Response) -> bool:
    """A 429 that is a rate limit (Stripe's `Stripe-Rate-Limited-Reason`, or `rate_limit` in
    the body) rather than an object lock (`lock_timeout`, which slows nobody else down)."""
    if response.headers.get("Stripe-Rate-Limited-Reason"):
        return True
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        return True
    return error.get("code") != "lock_timeout"


def meter(session: requests.Session, bucket: TokenBucket, pool_size: int = 64) -> None:
    """Route every request of `session` (the SDK's) through `bucket`."""
    adapter = BudgetedAdapter(bucket, pool_connections=4, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
