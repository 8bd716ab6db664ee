"""Request body → validated portal request. Pure functions, no I/O.

The accepted shape mirrors Stripe's `POST /v1/billing_portal/sessions` parameters (locale list and
flow types from the Stripe API schema, checked against the repo's copy by a test), so a bad request
is refused here with a clear 400 instead of travelling to Stripe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import BadRequest, InvalidQuantity, PayloadTooLarge, UnsupportedMediaType
from .jsonscan import json_too_deep
from .settings import is_secure_web_url, web_origin

if TYPE_CHECKING:  # for the checker only (stripe_api.py says why)
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowData as FlowData,
    )
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowDataSubscriptionCancel as CancelFlow,
    )
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowDataSubscriptionUpdateConfirmItem as ConfirmItem,
    )

MAX_BODY_BYTES = 16 * 1024

LOCALES = frozenset(
    "auto bg cs da de el en en-AU en-CA en-GB en-IE en-IN en-NZ en-SG es es-419 et fi fil fr "
    "fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK "
    "zh-TW".split()
)
# Deep links this endpoint offers: Stripe's flow types. `subscription_pause` is accepted only
# when the stack's configuration enables pausing (`Settings.subscription_pause`, sessions.py).
FLOW_TYPES = (
    "customer_update",
    "payment_method_update",
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)
_ID = re.compile(r"[A-Za-z0-9_]{1,255}")  # used with fullmatch: `$` would allow a final \n
_BODY_KEYS = frozenset({"return_url", "locale", "flow"})
_CHECKOUT_KEYS = frozenset({"price", "quantity", "return_url", "locale"})
# Stripe's Checkout Session ids: `cs_test_…` / `cs_live_…` and letters and digits (with fullmatch).
_CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,252}", re.ASCII)
# Checkout's locales (Stripe's `checkout.SessionCreateParams.locale`; a test holds it to the
# schema's row): not quite the portal's list.
CHECKOUT_LOCALES = frozenset(
    "auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hi-IN hr hu id it ja ko lt lv ms "
    "mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW".split()
)
_MAX_ITEMS = 20
# The deepest valid body is {"flow": {"items": [{...}]}}: 4 levels. Anything much deeper is refused
# before `json.loads`, whose recursion a 16 KiB body of "[" would otherwise exhaust (a 500), by a
# scan linear in the body's size (jsonscan.py).
MAX_JSON_DEPTH = 8


@dataclass(frozen=True)
class PortalRequest:
    """What the caller asked for, validated."""

    return_url: str | None = None
    locale: str | None = None
    flow: FlowData | None = None  # Stripe's `flow_data` parameter


def parse_body(content_type: str | None, body: bytes) -> PortalRequest:
    """Parse and validate an (optional) JSON body into a `PortalRequest`."""
    data = _json_object(content_type, body)
    if data is None:
        return PortalRequest()
    unknown = sorted(set(data) - _BODY_KEYS)
    if unknown:
        raise BadRequest(
            f"Unknown field {unknown[0]!r}; accepted fields are flow, locale and return_url.",
            code="unknown_field",
        )
    return PortalRequest(
        return_url=_optional_str(data, "return_url"),
        locale=_locale(data.get("locale")),
        flow=_flow(data.get("flow")),
    )


@dataclass(frozen=True)
class CheckoutRequest:
    """What a `POST /checkout` caller asked for, validated (the catalog is checked later)."""

    price: str
    quantity: int | None = None  # None: the price's smallest quantity
    return_url: str | None = None
    locale: str | None = None


def parse_checkout_body(content_type: str | None, body: bytes) -> CheckoutRequest:
    """Parse and validate a `POST /checkout` JSON body: `{"price", "quantity"?, "return_url"?,
    "locale"?}`. Pure; whether the price and quantity are on sale is `checkout.check_item`'s."""
    data = _json_object(content_type, body)
    if data is None:
        raise BadRequest('Send a JSON body naming the price to buy: {"price": "price_…"}.')
    unknown = sorted(set(data) - _CHECKOUT_KEYS)
    if unknown:
        raise BadRequest(
            f"Unknown field {unknown[0]!r}; accepted fields are price, quantity, return_url and "
            "locale.",
            code="unknown_field",
        )
    price = data.get("price")
    if not isinstance(price, str) or not _ID.fullmatch(price):
        raise BadRequest("price must be a Stripe price id such as price_123.")
    quantity = data.get("quantity")
    if quantity is not None and (
        isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1
    ):
        raise InvalidQuantity("quantity must be a whole number of at least 1.")
    locale = data.get("locale")
    if locale is not None and (not isinstance(locale, str) or locale not in CHECKOUT_LOCALES):
        raise BadRequest(
            "locale must be one of Stripe Checkout's locales (auto, en, de, fr-CA, …).",
            code="invalid_locale",
        )
    return CheckoutRequest(
        price=price,
        quantity=quantity,
        return_url=_optional_str(data, "return_url"),
        locale=locale,
    )


def checkout_session_id(value: str) -> str:
    """A `checkout_session` query value, if shaped as a Checkout Session id (`cs_…`); else
    `400 invalid_checkout_session` (nothing is looked up for it). Pure."""
    if not _CHECKOUT_SESSION_ID.fullmatch(value):
        raise BadRequest(
            "checkout_session must be a Checkout Session id (cs_…), as Stripe put it in the "
            "return URL.",
            code="invalid_checkout_session",
        )
    return value


def _json_object(content_type: str | None, body: bytes) -> dict[str, Any] | None:
    """The body's JSON object, None for an empty body; the errors every route shares."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    if not body.strip():
        return None
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json (or send no body).")
    # JSON between systems is UTF-8 (RFC 8259). `json.loads(bytes)` would also guess UTF-16 and
    # UTF-32, which the depth scan below cannot read: decode strictly first, scan and parse the
    # same text.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 JSON.", code="invalid_json") from None
    if json_too_deep(text, MAX_JSON_DEPTH):
        raise BadRequest(
            f"The body nests JSON deeper than {MAX_JSON_DEPTH} levels.", code="invalid_json"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a backstop behind the depth scan
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


def check_return_url(url: str, allowed_origins: frozenset[str]) -> str:
    """Accept `url` only if plain, https (http for localhost) and on an allowed origin.

    "Plain" (`settings.parse_web_url`) means a browser reads the same origin from it as this
    function does: no backslash, whitespace, control or non-ASCII character, no userinfo.
    """
    if not is_secure_web_url(url) or web_origin(url) not in allowed_origins:
        raise BadRequest(
            "return_url must be a plain absolute URL (https, or http on localhost) on one of "
            f"the allowed origins: {', '.join(sorted(allowed_origins))}.",
            code="return_url_not_allowed",
        )
    return url


def _optional_str(data: Mapping[str, Any], name: str, max_len: int = 2048) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadRequest(f"{name} must be a non-empty string of at most {max_len} characters.")
    return value


def _id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadRequest(f"{field} must be a Stripe id such as sub_123.", code="invalid_flow")
    return value


def _locale(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in LOCALES:
        raise BadRequest(
            "locale must be one of Stripe's portal locales (auto, en, de, fr-CA, …).",
            code="invalid_locale",
        )
    return value


def _object(value: Any, field: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be an object.", code="invalid_flow")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise BadRequest(f"{field}.{unknown[0]} is not accepted.", code="invalid_flow")
    return value


def _flow(value: Any) -> FlowData | None:
    """Validate a deep link; returns Stripe's `flow_data` parameter for the session."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"type": value}
    flow = _object(value, "flow", frozenset({"type", "subscription", "coupon", "items"}))
    kind = flow.get("type")
    if kind not in FLOW_TYPES:
        raise BadRequest(f"flow.type must be one of {', '.join(FLOW_TYPES)}.", code="invalid_flow")
    needs = {
        "customer_update": set(),
        "payment_method_update": set(),
        "subscription_cancel": {"subscription"},
        "subscription_pause": {"subscription"},
        "subscription_update": {"subscription"},
        "subscription_update_confirm": {"subscription", "items"},
    }[kind]
    allowed = needs | {"type"} | ({"coupon"} if kind == "subscription_cancel" else set())
    extra = sorted(set(flow) - allowed)
    if extra:
        raise BadRequest(f"flow.{extra[0]} is not accepted for {kind}.", code="invalid_flow")
    missing = sorted(needs - set(flow))
    if missing:
        raise BadRequest(f"flow.{missing[0]} is required for {kind}.", code="invalid_flow")

    if kind in ("customer_update", "payment_method_update"):
        return {"type": kind}
    subscription = _id(flow["subscription"], "flow.subscription")
    if kind == "subscription_cancel":
        cancel: CancelFlow = {"subscription": subscription}
        if "coupon" in flow:
            coupon = _id(flow["coupon"], "flow.coupon")
            cancel["retention"] = {"type": "coupon_offer", "coupon_offer": {"coupon": coupon}}
        return {"type": kind, "subscription_cancel": cancel}
    if kind == "subscription_pause":
        return {"type": kind, "subscription_pause": {"subscription": subscription}}
    if kind == "subscription_update":
        return {"type": kind, "subscription_update": {"subscription": subscription}}
    items = _items(flow["items"])
    return {
        "type": kind,
        "subscription_update_confirm": {"subscription": subscription, "items": items},
    }


def _items(value: Any) -> list[ConfirmItem]:
    if not isinstance(value, list) or not 1 <= len(value) <= _MAX_ITEMS:
        raise BadRequest(
            f"flow.items must be a list of 1 to {_MAX_ITEMS} subscription items.",
            code="invalid_flow",
        )
    items = []
    for index, raw in enumerate(value):
        field = f"flow.items[{index}]"
        entry = _object(raw, field, frozenset({"id", "price", "quantity"}))
        if "id" not in entry:
            raise BadRequest(f"{field}.id is required.", code="invalid_flow")
        item: ConfirmItem = {"id": _id(entry["id"], f"{field}.id")}
        if "price" in entry:
            item["price"] = _id(entry["price"], f"{field}.price")
        if "quantity" in entry:
            quantity = entry["quantity"]
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise BadRequest(
                    f"{field}.quantity must be a non-negative integer.", code="invalid_flow"
                )
            item["quantity"] = quantity
        items.append(item)
    return items
