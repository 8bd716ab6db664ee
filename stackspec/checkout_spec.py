"""The checkout a stack declares, as review rows named by Stripe's Checkout Session parameters.

Pure, from the stack model: what `POST {functionUrl}/checkout` sells (`checkout.prices`, the
same refs `CHECKOUT_PRICES` is built from, the default resolved) and the parameters every
Checkout Session of the stack carries, under the names Stripe gives them in
`POST /v1/checkout/sessions` (`checkout.subscription_data.trial_period_days`, …), so `review
plan` and `diff` show a checkout change the way they show a portal change. These are the
function's settings (its `CHECKOUT_*` environment), not an object in Stripe: the drift check has
nothing live to compare them with.
"""

from __future__ import annotations

from typing import Any

from stackspec.checkout_settings import CheckoutSettings, checkout_price_refs
from stackspec.portal_settings import PortalSettings

ROWS = "checkout."  # prefix of the plan rows of the checkout
PRICES = ROWS + "prices"  # not a Stripe parameter: the prices a caller may name
# The Checkout Session parameters each row stands for (`POST /v1/checkout/sessions`).
PARAMETERS = (
    "subscription_data.trial_period_days",
    "allow_promotion_codes",
    "automatic_tax.enabled",
    "billing_address_collection",
    "consent_collection.terms_of_service",
)


def checkout_rows(checkout: CheckoutSettings, portal: PortalSettings) -> dict[str, Any]:
    """Plan rows of the checkout: `checkout.prices` (refs, in the order a page lists them; `[]`
    when Checkout sells nothing), then one row per Checkout Session parameter."""
    values: tuple[Any, ...] = (
        checkout.trial_days,
        checkout.allow_promotion_codes,
        checkout.automatic_tax,
        checkout.billing_address,
        "required" if checkout.terms_of_service_consent else "none",
    )
    rows: dict[str, Any] = {PRICES: list(checkout_price_refs(checkout, portal))}
    rows.update({ROWS + name: value for name, value in zip(PARAMETERS, values, strict=True)})
    return rows
