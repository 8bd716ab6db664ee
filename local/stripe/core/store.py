"""The stand-in's in-memory state: objects per mode (test/live) and the shared account."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.stripe.core.errors import resource_missing

# The object name Stripe uses in "No such …" messages, by store collection.
_KINDS = {
    "customers": "customer",
    "configurations": "configuration",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "events": "event",
    "webhook_endpoints": "webhook_endpoint",
    "checkout_sessions": "checkout.session",
    "features": "feature",
}

MODES = ("test", "live")


@dataclass(frozen=True)
class StoredFile:
    """An upload: the object the API returns, its bytes, and who uploaded it."""

    object: dict[str, Any]
    data: bytes
    owner: str | None


@dataclass
class ModeState:
    """Everything one mode's keys can see. Dicts keep insertion order, i.e. creation order."""

    livemode: bool
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Deleted customers keep their last state: the API shows a stub, the control API the object.
    deleted_customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Uploaded files: the file object, its content, and the account that uploaded it (None:
    # the platform itself; acct_…: a connected account, through the Stripe-Account header).
    files: dict[str, StoredFile] = field(default_factory=dict)
    connected_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every change to a customer or subscription, as Stripe records it (``local.stripe.events``).
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkout_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What completing a Checkout Session needs that its object does not show (its line items,
    # subscription_data), by session id (``local.stripe.checkout``).
    checkout_private: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Entitlements (``local.stripe.entitlements``): features; per product, its attachments
    # {prodft_…: feat_…}; per customer, the active entitlements last announced {feat_…: object}.
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    product_features: dict[str, dict[str, str]] = field(default_factory=dict)
    active_entitlements: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class Store:
    """All state, guarded by one lock (requests are short; simplicity beats contention here).

    ``seed`` puts in what a fresh account has before any request (the account object, each
    mode's default portal configuration); ``reset()`` runs it again. ``subscribe`` registers a
    listener that every event recorded (``publish``) is handed to, under the lock: listeners
    only enqueue (webhook delivery happens on its own thread).
    """

    def __init__(self, seed: Callable[[Store], None] = lambda store: None) -> None:
        self.lock = threading.RLock()
        self.modes: dict[str, ModeState] = {}
        self.account: dict[str, Any] = {}
        self._seed = seed
        self._listeners: list[Callable[[ModeState, dict[str, Any]], None]] = []
        self.reset()

    def subscribe(self, listener: Callable[[ModeState, dict[str, Any]], None]) -> None:
        """Call ``listener(state, event)`` for every event recorded from now on."""
        self._listeners.append(listener)

    def publish(self, state: ModeState, event: dict[str, Any]) -> None:
        """Hand a newly recorded event to every listener."""
        for listener in self._listeners:
            listener(state, event)

    def reset(self) -> None:
        """Forget every object, then seed again."""
        with self.lock:
            self.modes = {mode: ModeState(livemode=mode == "live") for mode in MODES}
            self.account = {}
            self._seed(self)

    def mode(self, livemode: bool) -> ModeState:
        """The state a key of that mode sees."""
        return self.modes["live" if livemode else "test"]

    def other_mode_has(self, livemode: bool, collection: str, object_id: str) -> str | None:
        """Name the other mode if it holds ``object_id`` (Stripe says so in its 404 message)."""
        other = self.mode(not livemode)
        if object_id in getattr(other, collection):
            return "test" if livemode else "live"
        return None

    def require(
        self, state: ModeState, collection: str, object_id: str, *, param: str, status: int
    ) -> dict[str, Any]:
        """The object, or Stripe's ``resource_missing`` (404 for the URL's object, 400 for one a
        parameter references), naming the other mode if it holds that id."""
        found = getattr(state, collection).get(object_id)
        if found is None:
            raise resource_missing(
                _KINDS[collection],
                object_id,
                param=param,
                status=status,
                other_mode=self.other_mode_has(state.livemode, collection, object_id),
            )
        return found
