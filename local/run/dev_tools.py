"""Development-only helpers of the local run with the Stripe stand-in: the stack's plans for the
example page's plan card (a name and an amount for each of the stack's price ids, read from the
stand-in, as `config.plans`).

A user without a plan starts one the way a deployed page does: "Choose a plan" lists the stack's
checkout catalog (`GET {functionUrl}/plans`) and Checkout happens on the stand-in's Checkout page.
The run adds no route of its own for it.
"""

from __future__ import annotations

from typing import Any

import stripe

Plans = dict[str, dict[str, Any]]


def catalog_plans(client: stripe.StripeClient, price_ids: list[str]) -> Plans:
    """{price id: {product, amount, currency, interval}} of the stack's declared prices, in
    declared order (the example page names a user's plan by its price id)."""
    plans: Plans = {}
    products: dict[str, str] = {}
    for price_id in price_ids:
        price = client.v1.prices.retrieve(price_id)
        product_id = str(price.product)
        if product_id not in products:
            products[product_id] = client.v1.products.retrieve(product_id).name
        recurring = price.recurring
        plans[price_id] = {
            "product": products[product_id],
            "amount": price.unit_amount,
            "currency": price.currency,
            "interval": recurring.interval if recurring else None,
        }
    return plans
