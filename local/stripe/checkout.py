"""Checkout Sessions in ``subscription`` mode: create, retrieve, list, expire, and completion.

Only what the function's ``POST /checkout`` and the local run need: a session for an existing
customer and recurring prices, with the settings a SaaS sets (trial days, promotion codes,
automatic tax, billing address, terms-of-service consent, locale). Anything else the schema
accepts is validated, then refused with a clear message rather than silently ignored.

A session's ``url`` is the stand-in's own page (``checkout_page``, ``/c/pay/<id>``, the path shape
of Stripe's ``checkout.stripe.com/c/pay/cs_…``): completing it there (``complete``) starts the
subscription through ``subscriptions.start_subscription`` — the ``customer.subscription.created``
event — marks the session ``complete`` and records ``checkout.session.completed``; expiring it
(Stripe's ``POST /v1/checkout/sessions/{id}/expire``, or its ``expires_at`` passing) records
``checkout.session.expired``.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from local.stripe import events
from local.stripe.core.errors import StripeError, check_url
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.store import ModeState, Store
from local.stripe.subscriptions import recurring_item, start_subscription

# A session is open for 24 hours unless `expires_at` says otherwise (Stripe's default).
DEFAULT_LIFETIME_SECONDS = 24 * 3600
# Stripe's bounds for `expires_at`: 30 minutes to 24 hours after creation.
MIN_LIFETIME_SECONDS = 30 * 60
# Create parameters the stand-in models; the rest of the schema's rows are validated, then refused.
_SUPPORTED = frozenset(
    {
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "cancel_url",
        "client_reference_id",
        "consent_collection",
        "customer",
        "customer_update",
        "expand",
        "expires_at",
        "line_items",
        "locale",
        "metadata",
        "mode",
        "subscription_data",
        "success_url",
        "ui_mode",
    }
)
_LINE_ITEM_SUPPORTED = frozenset({"price", "quantity"})
_SUBSCRIPTION_DATA_SUPPORTED = frozenset({"metadata", "trial_period_days"})
_CONSENT_SUPPORTED = frozenset({"terms_of_service"})
# The literal Stripe replaces with the session's id in `success_url`.
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"


def _refuse(params: Payload, supported: frozenset[str], prefix: str = "") -> None:
    unsupported = sorted(set(params) - supported)
    if unsupported:
        param = f"{prefix}[{unsupported[0]}]" if prefix else unsupported[0]
        raise StripeError(
            400,
            f"The Stripe stand-in does not support {param} on Checkout Sessions.",
            param=param,
        )


def _missing(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


# --- the object ----------------------------------------------------------------------------


def new_session(
    session_id: str,
    *,
    state: ModeState,
    customer: Payload,
    items: list[tuple[Payload, int, dict[str, str]]],
    params: Payload,
    url: str,
    created: int,
) -> Payload:
    """A ``checkout.session`` in ``subscription`` mode with every field of Stripe's published
    example, at their values for an open hosted session of an existing customer."""
    tax = (params.get("automatic_tax") or {}).get("enabled", False)
    consent = params.get("consent_collection") or {}
    subtotal = sum((price["unit_amount"] or 0) * quantity for price, quantity, _ in items)
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": params.get("allow_promotion_codes"),
        "amount_subtotal": subtotal,
        "amount_total": subtotal,
        "automatic_tax": {
            "enabled": tax,
            "liability": {"type": "self"} if tax else None,
            "provider": None,
            "status": "requires_location_inputs" if tax else None,
        },
        "billing_address_collection": params.get("billing_address_collection"),
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": {
            "payment_method_reuse_agreement": None,
            "promotions": consent.get("promotions"),
            "terms_of_service": consent.get("terms_of_service"),
        }
        if consent
        else None,
        "created": created,
        "currency": items[0][0]["currency"],
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer["id"],
        "customer_account": None,
        "customer_creation": None,
        "customer_details": {
            "address": copy.deepcopy(customer.get("address")),
            "business_name": None,
            "email": customer.get("email"),
            "individual_name": None,
            "name": customer.get("name"),
            "phone": customer.get("phone"),
            "tax_exempt": customer.get("tax_exempt") or "none",
            "tax_ids": [],
        },
        "customer_email": None,
        "discounts": [],
        "expires_at": params.get("expires_at") or created + DEFAULT_LIFETIME_SECONDS,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": state.livemode,
        "locale": params.get("locale"),
        "managed_payments": {"enabled": False},
        "metadata": dict(params.get("metadata") or {}),
        "mode": "subscription",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": {
            "allow_redisplay_filters": ["always"],
            "payment_method_remove": None,
            "payment_method_save": None,
        },
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": url,
        "wallet_options": None,
    }


# --- the API -------------------------------------------------------------------------------


def create_session(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/checkout/sessions``: a hosted session in ``subscription`` mode."""
    _refuse(params, _SUPPORTED)
    if "mode" not in params:
        raise _missing("mode")
    if params["mode"] != "subscription":
        raise StripeError(
            400,
            "The Stripe stand-in supports only mode=subscription Checkout Sessions.",
            param="mode",
        )
    if params.get("ui_mode", "hosted") != "hosted":
        raise StripeError(400, "The Stripe stand-in supports only ui_mode=hosted.", param="ui_mode")
    if "customer" not in params:
        raise StripeError(
            400,
            "The Stripe stand-in creates Checkout Sessions for an existing customer only; "
            "pass customer.",
            param="customer",
        )
    customer = api.store.require(
        state, "customers", params["customer"], param="customer", status=400
    )
    items = _line_items(api.store, state, params.get("line_items"))
    if "success_url" not in params:
        raise _missing("success_url")
    check_url(params["success_url"], "success_url")
    if "cancel_url" in params:
        check_url(params["cancel_url"], "cancel_url")
    _check_subscription_data(params.get("subscription_data") or {})
    _refuse(params.get("consent_collection") or {}, _CONSENT_SUPPORTED, "consent_collection")
    _check_automatic_tax(params, customer)
    created = int(time.time())
    _check_expires_at(params.get("expires_at"), created)
    session_id = new_id("cs_live" if state.livemode else "cs_test")
    session = new_session(
        session_id,
        state=state,
        customer=customer,
        items=items,
        params=params,
        url=f"{api.base_url()}/c/pay/{session_id}",
        created=created,
    )
    state.checkout_sessions[session_id] = session
    state.checkout_private[session_id] = _private(params, items)
    return 200, session


def _private(params: Payload, items: list[tuple[Payload, int, dict[str, str]]]) -> Payload:
    """What completing the session needs and Stripe does not show on the object: its line items
    and ``subscription_data``."""
    data = params.get("subscription_data") or {}
    return {
        "items": [(price["id"], quantity) for price, quantity, _ in items],
        "subscription_metadata": dict(data.get("metadata") or {}),
        "trial_period_days": int(data.get("trial_period_days") or 0),
    }


def _line_items(
    store: Store, state: ModeState, raw: Any
) -> list[tuple[Payload, int, dict[str, str]]]:
    if not raw:
        raise StripeError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param="line_items",
        )
    items = []
    for index, item in enumerate(raw):
        prefix = f"line_items[{index}]"
        _refuse(item, _LINE_ITEM_SUPPORTED, prefix)
        if "quantity" not in item:
            raise StripeError(
                400,
                f"Quantity is required. Add `quantity` to `{prefix}`.",
                param=f"{prefix}[quantity]",
            )
        price, quantity, _ = recurring_item(state, item, prefix, store)
        if not price["active"]:
            raise StripeError(
                400,
                f"The price specified ({price['id']}) is inactive. This field only accepts "
                "active prices.",
                param=f"{prefix}[price]",
            )
        if quantity < 1:
            raise StripeError(
                400,
                "This value must be greater than or equal to 1.",
                param=f"{prefix}[quantity]",
            )
        items.append((price, quantity, {}))
    currencies = {price["currency"] for price, _, _ in items}
    if len(currencies) > 1:
        raise StripeError(400, "All prices must be in the same currency.", param="line_items")
    return items


def _check_subscription_data(data: Payload) -> None:
    _refuse(data, _SUBSCRIPTION_DATA_SUPPORTED, "subscription_data")
    days = data.get("trial_period_days")
    if days is not None and not 1 <= days <= 730:
        raise StripeError(
            400,
            "The trial period must be between 1 and 730 days.",
            param="subscription_data[trial_period_days]",
        )


def _check_automatic_tax(params: Payload, customer: Payload) -> None:
    """Stripe computes tax from the customer's address: an existing customer without one must
    let Checkout save the address it collects (``customer_update[address]=auto``)."""
    if not (params.get("automatic_tax") or {}).get("enabled"):
        return
    update = params.get("customer_update") or {}
    if customer.get("address") or "auto" in (update.get("address"), update.get("shipping")):
        return
    raise StripeError(
        400,
        "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a "
        "valid address to the Customer or set either `customer_update[address]` to 'auto' or "
        "`customer_update[shipping]` to 'auto' to save the address entered in Checkout to the "
        "Customer.",
        param="customer_update",
    )


def _check_expires_at(expires_at: Any, created: int) -> None:
    if expires_at is None:
        return
    if not created + MIN_LIFETIME_SECONDS <= expires_at <= created + DEFAULT_LIFETIME_SECONDS:
        raise StripeError(
            400,
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from the "
            "Checkout Session's creation.",
            param="expires_at",
        )


def find(store: Store, state: ModeState, session_id: str) -> Payload:
    """The session, or Stripe's 404; a session whose ``expires_at`` has passed is expired first
    (its event recorded)."""
    session = store.require(state, "checkout_sessions", session_id, param="id", status=404)
    expire_if_due(store, state, session)
    return session


def expire_if_due(store: Store, state: ModeState, session: Payload) -> None:
    """Expire an open session whose ``expires_at`` has passed (Stripe does it on its own)."""
    if session["status"] == "open" and session["expires_at"] <= time.time():
        _expire(store, state, session)


def _expire(store: Store, state: ModeState, session: Payload) -> None:
    session.update(status="expired", url=None)
    events.record(store, state, "checkout.session.expired", session)


def retrieve_session(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/checkout/sessions/{id}``."""
    return 200, find(api.store, state, id)


def list_sessions(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/checkout/sessions`` with the ``customer``, ``status`` and ``subscription``
    filters, newest first."""
    sessions = []
    for session in state.checkout_sessions.values():
        expire_if_due(api.store, state, session)
        sessions.append(session)
    for name in ("customer", "status", "subscription"):
        if name in params:
            sessions = [s for s in sessions if s[name] == params[name]]
    return 200, list_page("/v1/checkout/sessions", sessions, params)


def expire_session(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/checkout/sessions/{id}/expire``: only an open session can be expired."""
    session = find(api.store, state, id)
    if session["status"] != "open":
        raise StripeError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    _expire(api.store, state, session)
    return 200, session


def complete(store: Store, state: ModeState, session_id: str) -> Payload:
    """What paying on Stripe's Checkout page does: the subscription starts (its
    ``customer.subscription.created`` event), the session becomes ``complete`` with it, and
    ``checkout.session.completed`` is recorded. ``StripeError`` unless the session is open."""
    session = find(store, state, session_id)
    if session["status"] != "open":
        raise StripeError(400, f"This Checkout Session is {session['status']}.")
    private = state.checkout_private[session_id]
    customer = state.customers.get(session["customer"])
    if customer is None:
        raise StripeError(400, "The session's customer was deleted.", param="customer")
    items = [(state.prices[price_id], quantity, {}) for price_id, quantity in private["items"]]
    trial_days = private["trial_period_days"]
    subscription = start_subscription(
        store,
        state,
        customer["id"],
        items,
        dict(private["subscription_metadata"]),
        trial_days=trial_days,
    )
    terms = (session["consent_collection"] or {}).get("terms_of_service")
    session.update(
        status="complete",
        subscription=subscription["id"],
        payment_status="no_payment_required" if trial_days else "paid",
        url=None,
        consent={"promotions": None, "terms_of_service": "accepted"}
        if terms == "required"
        else None,
    )
    events.record(store, state, "checkout.session.completed", session)
    return session


def success_url(session: Payload) -> str:
    """Where Stripe sends the customer after paying: ``success_url`` with the session's id in
    place of ``{CHECKOUT_SESSION_ID}``."""
    return str(session["success_url"]).replace(SESSION_ID_TEMPLATE, session["id"])


def find_any_mode(store: Store, session_id: str) -> tuple[ModeState, Payload] | None:
    """The mode and session of ``session_id`` (the page has no API key: either mode), expired
    first if due."""
    for state in store.modes.values():
        if session_id in state.checkout_sessions:
            return state, find(store, state, session_id)
    return None


ROUTES = (
    route(
        "POST",
        "/v1/checkout/sessions",
        create_session,
        schema="POST /v1/checkout/sessions",
    ),
    route(
        "GET",
        "/v1/checkout/sessions",
        list_sessions,
        query=frozenset(LIST_PARAMS | {"customer", "status", "subscription"}),
    ),
    route("GET", "/v1/checkout/sessions/{id}", retrieve_session),
    route(
        "POST",
        "/v1/checkout/sessions/{id}/expire",
        expire_session,
        schema="POST /v1/checkout/sessions/{session}/expire",
    ),
)
