"""Products and prices: create, retrieve, list (with their usual filters); the objects Stripe
returns, and the rules it applies beyond the schema."""

from __future__ import annotations

import copy
import time
from typing import Any

from local.stripe.core.errors import StripeError
from local.stripe.core.listing import LIST_PARAMS, list_page, where_boolean
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, StripeApi, retrieve, route
from local.stripe.core.shapes import expand_paths
from local.stripe.core.store import ModeState


def new_product(product_id: str, params: dict[str, Any], *, livemode: bool, created: int) -> dict:
    """A product with every field Stripe returns, from validated create parameters."""
    return {
        "id": product_id,
        "object": "product",
        "active": params.get("active", True),
        "created": created,
        "default_price": None,
        "description": params.get("description"),
        "images": list(params.get("images") or []),
        "livemode": livemode,
        "marketing_features": copy.deepcopy(params.get("marketing_features") or []),
        "metadata": dict(params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": copy.deepcopy(params.get("package_dimensions")),
        "shippable": params.get("shippable"),
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": params.get("tax_code"),
        "type": params.get("type", "service"),
        "unit_label": params.get("unit_label"),
        "updated": created,
        "url": params.get("url"),
    }


def check_price(params: dict[str, Any]) -> None:
    """What Stripe refuses in a price beyond the parameter schema."""
    if "product" not in params and "product_data" not in params:
        raise StripeError(
            400, "Missing required param: product.", code="parameter_missing", param="product"
        )
    scheme = params.get("billing_scheme", "per_unit")
    amounts = ("unit_amount", "unit_amount_decimal", "custom_unit_amount")
    if scheme == "per_unit" and not any(name in params for name in amounts):
        raise StripeError(
            400,
            "Missing required param: unit_amount.",
            code="parameter_missing",
            param="unit_amount",
        )


def new_price(
    price_id: str, params: dict[str, Any], *, product: str, livemode: bool, created: int
) -> dict:
    """A price with every field Stripe returns, from validated create parameters."""
    recurring = params.get("recurring")
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": recurring.get("meter"),
            "trial_period_days": recurring.get("trial_period_days"),
            "usage_type": recurring.get("usage_type", "licensed"),
        }
    unit_amount = params.get("unit_amount")
    custom = params.get("custom_unit_amount")
    if custom is not None:  # Stripe answers the bounds and preset, not the `enabled` flag
        custom = {key: custom.get(key) for key in ("maximum", "minimum", "preset")}
    return {
        "id": price_id,
        "object": "price",
        "active": params.get("active", True),
        "billing_scheme": params.get("billing_scheme", "per_unit"),
        "created": created,
        "currency": params["currency"].lower(),
        "custom_unit_amount": custom,
        "livemode": livemode,
        "lookup_key": params.get("lookup_key"),
        "metadata": dict(params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": product,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior", "unspecified"),
        "tiers_mode": params.get("tiers_mode"),
        "transform_quantity": copy.deepcopy(params.get("transform_quantity")),
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": params.get(
            "unit_amount_decimal", None if unit_amount is None else str(unit_amount)
        ),
    }


def create_product(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/products``."""
    if "default_price_data" in params:
        raise StripeError(
            400,
            "The Stripe stand-in does not support default_price_data; create the price "
            "with POST /v1/prices.",
            param="default_price_data",
        )
    product_id = params.get("id") or new_id("prod")
    product = new_product(product_id, params, livemode=state.livemode, created=int(time.time()))
    state.products[product_id] = product
    return 200, product


def list_products(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/products`` with ``active`` and ``ids`` filters."""
    products = where_boolean(list(state.products.values()), params, "active")
    if "ids" in params:
        ids = _values(params["ids"])
        products = [product for product in products if product["id"] in ids]
    return 200, list_page("/v1/products", products, params)


def create_price(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/prices`` (for an existing product, or a new one from ``product_data``)."""
    check_price(params)
    now = int(time.time())
    if "product" in params:
        product_id = api.store.require(
            state, "products", params["product"], param="product", status=400
        )["id"]
    else:
        product_id = new_id("prod")
        state.products[product_id] = new_product(
            product_id, params["product_data"], livemode=state.livemode, created=now
        )
    price_id = new_id("price")
    price = new_price(price_id, params, product=product_id, livemode=state.livemode, created=now)
    state.prices[price_id] = price
    return 200, price


def list_prices(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/prices`` with ``active``, ``product``, ``currency`` and ``type`` filters."""
    prices = where_boolean(list(state.prices.values()), params, "active")
    for name in ("product", "currency", "type"):
        if name in params:
            prices = [price for price in prices if price[name] == params[name]]
    return 200, list_page("/v1/prices", prices, params)


def _values(value: Any) -> set[str]:
    # `ids[]=a&ids[]=b` decodes to a list, the SDK's `ids[0]=a` to a dict keyed by index.
    if isinstance(value, dict):
        return set(value.values())
    if isinstance(value, list):
        return set(value)
    return {value}


def retrieve_price(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/prices/{id}``, with its product as an object when ``expand[]=product``."""
    price = api.store.require(state, "prices", id, param="id", status=404)
    if "product" not in expand_paths(params):
        return 200, price
    product = state.products.get(price["product"])
    return 200, {**price, "product": product if product is not None else price["product"]}


ROUTES = (
    route("POST", "/v1/products", create_product, schema="POST /v1/products"),
    route(
        "GET",
        "/v1/products",
        list_products,
        query=frozenset(LIST_PARAMS | {"active", "ids", "created", "shippable", "url"}),
    ),
    route("GET", "/v1/products/{id}", retrieve("products")),
    route("POST", "/v1/prices", create_price, schema="POST /v1/prices"),
    route(
        "GET",
        "/v1/prices",
        list_prices,
        query=frozenset(
            LIST_PARAMS | {"active", "product", "currency", "type", "created", "lookup_keys"}
        ),
    ),
    route("GET", "/v1/prices/{id}", retrieve_price, expands=("product",)),
)
