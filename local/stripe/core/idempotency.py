"""Stripe's idempotency keys: replay the first response, refuse a key reused differently.

A key is scoped to the API key's mode. Requests with the same key run one at a time, so
concurrent retries of one create yield one object (Stripe answers the loser with a 409; waiting
for the first and replaying its result is what a client retrying that 409 ends up seeing).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local.stripe.core.errors import StripeError

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The first response sent for a key, kept byte for byte."""

    endpoint: str
    fingerprint: str
    status: int
    body: bytes
    request_id: str


def fingerprint(params: dict[str, Any]) -> str:
    """A canonical form of the decoded parameters, for "same parameters" comparisons."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class IdempotencyStore:
    """Responses by (mode, key), with a lock per key."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._responses: dict[tuple[str, str], StoredResponse] = {}

    def clear(self) -> None:
        """Forget every key."""
        with self._guard:
            self._locks.clear()
            self._responses.clear()

    @contextmanager
    def holding(self, mode: str, key: str) -> Iterator[None]:
        """Run the block while no other request with this key runs."""
        if len(key) > MAX_KEY_LENGTH:
            raise StripeError(
                400,
                f"Idempotency-Key is too long: it can have at most {MAX_KEY_LENGTH} characters.",
                type="idempotency_error",
            )
        with self._guard:
            lock = self._locks.setdefault((mode, key), threading.Lock())
        with lock:
            yield

    def lookup(
        self, mode: str, key: str, endpoint: str, params_fingerprint: str
    ) -> StoredResponse | None:
        """The stored response to replay, None if the key is new; raise if reused differently."""
        with self._guard:
            stored = self._responses.get((mode, key))
        if stored is None:
            return None
        if stored.endpoint != endpoint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ({stored.endpoint} vs {endpoint}). Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if stored.fingerprint != params_fingerprint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        return stored

    def save(self, mode: str, key: str, response: StoredResponse) -> None:
        """Remember the first response for this key."""
        with self._guard:
            self._responses.setdefault((mode, key), response)
