"""Endpoints for products and prices: create, retrieve, list (with their usual filters)."""

from __future__ import annotations

import time
from typing import Any

from local.stripe import catalog, resources
from local.stripe.errors import StripeError
from local.stripe.listing import list_page, parse_boolean
from local.stripe.store import ModeState, Store

Payload = dict[str, Any]


class CatalogEndpoints:
    """Mixed into ``StripeApi``: ``store`` comes from it."""

    store: Store

    def create_product(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``POST /v1/products``."""
        if "default_price_data" in params:
            raise StripeError(
                400,
                "The Stripe stand-in does not support default_price_data; create the price "
                "with POST /v1/prices.",
                param="default_price_data",
            )
        product_id = params.get("id") or resources.new_id("prod")
        product = catalog.new_product(
            product_id, params, livemode=state.livemode, created=int(time.time())
        )
        state.products[product_id] = product
        return 200, product

    def retrieve_product(self, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        """``GET /v1/products/{id}``."""
        return 200, self.store.require(state, "products", id, param="id", status=404)

    def list_products(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``GET /v1/products`` with ``active`` and ``ids`` filters."""
        products = list(state.products.values())
        if "active" in params:
            wanted = parse_boolean(params["active"], "active")
            products = [product for product in products if product["active"] is wanted]
        if "ids" in params:
            ids = _values(params["ids"])
            products = [product for product in products if product["id"] in ids]
        return 200, list_page("/v1/products", products, params)

    def create_price(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``POST /v1/prices`` (for an existing product, or a new one from ``product_data``)."""
        catalog.check_price(params)
        now = int(time.time())
        if "product" in params:
            product_id = self.store.require(
                state, "products", params["product"], param="product", status=400
            )["id"]
        else:
            product_id = resources.new_id("prod")
            state.products[product_id] = catalog.new_product(
                product_id, params["product_data"], livemode=state.livemode, created=now
            )
        price_id = resources.new_id("price")
        price = catalog.new_price(
            price_id, params, product=product_id, livemode=state.livemode, created=now
        )
        state.prices[price_id] = price
        return 200, price

    def retrieve_price(self, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        """``GET /v1/prices/{id}``."""
        return 200, self.store.require(state, "prices", id, param="id", status=404)

    def list_prices(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``GET /v1/prices`` with ``active``, ``product``, ``currency`` and ``type`` filters."""
        prices = list(state.prices.values())
        if "active" in params:
            wanted = parse_boolean(params["active"], "active")
            prices = [price for price in prices if price["active"] is wanted]
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
