"""Stripe objects tests create through the stand-in's API (with the real SDK)."""

from __future__ import annotations

import stripe

EVERY_FLOW_FEATURES = {
    "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "subscription_cancel": {"enabled": True},
    "subscription_update": {"enabled": True, "default_allowed_updates": ["price", "quantity"]},
}


def every_flow_configuration(client: stripe.StripeClient) -> str:
    """A portal configuration with every feature a deep link can need (Stripe refuses a flow
    whose feature is off); its id."""
    return client.v1.billing_portal.configurations.create(
        params={"features": EVERY_FLOW_FEATURES}
    ).id


def monthly_price(client: stripe.StripeClient, amount: int = 900) -> str:
    """A new monthly EUR price (with its product) in the stand-in; its id."""
    return client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    ).id


def subscribe(
    client: stripe.StripeClient, customer: str, price: str | None = None, quantity: int = 1
) -> dict:
    """A new active subscription of `customer` (to `price`, or a new monthly price)."""
    return client.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": price or monthly_price(client), "quantity": quantity}],
        }
    ).to_dict()
