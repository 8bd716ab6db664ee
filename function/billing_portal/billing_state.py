"""The user's billing state: their subscriptions as Stripe has them, kept in Firestore.

One document per user, `{CUSTOMERS_COLLECTION}/{document id}/billing/state`, beside the mapping
document. It is only ever written whole, with the same fields every time (`uid`, `customer`,
`customer_deleted`, `subscriptions` — one array —, `entitlements` — the sorted lookup keys of the
customer's active entitlements (`entitlements.py`) — and `updated_at`), so a write means the same on
Firestore (where `set()` replaces) and on the local emulator (where `set()` merges): no field is
ever left behind from an earlier write, and no map is updated in part.

Order-safe without transactions or preconditions ("write, then verify against the source of truth",
`BillingState.sync`): whatever event arrives, the user's state is rebuilt from the two sources it
is made of — the mapping (which customer is the user's now, and whether Stripe said it was deleted)
and Stripe's current lists of that customer's subscriptions and active entitlements — never from
the event's body. After writing, the handler reads the sources again; if they changed in the
meantime, it writes the new value and checks again, at most `MAX_ROUNDS` times, and otherwise fails
(5xx: Stripe redelivers). So every handler's last action is a write that it saw equal the sources
*after* the write. Take the last write W of all handlers: its handler then read sources equal to W;
a change to Stripe after that read produces a new event whose handler reads (and writes) after the
change, so after W — contradicting W being last unless that write equals W anyway. Hence, once
deliveries stop, the document equals Stripe's state: late, duplicate and concurrent events cannot
leave an older state behind. Stripe sends a summary event whenever a customer's active entitlements
change (also after the subscription event that caused it), so the same argument covers them.
docs/how-it-works.md has the argument and its limits.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from google.cloud import firestore

from .customers import CustomerDirectory, CustomerMapping, Ownership, document_id
from .datastore import bounded_retry, translated
from .entitlements import entitlement_keys, is_entitlement_list
from .errors import Unavailable, UpstreamError
from .lru import LruCache
from .stripe_api import StripeGateway, SubscriptionOwner, item_quantity
from .tokens import Caller

# Rounds of write-then-verify before giving up (5xx, so that Stripe redelivers the event).
MAX_ROUNDS = 5
STATE_COLLECTION = "billing"
STATE_DOCUMENT = "state"
# Threads for the entitlements list read beside the subscriptions list (`sources_of`): one per
# sync in flight, created on demand.
_LIST_READS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="state-lists")
# Users whose last read state an instance remembers (`BillingState.last_read`), the least
# recently read forgotten first: a few MB at most (a state is a few KB). Its one reader, the
# checkout, wants states of the last two minutes; an instance that reads more users than this in
# two minutes only loses the shortcut (the checkout reads the state again).
REMEMBERED_STATES = 1_000

Subscription = dict[str, Any]


def _id_of(value: Any) -> str | None:
    """An id field that may come expanded (`{"id": …}`) or as the id itself."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value is not None else None


def summarize(subscription: dict[str, Any]) -> Subscription:
    """The fields the app reads of one Stripe subscription (the `GET` contract's shape). Pure.

    Stripe keeps the billing period per item: `current_period_end` is the latest of the items'.
    """
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item["current_period_end"] for item in items if item.get("current_period_end")]
    return {
        "id": str(subscription["id"]),
        "status": str(subscription.get("status")),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "current_period_end": max(ends) if ends else None,
        # When an ended subscription ended (Unix seconds): "your plan ended on …".
        "ended_at": _timestamp(subscription.get("ended_at")),
        "items": [
            {
                "id": str(item.get("id")),
                "price": _id_of(item.get("price")),
                "product": _id_of((item.get("price") or {}).get("product")),
                "quantity": item.get("quantity"),
            }
            for item in items
        ],
    }


def _timestamp(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def summarize_all(subscriptions: list[dict[str, Any]]) -> list[Subscription]:
    """Every subscription summarized, newest (`created`) first, ties by id. Pure."""
    ordered = sorted(
        subscriptions, key=lambda s: (int(s.get("created") or 0), str(s["id"])), reverse=True
    )
    return [summarize(subscription) for subscription in ordered]


@dataclass(frozen=True)
class StoredState:
    """The state document: whose, of which customer, the subscriptions and entitlements."""

    uid: str
    customer_id: str
    customer_deleted: bool
    subscriptions: list[Subscription]
    entitlements: list[str] = field(default_factory=list)


def parse_state(uid: str, data: dict[str, Any]) -> StoredState:
    """A state document's fields, type-checked like the mapping's: anything but the shape the
    webhook writes is `state_malformed` (502), never passed on to the caller. Pure."""
    customer = data.get("customer")
    deleted = data.get("customer_deleted")
    subscriptions = data.get("subscriptions")
    # A document written before entitlements were kept has none: `[]` until its next sync.
    entitlements = data.get("entitlements", [])
    if (
        not isinstance(customer, str)
        or not isinstance(deleted, bool)
        or not isinstance(subscriptions, list)
        or not all(_is_subscription(entry) for entry in subscriptions)
        or not is_entitlement_list(entitlements)
    ):
        raise UpstreamError(
            "The billing state document is malformed; it was left untouched.",
            code="state_malformed",
        )
    return StoredState(uid, customer, deleted, subscriptions, entitlements)


def _is_subscription(entry: Any) -> bool:
    """One entry of the `GET` contract's shape (as `summarize` writes it)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return False
    if not isinstance(entry.get("status"), str) or not isinstance(
        entry.get("cancel_at_period_end"), bool
    ):
        return False
    for name in ("current_period_end", "ended_at"):  # ended_at: absent in older documents
        moment = entry.get(name)
        if moment is not None and (isinstance(moment, bool) or not isinstance(moment, int)):
            return False
    items = entry.get("items")
    return isinstance(items, list) and all(
        isinstance(item, dict) and isinstance(item.get("id"), str) for item in items
    )


@dataclass(frozen=True)
class Sources:
    """What the state is made of: the mapped customer, Stripe's subscriptions of it and the
    lookup keys of its active entitlements (sorted)."""

    customer_id: str
    customer_deleted: bool
    subscriptions: list[Subscription]
    entitlements: list[str] = field(default_factory=list)


class StateUnsettled(Unavailable):
    """The sources kept changing while the state was written; Stripe will redeliver."""

    code = "state_unsettled"


def state_reference(
    customers: firestore.CollectionReference, uid: str
) -> firestore.DocumentReference:
    """Where the user's state document lives: under their mapping document in `customers`."""
    # Typed here: the library leaves `DocumentReference.collection` unannotated.
    state: firestore.DocumentReference = (
        customers.document(document_id(uid)).collection(STATE_COLLECTION).document(STATE_DOCUMENT)
    )
    return state


@dataclass(frozen=True)
class Remembered:
    """A state this instance read (None: it read that the user has none), and when."""

    state: StoredState | None
    read_at: float


class BillingState:
    """Reads and writes users' state documents; `sync` rebuilds one from its sources."""

    def __init__(
        self,
        db: firestore.Client,
        collection: str,
        *,
        timeout_seconds: float,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._collection = db.collection(collection)
        self._timeout = timeout_seconds
        self._retry = bounded_retry(timeout_seconds)
        self._clock = clock
        self._monotonic = monotonic
        self._last_read: LruCache[str, Remembered] = LruCache(REMEMBERED_STATES)

    def _ref(self, uid: str) -> firestore.DocumentReference:
        return state_reference(self._collection, uid)

    def read(self, uid: str) -> StoredState | None:
        """The user's state document, or None when there is none (or it is another user's)."""
        with translated("billing state store"):
            snapshot = self._ref(uid).get(retry=self._retry, timeout=self._timeout)
        state = None
        if snapshot.exists:
            data = snapshot.to_dict() or {}
            if data.get("uid") == uid:  # under a hashed id only the recorded user's state counts
                state = parse_state(uid, data)
        self._last_read.put(uid, Remembered(state, self._monotonic()))
        return state

    def last_read(self, uid: str, *, max_age: float) -> Remembered | None:
        """What this instance's last `read` of the user found, if it was less than `max_age`
        seconds ago and this instance has not written the user's state since; else None.

        Only for a decision that a state this old cannot make wrong: another instance (the
        webhook's) may have written since, and a read that raced this instance's write may
        have put back what the write replaced.
        """
        remembered = self._last_read.get(uid)
        if remembered is None or self._monotonic() - remembered.read_at >= max_age:
            return None
        return remembered

    def write(self, uid: str, sources: Sources) -> None:
        """Replace the user's state document with `sources`: the whole document, every field."""
        document = {
            "uid": uid,
            "customer": sources.customer_id,
            "customer_deleted": sources.customer_deleted,
            "subscriptions": sources.subscriptions,
            "entitlements": sources.entitlements,
            "updated_at": self._clock(),
        }
        try:
            with translated("billing state store"):
                self._ref(uid).set(document, retry=self._retry, timeout=self._timeout)
        finally:  # after the write (even a failed one, which may have been applied)
            self._last_read.discard(uid)

    def subscription_owner(
        self, uid: str, customer_id: str, subscription_id: str
    ) -> SubscriptionOwner | None:
        """The subscription's owner and items as the synced state knows them, or None when the
        state (of `customer_id`) does not know it. A subscription never changes customer."""
        state = self.read(uid)
        if state is None or state.customer_id != customer_id:
            return None
        for subscription in state.subscriptions:
            if subscription.get("id") == subscription_id:
                items = subscription.get("items") or []
                return SubscriptionOwner(
                    customer_id=customer_id,
                    item_prices={
                        str(item.get("id")): str(item["price"]) if item.get("price") else None
                        for item in items
                    },
                    item_quantities={str(item.get("id")): item_quantity(item) for item in items},
                )
        return None

    def sync(self, uid: str, read_sources: Callable[[], Sources | None]) -> Sources | None:
        """Write the user's state from `read_sources()`, then verify it against them again.

        Repeats while the sources changed between the write and the check (at most
        `MAX_ROUNDS` writes), so the last write is one the sources were seen to equal after it
        was made. Returns what was written, or None if the sources say the user has no state
        to keep (no mapping any more). Raises `StateUnsettled` (503) if they never settle.
        """
        current = read_sources()
        for _ in range(MAX_ROUNDS):
            if current is None:
                return None
            self.write(uid, current)
            check = read_sources()
            if check == current:
                return current
            current = check
        raise StateUnsettled(
            "The subscriptions kept changing while they were written; retry later.",
            headers={"Retry-After": "5"},
        )


def sources_of(
    mapping: CustomerMapping,
    list_subscriptions: Callable[[str], list[dict[str, Any]]],
    list_entitlements: Callable[[str], list[dict[str, Any]]],
) -> Sources:
    """The state a mapping calls for: none for a deleted customer, else Stripe's lists (its
    subscriptions and its active entitlements, read beside each other)."""
    if mapping.customer_deleted:
        return Sources(mapping.customer_id, True, [], [])
    # Side by side: a sync reads its sources twice (write, then verify), so two lists read one
    # after the other would cost it two extra Stripe round trips. Both still start after the
    # write they verify, which is all the order-safety argument needs.
    entitlements = _LIST_READS.submit(list_entitlements, mapping.customer_id)
    subscriptions = summarize_all(list_subscriptions(mapping.customer_id))
    keys = entitlement_keys(entitlements.result())  # a failed list fails the sources
    return Sources(mapping.customer_id, False, subscriptions, keys)


def user_sources(
    directory: CustomerDirectory, stripe_gateway: StripeGateway, uid: str
) -> Sources | None:
    """The user's sources read now: their mapping (from Firestore, no cache) and Stripe's
    subscriptions and active entitlements of its customer. None when the user has no mapping
    (or not theirs)."""
    found = directory.mapping_of(uid)
    if found is None or found[1] is Ownership.FOREIGN:
        return None
    return sources_of(
        found[0], stripe_gateway.customer_subscriptions, stripe_gateway.customer_entitlements
    )


def visible_subscriptions(
    state: StoredState | None, customer_id: str | None
) -> list[Subscription] | None:
    """What `GET` shows: the state's subscriptions if the state is of `customer_id`. Pure.

    None when the state is of another customer (the caller's cached mapping may be stale);
    `[]` when there is no customer, no state, or the customer was deleted.
    """
    shown = visible_state(state, customer_id)
    return None if shown is None else shown["subscriptions"]


EMPTY_STATE: dict[str, list[Any]] = {"subscriptions": [], "entitlements": []}


def visible_state(state: StoredState | None, customer_id: str | None) -> dict[str, Any] | None:
    """What `GET` answers: `{"subscriptions", "entitlements"}` of the state if it is of
    `customer_id`; None when it is of another customer; empty lists when there is no customer,
    no state, or the customer was deleted. Pure."""
    if customer_id is None or state is None:
        return {key: [] for key in EMPTY_STATE}
    if state.customer_id != customer_id:
        return None
    if state.customer_deleted:
        return {key: [] for key in EMPTY_STATE}
    return {"subscriptions": list(state.subscriptions), "entitlements": list(state.entitlements)}


def caller_state(
    caller: Caller, directory: CustomerDirectory, billing: BillingState
) -> dict[str, Any]:
    """`GET`: the caller's subscriptions and entitlements from Firestore (one document read);
    no Stripe call, never creates.

    The mapping comes from the instance cache when it has it; a state of another customer means
    that cache may be stale (another instance replaced the customer), so the mapping is read
    once more from Firestore before answering.
    """
    customer_id = directory.existing_customer(caller)
    if customer_id is None:
        return {key: [] for key in EMPTY_STATE}
    state = billing.read(caller.uid)
    visible = visible_state(state, customer_id)
    if visible is None:
        directory.forget(caller.uid)
        visible = visible_state(state, directory.existing_customer(caller))
    return visible or {key: [] for key in EMPTY_STATE}
