"""The stack's portal in the Stripe stand-in: what `pulumi up` would create, so that the local run
shows the dev stack's own portal (its headline, features, plan-switching catalog) and not the
stand-in's built-in default.

The parameters come from the stack model the Pulumi program and the drift check use
(`stackspec`): `portal_spec` for the configuration (the fields pulumi-stripe cannot set
included), `product_params`/`price_params` for the declared catalog. The function then gets the
configuration's id, what it sells (its plan-switching prices, by the stand-in's ids), what its
Checkout sells (the stack's checkout prices, by the same ids) with the stack's checkout settings,
and the stack's other portal settings (pause deep link, retention coupons) through the function's
own environment contract, as a deployed stack's function does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import stripe

from local.process import REPO_ROOT
from local.run.options import RunError
from local.run.stack_features import create_stack_features
from stackspec.declared import (
    declared_price_ref,
    declared_product_ref,
    price_params,
    product_params,
    substitute,
)
from stackspec.function_contract import checkout_prices, function_environment, function_settings
from stackspec.portal_fields import READ_EXPAND
from stackspec.portal_spec import portal_spec
from stackspec.settings import Settings, SettingsError
from stackspec.stackfiles import StackFileError, StackNotFound, read_settings, stack_file

# What the local function takes from the stack's environment: its portal and its checkout, not
# its deployment (origins, issuer, project and database stay the local run's own).
PORTAL_VARIABLES = (
    "PORTAL_CONFIGURATION_ID",
    "PORTAL_SUBSCRIPTION_PAUSE",
    "PORTAL_PRICES",
    "RETENTION_COUPONS",
    "CHECKOUT_PRICES",
    "CHECKOUT_TRIAL_DAYS",
    "CHECKOUT_ALLOW_PROMOTION_CODES",
    "CHECKOUT_AUTOMATIC_TAX",
    "CHECKOUT_BILLING_ADDRESS",
    "CHECKOUT_TERMS_CONSENT",
)


class StackPortal(NamedTuple):
    """The stack's portal as created in the stand-in."""

    configuration_id: str
    prices: list[str]  # the declared prices' ids, those of the plan-switching list first
    portal_prices: str  # the function's PORTAL_PRICES: what this configuration sells
    checkout_prices: str = ""  # its CHECKOUT_PRICES: what the stack's Checkout sells


def stack_settings(stack: str) -> Settings:
    """The stack file's settings (secrets need not be set); `RunError` in one line otherwise."""
    try:
        return read_settings(stack_file(REPO_ROOT, stack))
    except (StackNotFound, StackFileError) as error:
        raise RunError(f"--stack {stack}: {error}", 2) from None
    except SettingsError as error:
        problems = "; ".join(str(problem) for problem in error.problems)
        raise RunError(f"--stack {stack}: Pulumi.{stack}.yaml: {problems}", 2) from None


def branding_colours(settings: Settings) -> dict[str, str]:
    """The stack's branding colours as the account's `settings.branding` fields (the stand-in's
    portal page takes them, as Stripe's does once they are set in the Dashboard)."""
    colours = {
        "primary_color": settings.branding.primary_color,
        "secondary_color": settings.branding.secondary_color,
    }
    return {name: value for name, value in colours.items() if value}


def create_declared_catalog(client: stripe.StripeClient, settings: Settings) -> dict[str, str]:
    """The stack's declared products and prices, as `pulumi up` creates them: {ref: id}."""
    ids: dict[str, str] = {}
    for product in settings.products:
        product_id = client.v1.products.create(params=product_params(settings.stack, product)).id
        ids[declared_product_ref(product.key)] = product_id
        for price in product.prices:
            params = {"product": product_id, **price_params(settings.stack, product.key, price)}
            ids[declared_price_ref(product.key, price.key)] = client.v1.prices.create(
                params=params
            ).id
    return ids


def create_stack_portal(client: stripe.StripeClient, settings: Settings) -> StackPortal:
    """The stack's portal configuration (and its catalog) in the stand-in: the configuration id,
    the declared prices' ids (those of the plan-switching list first, in its order), what the
    configuration sells, by the stand-in's ids, as `PORTAL_PRICES`, and what the stack's Checkout
    sells, by the same ids, as `CHECKOUT_PRICES`."""
    ids = create_declared_catalog(client, settings)
    params: dict[str, Any] = substitute(portal_spec(settings), ids)
    update = (params.get("features") or {}).get("subscription_update") or {}
    standing_in = _stand_in_for_existing(client, update)
    switchable = [price for item in update.get("products") or [] for price in item["prices"]]
    declared = [
        ids[declared_price_ref(product.key, price.key)]
        for product in settings.products
        for price in product.prices
    ]
    prices = list(dict.fromkeys([*switchable, *declared]))
    configuration = client.v1.billing_portal.configurations.create(params=params).id
    create_stack_features(client, settings, ids)  # entitlements, as `pulumi up` attaches them
    sold = function_settings.portal_prices_value(update.get("products") or [])
    return StackPortal(configuration, prices, sold, checkout_prices(settings, ids | standing_in))


def account_portal_prices(client: stripe.StripeClient, configuration_id: str | None) -> str:
    """`PORTAL_PRICES` of a configuration of a real Stripe account (the account's default one
    when no id is given): what its plan switching sells, as the deployed configuration says."""
    # Stripe leaves the products out unless the read expands them (READ_EXPAND).
    if configuration_id:
        configuration = client.v1.billing_portal.configurations.retrieve(
            configuration_id, params={"expand": list(READ_EXPAND)}
        )
    else:
        found = client.v1.billing_portal.configurations.list(
            params={"is_default": True, "expand": [f"data.{path}" for path in READ_EXPAND]}
        ).data
        if not found:
            return ""
        configuration = found[0]
    update = configuration.to_dict().get("features", {}).get("subscription_update") or {}
    return function_settings.portal_prices_value(update.get("products") or [])


def _stand_in_for_existing(client: stripe.StripeClient, update: dict[str, Any]) -> dict[str, str]:
    """Products and prices a stack names by id (`prod_…`, `price_…`: prod's live catalog) exist
    in its Stripe account, not in the stand-in: give the stand-in a product of that id and, for
    each price, a placeholder monthly price, and point the plan-switching list at them (Stripe
    lets no one choose a price's id). The portal keeps the stack's shape; amounts are invented.
    Returns {the stack's price id: the placeholder's id}."""
    standing_in: dict[str, str] = {}
    for item in update.get("products") or []:
        product = item["product"]
        try:
            client.v1.products.retrieve(product)
        except stripe.InvalidRequestError:
            client.v1.products.create(params={"id": product, "name": f"{product} (stand-in)"})
        placeholders = []
        for index, price in enumerate(item["prices"]):
            try:
                placeholders.append(client.v1.prices.retrieve(price).id)
            except stripe.InvalidRequestError:
                created = client.v1.prices.create(
                    params={
                        "product": product,
                        "currency": "usd",
                        "unit_amount": 1000 * (index + 1),
                        "recurring": {"interval": "month"},
                        "nickname": f"stands in for {price}",
                    }
                )
                placeholders.append(created.id)
            standing_in[price] = placeholders[-1]
        item["prices"] = placeholders
    return standing_in


def portal_environment(
    settings: Settings, configuration_id: str | None, portal_prices: str, checkout_prices: str = ""
) -> dict[str, str]:
    """The stack's portal and checkout variables of the function's environment, built by the
    contract.

    `PORTAL_PRICES` and `CHECKOUT_PRICES` are always among them (empty when nothing is sold; an
    empty `CHECKOUT_PRICES` sells what `PORTAL_PRICES` does), so that a value inherited from the
    shell never stands in for what this run sells.
    """
    env = function_environment(settings, configuration_id, portal_prices, checkout_prices)
    portal = {name: str(env[name]) for name in PORTAL_VARIABLES if env.get(name) is not None}
    return {"PORTAL_PRICES": "", "CHECKOUT_PRICES": "", **portal}
