"""Events: every change the stand-in makes to a customer or a subscription is recorded as a
Stripe event (``evt_…``), retrievable and listable, and handed to webhook delivery
(``local.stripe.webhook_endpoints``) as Stripe does.

An event holds the object as it is after the change (``data.object``) and, for updates, the
previous values of the top-level fields that changed (``data.previous_attributes``).
"""

from __future__ import annotations

import copy
import time

from local.stripe.core.errors import StripeError
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, StripeApi, retrieve, route
from local.stripe.core.store import ModeState, Store
from stackspec.schema import api_version


def previous_attributes(before: Payload, after: Payload) -> Payload:
    """The top-level fields of ``before`` whose values differ in ``after``. Pure."""
    return {key: copy.deepcopy(value) for key, value in before.items() if after.get(key) != value}


def record(
    store: Store,
    state: ModeState,
    event_type: str,
    obj: Payload,
    previous: Payload | None = None,
) -> Payload:
    """Record one event of ``state``'s mode for ``obj`` (as it is now) and publish it.

    Called under the store's lock by the handler that made the change, so events are numbered
    (``created``, then insertion order) in the order the changes happened.
    """
    data: Payload = {"object": copy.deepcopy(obj)}
    if previous:
        data["previous_attributes"] = copy.deepcopy(previous)
    event = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": api_version(),
        "created": int(time.time()),
        "data": data,
        "livemode": state.livemode,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    state.events[event["id"]] = event
    store.publish(state, event)
    return event


def list_events(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/events``, newest first, with the ``type`` filter (``*`` wildcards as Stripe)."""
    events = list(state.events.values())
    wanted = params.get("type")
    if wanted is not None:
        if not isinstance(wanted, str):
            raise StripeError(400, "Invalid type: must be a string.", param="type")
        events = [event for event in events if type_matches(wanted, event["type"])]
    return 200, list_page("/v1/events", events, params)


def type_matches(pattern: str, event_type: str) -> bool:
    """Stripe's event type filter: exact, ``*`` for all, or ``customer.subscription.*``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


ROUTES = (
    route(
        "GET",
        "/v1/events",
        list_events,
        query=frozenset(LIST_PARAMS | {"type", "types", "created", "delivery_success"}),
    ),
    route("GET", "/v1/events/{id}", retrieve("events")),
)
