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
