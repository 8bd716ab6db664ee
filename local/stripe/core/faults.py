"""Injected failures and latency, for testing clients against a misbehaving Stripe."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

_FIELDS = {
    "count",
    "status",
    "error_type",
    "code",
    "message",
    "param",
    "headers",
    "body",
    "delay_ms",
    "drop",
    "method",
    "path_prefix",
    "when",
}
_DEFAULT_ERRORS = {
    429: (
        "invalid_request_error",
        "rate_limit",
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
    ),
    409: (
        "invalid_request_error",
        "lock_timeout",
        "This object cannot be accessed right now because another API request or Stripe "
        "process is currently accessing it.",
    ),
}
_ids = itertools.count(1)


class FaultSpecError(ValueError):
    """The control API was given an unusable fault description."""


@dataclass
class Fault:
    """The next ``count`` API requests matching ``method``/``path_prefix`` misbehave.

    ``when="before"`` fails the request before anything happens (nothing is created);
    ``when="after"`` runs the request, records its idempotent result, and then fails the
    response, the case that makes a client retry a request that already succeeded.
    """

    count: int = 1
    status: int | None = None
    error_type: str | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay_ms: int = 0
    drop: bool = False
    method: str | None = None
    path_prefix: str | None = None
    when: str = "before"
    id: int = field(default_factory=lambda: next(_ids))

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Fault:
        """Build a fault from the control API's JSON, rejecting unknown or odd fields."""
        unknown = set(spec) - _FIELDS
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {sorted(unknown)}")
        fault = cls(**spec)
        if not isinstance(fault.count, int) or fault.count < 1:
            raise FaultSpecError("count must be a positive integer")
        if fault.status is not None and not (
            isinstance(fault.status, int) and 400 <= fault.status <= 599
        ):
            raise FaultSpecError("status must be an HTTP error status (400-599)")
        if fault.when not in {"before", "after"}:
            raise FaultSpecError("when must be 'before' or 'after'")
        if not isinstance(fault.delay_ms, int) or fault.delay_ms < 0:
            raise FaultSpecError("delay_ms must be a non-negative integer")
        if fault.status is None and not fault.drop and not fault.delay_ms:
            raise FaultSpecError("a fault needs a status, drop or delay_ms")
        if fault.method:
            fault.method = fault.method.upper()
        return fault

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )

    def error_payload(self) -> dict[str, Any]:
        """The Stripe-shaped error body for ``status``."""
        assert self.status is not None
        default_type, default_code, default_message = _DEFAULT_ERRORS.get(
            self.status,
            (
                "api_error" if self.status >= 500 else "invalid_request_error",
                None,
                f"An error occurred with our connection to Stripe (injected {self.status}).",
            ),
        )
        error: dict[str, Any] = {
            "type": self.error_type or default_type,
            "message": self.message or default_message,
        }
        if self.code or default_code:
            error["code"] = self.code or default_code
        if self.param:
            error["param"] = self.param
        return {"error": error}

    def describe(self) -> dict[str, Any]:
        """JSON view for the control API and the request log."""
        return asdict(self)


class FaultPlan:
    """Pending faults (first match wins) and the latency added to every API request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_ms = 0

    def add(self, spec: dict[str, Any]) -> Fault:
        """Queue a fault described by control-API JSON."""
        fault = Fault.from_spec(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching the request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        """Faults not yet used up."""
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear(self) -> None:
        """Drop every fault and the latency."""
        with self._lock:
            self._faults.clear()
            self.latency_ms = 0
