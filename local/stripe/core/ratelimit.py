"""Stripe's rate limiter, as a switch: over N requests a second, `429` in Stripe's shape.

Stripe limits requests per second per account (docs.stripe.com/rate-limits) and answers a
request over the limit with `429`, an error of `type: invalid_request_error`, `code: rate_limit`,
and a `Stripe-Rate-Limited-Reason` header (`global-rate`, …); no `Retry-After`. The stand-in
counts every API request's arrival in a sliding one-second window, both modes together; a
request refused does not count. Off until a test sets a rate (`POST /_standin/rate_limit`);
reset turns it off.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from local.stripe.core.errors import StripeError

WINDOW_SECONDS = 1.0
MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
HEADERS = {"Stripe-Rate-Limited-Reason": "global-rate"}


class RateLimiter:
    """At most `per_second` admitted arrivals in any window of one second; None: no limit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()
        self.per_second: int | None = None

    def set(self, per_second: int | None) -> None:
        """Turn the limit on (`per_second` ≥ 1) or off (None); the window starts empty."""
        if per_second is not None and (
            isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1
        ):
            raise ValueError("'per_second' must be a positive integer, or null for no limit")
        with self._lock:
            self.per_second = per_second
            self._admitted.clear()

    def admit(self) -> bool:
        """Whether a request arriving now is within the limit (and count it if so)."""
        with self._lock:
            if self.per_second is None:
                return True
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - WINDOW_SECONDS:
                self._admitted.popleft()
            if len(self._admitted) >= self.per_second:
                return False
            self._admitted.append(now)
            return True


def error_payload() -> dict[str, Any]:
    """Stripe's body for a rate-limited request (with its `doc_url`, as every coded error)."""
    return StripeError(429, MESSAGE, code="rate_limit").payload()
