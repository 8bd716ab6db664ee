"""What the webhook does with each event type: one small handler per type, in one table.

`HANDLERS` maps every type the deployment acts on to its handler; its keys are exactly
`settings.WEBHOOK_EVENTS`, the list the stack's webhook endpoint enables and the drift check
compares (tests/function/unit/test_webhook_handlers.py says so). `WebhookApp` has checked the
signature, the envelope's shape and the mode, and looked the type up here, before a handler
runs; a type with no row is `200` ignored (`unhandled_type`).

A handler reads its event's object only through `events.event_subject` (the object's shape,
checked before anything is read or written), finds the user, and ends with `Delivery.rebuild`:
the one rebuild of the user's state from its sources (`BillingState.sync`), never from the
event's body. Another event type is another handler and another row (and the type in
`WEBHOOK_EVENTS`, so the endpoint sends it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import logs
from .billing_state import BillingState, Sources, sources_of, user_sources
from .customers import CustomerDirectory, CustomerMapping, Ownership
from .events import checkout_customer, event_subject
from .lru import LruCache
from .stripe_api import StripeGateway


class Ignored(Exception):
    """An authentic event this deployment does not act on (200, with the reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """What a handler works with besides its event: the instance's stores and Stripe reads, and
    the request's log fields, which the handler fills (`customer`, `user`, `subscriptions`)."""

    livemode: bool
    directory: CustomerDirectory
    billing: BillingState
    stripe: StripeGateway
    users: LruCache[str, str]  # customer id → its user, per instance (see webhooks.py)
    log: dict[str, Any]

    def user_of(self, customer_id: str) -> str:
        """The user a customer was created for, from its metadata (cached per instance)."""
        cached = self.users.get(customer_id)
        if cached is not None:
            return cached
        state = self.stripe.customer_state(customer_id)
        if not state.exists:
            raise Ignored("customer_deleted")  # its `customer.deleted` clears the state
        if state.user is None:
            raise Ignored("unknown_customer")
        self.users.put(customer_id, state.user)
        return state.user

    def users_mapping(self, uid: str) -> CustomerMapping:
        """The user's own mapping in this mode; otherwise the event is ignored and logged (a
        customer this deployment did not create)."""
        found = self.directory.mapping_of(uid)
        if found is None:
            raise Ignored("unknown_customer")
        mapping, whose = found
        if whose is Ownership.FOREIGN or mapping.livemode != self.livemode:
            raise Ignored("unknown_customer")
        return mapping

    def rebuild(
        self, uid: str, customer_id: str, mapping: CustomerMapping, *, changed: bool = False
    ) -> None:
        """Rebuild the user's state from its sources (`BillingState.sync`); then, if the event's
        customer is not the one `mapping` names, `Ignored`. Every handler ends here.

        `mapping` is the user's, just read; it serves the first round unless the handler has
        `changed` it since (then it is read again). The state is rebuilt from the mapping, never
        from the event, so an event of a customer the user no longer has (replaced after a
        deletion on another instance) still brings the user's state up to date: otherwise the
        old customer's subscriptions could stay there.
        """
        unread = [] if changed else [mapping]

        def read_sources() -> Sources | None:
            if unread:  # fresh from Firestore a moment ago; the verification round re-reads it
                return sources_of(
                    unread.pop(),
                    self.stripe.customer_subscriptions,
                    self.stripe.customer_entitlements,
                )
            return user_sources(self.directory, self.stripe, uid)

        written = self.billing.sync(uid, read_sources)
        if written is not None:
            self.log["subscriptions"] = len(written.subscriptions)
            self.log["entitlements"] = len(written.entitlements)
        if mapping.customer_id != customer_id:
            raise Ignored("unknown_customer")  # not the user's customer now


Event = dict[str, Any]  # as `events.parse_event` returned it
Handler = Callable[[Delivery, Event], None]


def subscription_changed(delivery: Delivery, event: Event) -> None:
    """`customer.subscription.*`: rebuild the state of the user who owns the event's customer
    (its `metadata.app_user_id`, retrieved once per instance)."""
    customer_id = event_subject(event).customer_id
    delivery.log["customer"] = customer_id
    uid = delivery.user_of(customer_id)
    delivery.log["user"] = logs.user_ref(uid)
    delivery.rebuild(uid, customer_id, delivery.users_mapping(uid))


def entitlements_changed(delivery: Delivery, event: Event) -> None:
    """`entitlements.active_entitlement_summary.updated`: rebuild the state of the user who owns
    the summary's customer. The summary in the event is never read: the rebuild lists the
    customer's active entitlements from Stripe, so a late or repeated summary cannot bring back
    a feature the customer no longer has."""
    customer_id = event_subject(event).customer_id
    delivery.log["customer"] = customer_id
    uid = delivery.user_of(customer_id)
    delivery.log["user"] = logs.user_ref(uid)
    delivery.rebuild(uid, customer_id, delivery.users_mapping(uid))


def customer_deleted(delivery: Delivery, event: Event) -> None:
    """`customer.deleted`: mark the user's mapping (so the next session creates the next
    customer at once), then rebuild the state (empty). The user is the one the event's own
    customer names: a deleted customer can no longer be retrieved."""
    subject = event_subject(event)
    delivery.log["customer"] = subject.customer_id
    if subject.user is None:
        raise Ignored("unknown_customer")
    uid = subject.user
    delivery.log["user"] = logs.user_ref(uid)
    mapping = delivery.users_mapping(uid)
    mark = mapping.customer_id == subject.customer_id and not mapping.customer_deleted
    if mark:
        delivery.directory.mark_customer_deleted(uid, subject.customer_id)
    delivery.rebuild(uid, subject.customer_id, mapping, changed=mark)


def checkout_completed(delivery: Delivery, event: Event) -> None:
    """`checkout.session.completed`: the session's customer now has the subscription it started;
    rebuild the state of the user who owns that customer, as for a subscription event (the
    subscription's own `customer.subscription.created` may come later, or not first). A session
    that made no customer is no user's."""
    customer_id = checkout_customer(event)
    if customer_id is None:
        raise Ignored("no_customer")
    delivery.log["customer"] = customer_id
    uid = delivery.user_of(customer_id)
    delivery.log["user"] = logs.user_ref(uid)
    delivery.rebuild(uid, customer_id, delivery.users_mapping(uid))


# One row per event type the deployment acts on; keys exactly `settings.WEBHOOK_EVENTS`.
HANDLERS: Mapping[str, Handler] = {
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "customer.subscription.paused": subscription_changed,
    "customer.subscription.resumed": subscription_changed,
    "customer.subscription.trial_will_end": subscription_changed,
    "customer.deleted": customer_deleted,
    "checkout.session.completed": checkout_completed,
    "entitlements.active_entitlement_summary.updated": entitlements_changed,
}
