"""Subscriptions: create (customer + items[][price]), retrieve, list; and the checks a portal
session's ``flow_data`` gets against them, as Stripe makes them.

Only what the project's deep links need: no invoices, payments, trials or proration. A create
asking for more is refused with a clear message rather than silently ignored.
"""

from __future__ import annotations

import copy
import datetime
import time

from local.stripe.core.errors import StripeError, resource_missing
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, StripeApi, retrieve, route
from local.stripe.core.store import ModeState

# Create parameters the stand-in models; the rest of the schema's rows are validated, then refused.
_SUPPORTED = frozenset({"customer", "items", "metadata", "expand"})
_ITEM_SUPPORTED = frozenset({"price", "quantity", "metadata"})
# A subscription flow's subscription parameter, per flow type.
SUBSCRIPTION_FLOWS = ("subscription_cancel", "subscription_update", "subscription_update_confirm")


def _month_later(start: int) -> int:
    return int(
        (
            datetime.datetime.fromtimestamp(start, datetime.UTC) + datetime.timedelta(days=30)
        ).timestamp()
    )


def new_subscription(
    subscription_id: str,
    *,
    customer: str,
    items: list[tuple[Payload, int, dict[str, str]]],
    metadata: dict[str, str],
    livemode: bool,
    created: int,
) -> Payload:
    """An active subscription with every field the project reads (and Stripe's usual others).

    Stripe keeps the billing period per item (``items.data[].current_period_end``).
    """
    period_end = _month_later(created)
    data = [
        {
            "id": new_id("si"),
            "object": "subscription_item",
            "created": created,
            "current_period_start": created,
            "current_period_end": period_end,
            "metadata": item_metadata,
            "price": copy.deepcopy(price),
            "quantity": quantity,
            "subscription": subscription_id,
        }
        for price, quantity, item_metadata in items
    ]
    return {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": created,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": data[0]["price"]["currency"],
        "customer": customer,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "livemode": livemode,
        "metadata": metadata,
        "start_date": created,
        "status": "active",
    }


def cancel_subscriptions_of(state: ModeState, customer_id: str, now: int) -> None:
    """What deleting a customer does to its subscriptions: canceled at once."""
    for subscription in state.subscriptions.values():
        if subscription["customer"] == customer_id and subscription["status"] != "canceled":
            subscription.update(status="canceled", canceled_at=now, ended_at=now)


def check_flow_subscription(state: ModeState, flow_data: Payload | None, customer: str) -> None:
    """A subscription flow must name a subscription of the session's customer (and, to confirm
    an update, items of that subscription); otherwise Stripe answers ``resource_missing``."""
    if flow_data is None or flow_data.get("type") not in SUBSCRIPTION_FLOWS:
        return
    flow_type = flow_data["type"]
    detail = flow_data.get(flow_type) or {}
    subscription_id = detail.get("subscription")
    param = f"flow_data[{flow_type}][subscription]"
    subscription = state.subscriptions.get(subscription_id or "")
    if subscription is None or subscription["customer"] != customer:
        # Stripe does not tell another customer's subscription from a missing one.
        raise resource_missing("subscription", str(subscription_id), param=param, status=400)
    own_items = {item["id"] for item in subscription["items"]["data"]}
    for index, item in enumerate(detail.get("items") or []):
        if item.get("id") not in own_items:
            raise resource_missing(
                "subscription_item",
                str(item.get("id")),
                param=f"flow_data[{flow_type}][items][{index}][id]",
                status=400,
            )


def create_subscription(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/subscriptions``: an active subscription of existing recurring prices."""
    unsupported = sorted(set(params) - _SUPPORTED)
    if unsupported:
        raise StripeError(
            400,
            f"The Stripe stand-in does not support {unsupported[0]} on subscriptions.",
            param=unsupported[0],
        )
    if "customer" not in params:
        raise StripeError(
            400, "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    customer = api.store.require(
        state, "customers", params["customer"], param="customer", status=400
    )
    raw_items = params.get("items") or []
    if not raw_items:
        raise StripeError(
            400, "Missing required param: items.", code="parameter_missing", param="items"
        )
    items = []
    for index, item in enumerate(raw_items):
        items.append(_item(api, state, item, index))
    subscription = new_subscription(
        new_id("sub"),
        customer=customer["id"],
        items=items,
        metadata=dict(params.get("metadata") or {}),
        livemode=state.livemode,
        created=int(time.time()),
    )
    state.subscriptions[subscription["id"]] = subscription
    return 200, subscription


def _item(
    api: StripeApi, state: ModeState, item: Payload, index: int
) -> tuple[Payload, int, dict[str, str]]:
    unsupported = sorted(set(item) - _ITEM_SUPPORTED)
    if unsupported:
        param = f"items[{index}][{unsupported[0]}]"
        raise StripeError(400, f"The Stripe stand-in does not support {param}.", param=param)
    if "price" not in item:
        param = f"items[{index}][price]"
        raise StripeError(
            400, f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    param = f"items[{index}][price]"
    price = api.store.require(state, "prices", item["price"], param=param, status=400)
    if price["type"] != "recurring":
        raise StripeError(
            400,
            f"The price specified ({price['id']}) is set to `type=one_time` but this field "
            "only accepts prices with `type=recurring`.",
            param=param,
        )
    return price, item.get("quantity", 1), dict(item.get("metadata") or {})


def list_subscriptions(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/subscriptions`` with ``customer``, ``price`` and ``status`` filters; like
    Stripe, canceled subscriptions only with ``status=canceled`` or ``status=all``."""
    subscriptions = list(state.subscriptions.values())
    if "customer" in params:
        subscriptions = [s for s in subscriptions if s["customer"] == params["customer"]]
    if "price" in params:
        subscriptions = [
            s
            for s in subscriptions
            if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
        ]
    status = params.get("status")
    if status is None:
        subscriptions = [s for s in subscriptions if s["status"] != "canceled"]
    elif status != "all":
        subscriptions = [s for s in subscriptions if s["status"] == status]
    return 200, list_page("/v1/subscriptions", subscriptions, params)


ROUTES = (
    route("POST", "/v1/subscriptions", create_subscription, schema="POST /v1/subscriptions"),
    route(
        "GET",
        "/v1/subscriptions",
        list_subscriptions,
        query=frozenset(LIST_PARAMS | {"customer", "price", "status"}),
    ),
    route("GET", "/v1/subscriptions/{id}", retrieve("subscriptions")),
)
