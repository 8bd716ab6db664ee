"""User → Stripe customer mapping: instance cache → Firestore → create, without duplicates.

No transactions: on a miss the customer is created with an idempotency key derived from
(user, mode, generation), then the mapping is written with `create()` (create-if-absent).
Concurrent first requests get the same customer from Stripe (same key) and the loser of the
write race adopts the winner's document. A mapping write that fails after the customer was
created is harmless: the next request repeats the create with the same key and gets that
customer back (within Stripe's 24-hour idempotency window; see docs/how-it-works.md, known limits).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import math
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import grpc
from google.api_core import exceptions as gexc
from google.cloud import firestore

from . import logs
from .datastore import bounded_retry, translated
from .errors import Conflict, MappingConflict, MappingMalformed, Unavailable, UpstreamError
from .lru import LruCache
from .stripe_api import StripeGateway
from .tokens import Caller

_SAFE_DOC_ID = re.compile(r"[A-Za-z0-9_\-|@.:+]{1,256}")  # fullmatch: `$` would allow a final \n
HASH_PREFIX = "sha256-"
# The shape of every hashed document id. A user id of this very shape is hashed too, so no user id
# can ever be used as a document id that is (or could be) another user's hashed id.
_HASHED_DOC_ID = re.compile(r"^sha256-[0-9a-f]{64}$")
_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]{1,250}$")
CACHE_SIZE = 10_000
# At most one replacement customer per user per this interval, whichever instance heals: a
# customer deleted again and again (a script, a confused operator) must not mint customers.
HEAL_INTERVAL = datetime.timedelta(minutes=5)
# Read by the boot warm-up: `!` is outside _SAFE_DOC_ID, so no user's document has this id.
WARM_UP_DOCUMENT = "!boot-warm-up"


def document_id(uid: str) -> str:
    """The mapping document's id: the user id itself when Firestore allows it, else a hash.

    Collision-free: a hashed id is `sha256-` + 64 hex digits, and a user id of exactly that shape
    is itself hashed, so a user id never equals the hashed id of another user.
    """
    reserved = uid in (".", "..") or (uid.startswith("__") and uid.endswith("__"))
    if _SAFE_DOC_ID.fullmatch(uid) and not reserved and not _HASHED_DOC_ID.fullmatch(uid):
        return uid
    return HASH_PREFIX + hashlib.sha256(uid.encode()).hexdigest()


class Ownership(enum.Enum):
    """Whose a mapping document is, as far as the document itself can tell."""

    OWNED = "owned"
    FOREIGN = "foreign"
    # A document from before `uid` was recorded, under a hashed id: the old scheme also gave that
    # id to a user whose id was literally `sha256-<hex>`, so only Stripe's metadata can tell.
    UNVERIFIED = "unverified"


def ownership(recorded_uid: str | None, uid: str, doc_id: str) -> Ownership:
    """Decide whether the document `doc_id`, recording `recorded_uid`, is the user `uid`'s."""
    if recorded_uid is not None:
        return Ownership.OWNED if recorded_uid == uid else Ownership.FOREIGN
    # Old shape (no uid field). Under the id itself only that user was ever written, in any
    # release; under a hashed id, possibly someone else.
    return Ownership.OWNED if doc_id == uid else Ownership.UNVERIFIED


@dataclass(frozen=True)
class CustomerMapping:
    """A mapping document: which customer, in which mode, of which generation."""

    customer_id: str
    livemode: bool
    generation: int
    uid: str | None = None  # None only in documents written before issue 11
    healed_at: datetime.datetime | None = None  # when this generation replaced a deleted one
    # Set by the webhook's `customer.deleted`: the customer Stripe said was deleted. The mark
    # applies only while it names the mapped customer, so replacing the customer (a new
    # `stripe_customer_id`) clears it without deleting a field (the emulator ignores deletes).
    deleted_customer_id: str | None = None

    @property
    def customer_deleted(self) -> bool:
        """True when Stripe told the webhook that the mapped customer was deleted."""
        return self.deleted_customer_id == self.customer_id


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
        self._db = db
        self._collection = db.collection(collection)
        self._stripe = stripe_gateway
        self._livemode = livemode
        self._timeout = timeout_seconds
        self._retry = bounded_retry(timeout_seconds)
        self._cache: LruCache[str, CustomerMapping] = LruCache(CACHE_SIZE)
        self._background = background or ThreadPoolExecutor(max_workers=4)
        self._clock = clock

    def warm_up(self, ready: Callable[[], None]) -> None:
        """Open the Firestore channel (TCP, TLS, HTTP/2), call `ready`, then read one document.

        The read (of a document no user has) also warms what the first RPC sets up: the
        credentials' access token and the client's call wrappers. Bounded by the Firestore
        timeout; failures are the caller's to log.
        """
        channel = self._db._firestore_api.transport.grpc_channel  # builds the client once
        _connect(channel, self._timeout)
        ready()
        self._collection.document(WARM_UP_DOCUMENT).get(retry=None, timeout=self._timeout)

    def customer_for(self, caller: Caller) -> tuple[str, Future[None] | None]:
        """The caller's customer id, creating customer and mapping on first use.

        Also returns the pending email update of a new customer (or None), which runs beside
        the session create instead of before it.
        """
        cached = self._cache.get(caller.uid)
        if cached is not None:
            return cached.customer_id, None
        existing = self._read(caller)
        if existing is not None and existing.customer_deleted:
            # The webhook saw `customer.deleted`: the next generation now, without first
            # failing against Stripe (within the healing cap, like any replacement).
            return self._heal(caller, existing)
        if existing is not None:
            return existing.customer_id, None
        return self._create(caller, generation=0)

    def existing_customer(self, caller: Caller) -> str | None:
        """The caller's customer id if they have one (cache, then Firestore); never creates.

        A customer the webhook saw deleted is none: it owns nothing any more.
        """
        cached = self._cache.get(caller.uid)
        if cached is not None:
            return cached.customer_id
        existing = self._read(caller)
        if existing is None or existing.customer_deleted:
            return None
        return existing.customer_id

    def forget(self, uid: str) -> None:
        """Drop the instance's cached mapping of `uid` (it was found to be stale)."""
        self._cache.discard(uid)

    def mapping_of(self, uid: str) -> tuple[CustomerMapping, Ownership] | None:
        """The user's mapping as Firestore has it now (no cache), and whose it says it is.

        For the webhook, which learns the user from Stripe (the customer's metadata) and must
        not trust an instance cache. None when the user has no mapping.
        """
        ref = self._doc(uid)
        with translated("customer store"):
            snapshot = ref.get(retry=self._retry, timeout=self._timeout)
        if not snapshot.exists:
            return None
        mapping = parse_mapping(snapshot.to_dict() or {})
        return mapping, ownership(mapping.uid, uid, ref.id)

    def mark_customer_deleted(self, uid: str, customer_id: str) -> None:
        """Record that Stripe deleted `customer_id` (the webhook's `customer.deleted`).

        An update of two fields; if the mapping meanwhile names another customer, the mark
        names a customer that is not the mapped one and so means nothing.
        """
        with translated("customer store"):
            self._doc(uid).update(
                {"deleted_customer_id": customer_id, "customer_deleted_at": self._clock()},
                retry=self._retry,
                timeout=self._timeout,
            )
        self._cache.discard(uid)

    def replace_missing(self, caller: Caller, missing_id: str) -> tuple[str, Future[None] | None]:
        """Re-create a customer deleted in Stripe under the next generation and re-map the user."""
        self._cache.discard(caller.uid)
        current = self._read(caller)
        if current is not None and current.customer_id != missing_id:
            return current.customer_id, None  # another instance healed it already
        # Stripe said `resource_missing` on `customer`; a retrieve decides, because replacing a
        # customer that still exists would cut the user off from their subscriptions. A
        # customer the webhook saw deleted (Stripe's signed word) needs no second opinion.
        known_deleted = current is not None and current.customer_deleted
        if not known_deleted and self._stripe.customer_state(missing_id).exists:
            raise UpstreamError(
                "Stripe refused the customer although it exists; it was not replaced.",
                code="stripe_invalid_request",
            )
        if current is None:
            return self._create(caller, generation=0)
        return self._heal(caller, current)

    def _heal(self, caller: Caller, current: CustomerMapping) -> tuple[str, Future[None] | None]:
        """Replace the deleted customer of `current` by the next generation, within the cap."""
        wait = heal_wait_seconds(current.healed_at, self._clock(), HEAL_INTERVAL)
        if wait:
            logs.emit(
                {
                    "severity": "ERROR",
                    "message": "Customer deleted again within the healing cap; not replaced",
                    "user": logs.user_ref(caller.uid),
                }
            )
            raise Unavailable(
                "This account's Stripe customer was deleted again right after being re-created; "
                "it is not replaced again yet. Try again later.",
                code="customer_replace_throttled",
                headers={"Retry-After": str(wait)},
            )
        return self._create(caller, generation=current.generation + 1, replacing=True)

    def _read(self, caller: Caller) -> CustomerMapping | None:
        ref = self._doc(caller.uid)
        with translated("customer store"):
            snapshot = ref.get(retry=self._retry, timeout=self._timeout)
        if not snapshot.exists:
            return None
        mapping = parse_mapping(snapshot.to_dict() or {})
        decision = ownership(mapping.uid, caller.uid, ref.id)
        if decision is Ownership.UNVERIFIED:
            mapping = self._verify_old_document(caller, ref, mapping)
        elif decision is Ownership.FOREIGN:
            raise _conflict(caller)
        self._check_mode(mapping)
        if not mapping.customer_deleted:  # a deleted customer is never served from the cache
            self._cache.put(caller.uid, mapping)
        return mapping

    def _verify_old_document(
        self, caller: Caller, ref: firestore.DocumentReference, mapping: CustomerMapping
    ) -> CustomerMapping:
        """Adopt an old hashed document only if Stripe's metadata says it is the caller's.

        A deleted customer holds nothing to leak, so its document is adopted too (and healed).
        Once adopted, the uid is recorded: the check costs one Stripe call, once.
        """
        state = self._stripe.customer_state(mapping.customer_id)
        if state.exists and state.user != caller.uid:
            raise _conflict(caller)
        with translated("customer store"):
            ref.update({"uid": caller.uid}, retry=self._retry, timeout=self._timeout)
        return dataclasses.replace(mapping, uid=caller.uid)

    def _create(
        self, caller: Caller, *, generation: int, replacing: bool = False
    ) -> tuple[str, Future[None] | None]:
        now = self._clock()
        customer_id, livemode = self._stripe.create_customer(caller.uid, generation)
        mapping = CustomerMapping(
            customer_id, livemode, generation, uid=caller.uid, healed_at=now if replacing else None
        )
        self._check_mode(mapping)
        email_update = (
            self._background.submit(self._stripe.update_email, customer_id, caller.email)
            if caller.email
            else None
        )
        document = mapping_document(customer_id, livemode, generation, caller.uid, now)
        if replacing:
            document["healed_at"] = now  # the cap on healing is read from here, by any instance
        ref = self._doc(caller.uid)
        try:
            with translated("customer store"):
                if replacing:
                    ref.update(document, retry=self._retry, timeout=self._timeout)
                else:
                    ref.create(document, retry=self._retry, timeout=self._timeout)
        except gexc.AlreadyExists:
            winner = self._read(caller)  # lost the race: use what the winner wrote
            if winner is None:
                raise UpstreamError("The customer mapping vanished while being created.") from None
            return winner.customer_id, email_update
        self._cache.put(caller.uid, mapping)
        return customer_id, email_update

    def adopt(self, uid: str, customer_id: str, livemode: bool) -> tuple[CustomerMapping, bool]:
        """Map `uid` to an existing customer (`tools.adopt`), create-if-absent like `_create`.

        Generation 0, the same document the function writes for a user's first customer: the
        function reads it as its own, and heals a deletion of it under generation 1 (an
        idempotency key no earlier create used). Returns the user's mapping now and whether this
        call wrote it; a user already mapped (to any customer) is left as they are.
        """
        if livemode != self._livemode:
            raise Conflict("The customer is of the other mode; not adopted.", code="mode_mismatch")
        document = mapping_document(customer_id, livemode, 0, uid, self._clock())
        try:
            with translated("customer store"):
                self._doc(uid).create(document, retry=self._retry, timeout=self._timeout)
        except gexc.AlreadyExists:
            found = self.mapping_of(uid)
            if found is None:
                raise UpstreamError("The customer mapping vanished while being created.") from None
            if found[1] is Ownership.FOREIGN:
                raise MappingConflict("The user's mapping document is another user's.") from None
            return found[0], False
        self._cache.discard(uid)
        return CustomerMapping(customer_id, livemode, 0, uid=uid), True

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


def _connect(channel: grpc.Channel, timeout: float) -> None:
    """Connect `channel` now; raise at its first failure (not after gRPC's reconnect backoff)."""
    settled = threading.Event()
    states: list[grpc.ChannelConnectivity] = []
    final = (
        grpc.ChannelConnectivity.READY,
        grpc.ChannelConnectivity.TRANSIENT_FAILURE,
        grpc.ChannelConnectivity.SHUTDOWN,
    )

    def watch(state: grpc.ChannelConnectivity) -> None:
        if state in final:
            states.append(state)
            settled.set()

    channel.subscribe(watch, try_to_connect=True)
    try:
        settled.wait(timeout)
    finally:
        channel.unsubscribe(watch)
    if not states or states[0] is not grpc.ChannelConnectivity.READY:
        outcome = states[0].name if states else f"no connection within {timeout:g} s"
        raise ConnectionError(f"the Firestore channel did not connect ({outcome})")


def mapping_document(
    customer_id: str, livemode: bool, generation: int, uid: str, now: datetime.datetime
) -> dict[str, Any]:
    """A new mapping document: every field `parse_mapping` reads, the one shape all writers use."""
    return {
        "stripe_customer_id": customer_id,
        "livemode": livemode,
        "generation": generation,
        "created_at": now,
        "uid": uid,
    }


def heal_wait_seconds(
    healed_at: datetime.datetime | None, now: datetime.datetime, interval: datetime.timedelta
) -> int:
    """Seconds until the user's customer may be replaced again (0: now). Pure."""
    if healed_at is None:
        return 0
    remaining = (healed_at + interval - now).total_seconds()
    return max(0, math.ceil(remaining))


def _conflict(caller: Caller) -> MappingConflict:
    """The incident of a document that is another user's: logged by hash, never a session."""
    logs.emit(
        {
            "severity": "ERROR",
            "message": "Mapping document belongs to another user; no session opened",
            "user": logs.user_ref(caller.uid),
        }
    )
    return MappingConflict(
        "This account's billing record is inconsistent; no portal was opened. Contact support.",
    )


def parse_mapping(data: dict[str, Any]) -> CustomerMapping:
    """A mapping document's fields, type-checked: anything else is `MappingMalformed` (502).

    Pure. Checked strictly because a hand-edited document must never turn into a wrong answer
    (`bool("false")` is True, `int("abc")` raises).
    """
    customer_id = data.get("stripe_customer_id")
    livemode = data.get("livemode")
    generation = data.get("generation")
    uid = data.get("uid")
    problems = []
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id):
        problems.append("stripe_customer_id")
    if not isinstance(livemode, bool):
        problems.append("livemode")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        problems.append("generation")
    if uid is not None and (not isinstance(uid, str) or not uid):
        problems.append("uid")
    deleted = data.get("deleted_customer_id")
    if deleted is not None and (
        not isinstance(deleted, str) or not _CUSTOMER_ID.fullmatch(deleted)
    ):
        problems.append("deleted_customer_id")
    for name in ("created_at", "healed_at", "customer_deleted_at"):
        if data.get(name) is not None and not isinstance(data[name], datetime.datetime):
            problems.append(name)
    if problems:
        # The field names only: the values may be anything, including a user's id.
        raise MappingMalformed(
            f"The customer mapping is malformed ({', '.join(problems)}); it was left untouched."
        )
    # The checks above made these exactly a str, a bool and an int (casts: nothing converted).
    return CustomerMapping(
        customer_id=cast(str, customer_id),
        livemode=cast(bool, livemode),
        generation=cast(int, generation),
        uid=uid,
        healed_at=data.get("healed_at"),
        deleted_customer_id=deleted,
    )
