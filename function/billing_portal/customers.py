"""User → Stripe customer mapping: instance cache → Firestore → create, without duplicates.

No transactions: on a miss the customer is created with an idempotency key derived from
(user, mode, generation), then the mapping is written with `create()` (create-if-absent).
Concurrent first requests get the same customer from Stripe (same key) and the loser of the
write race adopts the winner's document. A mapping write that fails after the customer was
created is harmless: the next request repeats the create with the same key and gets that
customer back (within Stripe's 24-hour idempotency window; see README, known limitations).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import firestore

from .errors import Conflict, Unavailable, UpstreamError
from .stripe_api import StripeGateway
from .tokens import Caller

_SAFE_DOC_ID = re.compile(r"^[A-Za-z0-9_\-|@.:+]{1,256}$")
CACHE_SIZE = 10_000


def document_id(uid: str) -> str:
    """The mapping document's id: the user id itself when Firestore allows it, else a hash."""
    reserved = uid in (".", "..") or (uid.startswith("__") and uid.endswith("__"))
    if _SAFE_DOC_ID.match(uid) and not reserved:
        return uid
    return "sha256-" + hashlib.sha256(uid.encode()).hexdigest()


@dataclass(frozen=True)
class CustomerMapping:
    """A mapping document: which customer, in which mode, of which generation."""

    customer_id: str
    livemode: bool
    generation: int


class _LruCache:
    """A small thread-safe LRU of uid → CustomerMapping, per instance."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, CustomerMapping] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CustomerMapping | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: CustomerMapping) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def discard(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


class CustomerDirectory:
    """Finds, creates and heals the Stripe customer of each user."""

    def __init__(
        self,
        db: firestore.Client,
        collection: str,
        stripe_gateway: StripeGateway,
        *,
        livemode: bool,
        timeout_seconds: float,
        background: ThreadPoolExecutor | None = None,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._collection = db.collection(collection)
        self._stripe = stripe_gateway
        self._livemode = livemode
        self._timeout = timeout_seconds
        # Firestore's default retry waits up to 5 minutes on an unreachable server; the caller
        # is waiting, so retry briefly and then answer 503.
        self._retry = Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout_seconds)
        self._cache = _LruCache(CACHE_SIZE)
        self._background = background or ThreadPoolExecutor(max_workers=4)
        self._clock = clock

    def customer_for(self, caller: Caller) -> tuple[str, Future[None] | None]:
        """The caller's customer id, creating customer and mapping on first use.

        Also returns the pending email update of a new customer (or None), which runs beside
        the session create instead of before it.
        """
        cached = self._cache.get(caller.uid)
        if cached is not None:
            return cached.customer_id, None
        existing = self._read(caller.uid)
        if existing is not None:
            return existing.customer_id, None
        return self._create(caller, generation=0)

    def replace_missing(self, caller: Caller, missing_id: str) -> tuple[str, Future[None] | None]:
        """Re-create a customer deleted in Stripe under the next generation and re-map the user."""
        self._cache.discard(caller.uid)
        current = self._read(caller.uid)
        if current is not None and current.customer_id != missing_id:
            return current.customer_id, None  # another instance healed it already
        generation = current.generation + 1 if current is not None else 0
        return self._create(caller, generation=generation, replacing=current is not None)

    def _read(self, uid: str) -> CustomerMapping | None:
        with self._firestore():
            snapshot = self._doc(uid).get(retry=self._retry, timeout=self._timeout)
        if not snapshot.exists:
            return None
        mapping = _mapping_from(snapshot.to_dict() or {})
        self._check_mode(mapping)
        self._cache.put(uid, mapping)
        return mapping

    def _create(
        self, caller: Caller, *, generation: int, replacing: bool = False
    ) -> tuple[str, Future[None] | None]:
        customer_id, livemode = self._stripe.create_customer(caller.uid, generation)
        mapping = CustomerMapping(customer_id, livemode, generation)
        self._check_mode(mapping)
        email_update = (
            self._background.submit(self._stripe.update_email, customer_id, caller.email)
            if caller.email
            else None
        )
        document = {
            "stripe_customer_id": customer_id,
            "livemode": livemode,
            "generation": generation,
            "created_at": self._clock(),
        }
        ref = self._doc(caller.uid)
        try:
            with self._firestore():
                if replacing:
                    ref.update(document, retry=self._retry, timeout=self._timeout)
                else:
                    ref.create(document, retry=self._retry, timeout=self._timeout)
        except gexc.AlreadyExists:
            winner = self._read(caller.uid)  # lost the race: use what the winner wrote
            if winner is None:
                raise UpstreamError("The customer mapping vanished while being created.") from None
            return winner.customer_id, email_update
        self._cache.put(caller.uid, mapping)
        return customer_id, email_update

    def _check_mode(self, mapping: CustomerMapping) -> None:
        if mapping.livemode != self._livemode:
            raise Conflict(
                "This user is mapped to a Stripe customer of the other mode (test vs live); "
                "the mapping is left untouched. Use a key of the mapping's mode, or a separate "
                "Firestore database or CUSTOMERS_COLLECTION per mode.",
                code="mode_mismatch",
            )

    def _doc(self, uid: str) -> firestore.DocumentReference:
        return self._collection.document(document_id(uid))

    @contextmanager
    def _firestore(self) -> Iterator[None]:
        try:
            yield
        except gexc.AlreadyExists:
            raise
        except (gexc.RetryError, gexc.ServiceUnavailable, gexc.DeadlineExceeded) as error:
            raise Unavailable(
                "The customer store could not be reached in time; try again shortly.",
                code="datastore_unavailable",
                headers={"Retry-After": "5"},
            ) from error
        except gexc.GoogleAPICallError as error:
            raise UpstreamError(
                "The customer store refused the request.", code="datastore_error"
            ) from error


def _mapping_from(data: dict[str, Any]) -> CustomerMapping:
    customer_id = data.get("stripe_customer_id")
    if not isinstance(customer_id, str) or not customer_id:
        raise UpstreamError("The customer mapping is malformed.", code="mapping_malformed")
    return CustomerMapping(
        customer_id=customer_id,
        livemode=bool(data.get("livemode", False)),
        generation=int(data.get("generation", 0)),
    )
