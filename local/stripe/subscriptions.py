"""Subscriptions: create (customer + items[][price]), retrieve, list, update (what the portal's
actions do: cancel at period end and undo it, switch price, quantity, pause collection,
metadata), cancel now (``DELETE``); and the checks a portal session's ``flow_data`` gets against
them, as Stripe makes them. Every change records its ``customer.subscription.*`` event, then
the customer's entitlements are recomputed (``local.stripe.entitlements.refresh``, which records
the summary event when they changed).

Only what the project's deep links and billing state need: no invoices, payments, trials or
proration (``proration_behavior`` is accepted and has no effect). A request asking for more is
refused with a clear message rather than silently ignored.
"""

from __future__ import annotations

import copy
import datetime
import time

from local.stripe import entitlements, events
from local.stripe.core.errors import StripeError, resource_missing
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import merge_metadata, new_id
from local.stripe.core.routing import Payload, StripeApi, retrieve, route
from local.stripe.core.store import ModeState, Store

# Create parameters the stand-in models; the rest of the schema's rows are validated, then refused.
_SUPPORTED = frozenset({"customer", "items", "metadata", "expand"})
_ITEM_SUPPORTED = frozenset({"price", "quantity", "metadata"})
_UPDATE_SUPPORTED = frozenset(
    {
        "cancel_at_period_end",
        "items",
        "metadata",
        "pause_collection",
        "proration_behavior",
        "expand",
    }
)
_UPDATE_ITEM_SUPPORTED = frozenset({"id", "price", "quantity", "metadata", "deleted"})
_CANCEL_SUPPORTED = frozenset({"cancellation_details", "invoice_now", "prorate", "expand"})
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
    """An active subscription with every field Stripe's published example has (at their values
    for a subscription without trial, tax, discounts or invoices).

    Stripe keeps the billing period per item (``items.data[].current_period_end``).
    """
    period_end = _month_later(created)
    data = [
        new_item(subscription_id, price, quantity, item_metadata, created, period_end)
        for price, quantity, item_metadata in items
    ]
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": data[0]["price"]["currency"],
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,  # the stand-in makes no invoices
        "livemode": livemode,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": "active",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def new_item(
    subscription_id: str,
    price: Payload,
    quantity: int,
    metadata: dict[str, str],
    start: int,
    period_end: int,
) -> Payload:
    """A subscription item; Stripe keeps the billing period per item."""
    return {
        "id": new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": start,
        "current_period_start": start,
        "current_period_end": period_end,
        "discounts": [],
        "metadata": metadata,
        "plan": plan_of(price) if price else None,
        "price": copy.deepcopy(price),
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def plan_of(price: Payload) -> Payload:
    """The legacy `plan` Stripe still shows beside an item's recurring price: the same price."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": price["livemode"],
        "metadata": dict(price["metadata"]),
        "meter": recurring.get("meter"),
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": copy.deepcopy(price["transform_quantity"]),
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _end_now(store: Store, state: ModeState, subscription: Payload, reason: str) -> None:
    """Cancel at once: status ``canceled``, ``ended_at``, and the ``…deleted`` event."""
    now = int(time.time())
    before = copy.deepcopy(subscription)
    subscription.update(
        status="canceled",
        canceled_at=subscription["canceled_at"] or now,
        ended_at=now,
        cancel_at=None,
        cancel_at_period_end=False,
    )
    subscription["cancellation_details"]["reason"] = reason
    events.record(
        store,
        state,
        "customer.subscription.deleted",
        subscription,
        events.previous_attributes(before, subscription),
    )
    entitlements.refresh(store, state, subscription["customer"])


def cancel_subscriptions_of(store: Store, state: ModeState, customer_id: str) -> None:
    """What deleting a customer does to its subscriptions: canceled at once, each with its
    ``customer.subscription.deleted`` event."""
    for subscription in state.subscriptions.values():
        if subscription["customer"] == customer_id and subscription["status"] != "canceled":
            _end_now(store, state, subscription, "cancellation_requested")


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
    subscription = start_subscription(
        api.store, state, customer["id"], items, dict(params.get("metadata") or {})
    )
    return 200, subscription


def start_subscription(
    store: Store,
    state: ModeState,
    customer_id: str,
    items: list[tuple[Payload, int, dict[str, str]]],
    metadata: dict[str, str],
    *,
    trial_days: int = 0,
) -> Payload:
    """A new subscription of checked items, stored, with its ``customer.subscription.created``
    event: what the API's create and a completed Checkout Session (``checkout``) both do. With
    ``trial_days``, it starts ``trialing`` and its first period is the trial."""
    created = int(time.time())
    subscription = new_subscription(
        new_id("sub"),
        customer=customer_id,
        items=items,
        metadata=metadata,
        livemode=state.livemode,
        created=created,
    )
    if trial_days:
        trial_end = created + trial_days * 86400
        subscription.update(status="trialing", trial_start=created, trial_end=trial_end)
        for item in subscription["items"]["data"]:
            item["current_period_end"] = trial_end
    state.subscriptions[subscription["id"]] = subscription
    events.record(store, state, "customer.subscription.created", subscription)
    entitlements.refresh(store, state, subscription["customer"])
    return subscription


def _refuse_unsupported(params: Payload, supported: frozenset[str], prefix: str = "") -> None:
    unsupported = sorted(set(params) - supported)
    if unsupported:
        param = f"{prefix}[{unsupported[0]}]" if prefix else unsupported[0]
        raise StripeError(
            400, f"The Stripe stand-in does not support {param} on subscriptions.", param=param
        )


def update_subscription(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/subscriptions/{id}``: what the portal's actions change, as Stripe does."""
    _refuse_unsupported(params, _UPDATE_SUPPORTED)
    subscription = api.store.require(state, "subscriptions", id, param="id", status=404)
    if subscription["status"] == "canceled" and set(params) - {"metadata", "expand"}:
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    before = copy.deepcopy(subscription)
    now = int(time.time())
    if "cancel_at_period_end" in params:
        if params["cancel_at_period_end"]:
            period_end = max(i["current_period_end"] for i in subscription["items"]["data"])
            subscription.update(cancel_at_period_end=True, cancel_at=period_end, canceled_at=now)
        else:
            subscription.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
    if "items" in params:
        _update_items(api, state, subscription, params["items"], now)
    if "pause_collection" in params:
        pause = params["pause_collection"]
        subscription["pause_collection"] = (
            None
            if pause == ""
            else {"behavior": pause["behavior"], "resumes_at": pause.get("resumes_at")}
        )
    if "metadata" in params:
        subscription["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    previous = events.previous_attributes(before, subscription)
    if previous:
        events.record(api.store, state, "customer.subscription.updated", subscription, previous)
        entitlements.refresh(api.store, state, subscription["customer"])
    return 200, subscription


def _update_items(
    api: StripeApi, state: ModeState, subscription: Payload, changes: list[Payload], now: int
) -> None:
    """Switch an item's price, change its quantity or metadata, add or delete items."""
    items = subscription["items"]["data"]
    for index, change in enumerate(changes):
        _refuse_unsupported(change, _UPDATE_ITEM_SUPPORTED, f"items[{index}]")
        if "id" in change:
            item = next((i for i in items if i["id"] == change["id"]), None)
            if item is None:
                raise resource_missing(
                    "subscription_item", change["id"], param=f"items[{index}][id]", status=400
                )
            if change.get("deleted"):
                items.remove(item)
                continue
        else:
            if "price" not in change:
                param = f"items[{index}][price]"
                raise StripeError(
                    400, f"Missing required param: {param}.", code="parameter_missing", param=param
                )
            period_end = items[0]["current_period_end"] if items else _month_later(now)
            item = new_item(subscription["id"], {}, 1, {}, now, period_end)
            items.append(item)
        if "price" in change:
            price, _, _ = _item(api, state, {"price": change["price"]}, index)
            item["price"] = copy.deepcopy(price)
            item["plan"] = plan_of(price)
        if "quantity" in change:
            item["quantity"] = change["quantity"]
        if "metadata" in change:
            item["metadata"] = merge_metadata(item["metadata"], change["metadata"])
    if not items:
        raise StripeError(400, "A subscription must have at least one item.", param="items")


def cancel_subscription(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``DELETE /v1/subscriptions/{id}``: canceled now, ``ended_at`` set."""
    _refuse_unsupported(params, _CANCEL_SUPPORTED)
    subscription = api.store.require(state, "subscriptions", id, param="id", status=404)
    if subscription["status"] == "canceled":
        raise StripeError(
            400, f"This subscription has already been canceled: '{id}'", param="subscription"
        )
    details = params.get("cancellation_details") or {}
    for key in ("comment", "feedback"):
        if key in details:
            subscription["cancellation_details"][key] = details[key] or None
    _end_now(api.store, state, subscription, "cancellation_requested")
    return 200, subscription


def _item(
    api: StripeApi, state: ModeState, item: Payload, index: int
) -> tuple[Payload, int, dict[str, str]]:
    return recurring_item(state, item, f"items[{index}]", api.store)


def recurring_item(
    state: ModeState, item: Payload, prefix: str, store: Store
) -> tuple[Payload, int, dict[str, str]]:
    """(price, quantity, metadata) of one item naming a recurring price of ``state``; Stripe's
    400 for an unsupported field, a missing price or a one-time price. ``prefix`` names the
    item in messages (``items[0]``, ``line_items[0]``)."""
    unsupported = sorted(set(item) - _ITEM_SUPPORTED)
    if unsupported:
        param = f"{prefix}[{unsupported[0]}]"
        raise StripeError(400, f"The Stripe stand-in does not support {param}.", param=param)
    if "price" not in item:
        param = f"{prefix}[price]"
        raise StripeError(
            400, f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    param = f"{prefix}[price]"
    price = store.require(state, "prices", item["price"], param=param, status=400)
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
    route(
        "POST",
        "/v1/subscriptions/{id}",
        update_subscription,
        schema="POST /v1/subscriptions/{subscription_exposed_id}",
        allow_unset=True,
    ),
    route(
        "DELETE",
        "/v1/subscriptions/{id}",
        cancel_subscription,
        schema="DELETE /v1/subscriptions/{subscription_exposed_id}",
    ),
)
