"""Firestore as the function uses it: a retry policy bounded by what a caller can wait for, and
Firestore's failures translated into the contract's errors (503 when it could not be reached in
time, 502 when it refused)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry

from .errors import Unavailable, UpstreamError


def bounded_retry(timeout_seconds: float) -> Retry:
    """Retry briefly, then give up: Firestore's default retry waits up to 5 minutes on an
    unreachable server, and the caller (a browser, or Stripe's webhook delivery) is waiting."""
    return Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout_seconds)


@contextmanager
def translated(store: str) -> Iterator[None]:
    """Turn Firestore failures inside the block into `Unavailable`/`UpstreamError` naming `store`.

    `AlreadyExists` passes through: create-if-absent uses it to detect a lost race.
    """
    try:
        yield
    except gexc.AlreadyExists:
        raise
    except (gexc.RetryError, gexc.ServiceUnavailable, gexc.DeadlineExceeded) as error:
        raise Unavailable(
            f"The {store} could not be reached in time; try again shortly.",
            code="datastore_unavailable",
            headers={"Retry-After": "5"},
        ) from error
    except gexc.GoogleAPICallError as error:
        raise UpstreamError(f"The {store} refused the request.", code="datastore_error") from error
