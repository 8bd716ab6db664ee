"""The function's environment contract, as the function itself defines it, for the stack model.

The function's settings module (`function/billing_portal/settings.py`) owns the contract: which
variables exist and what a valid value is. The stack model does not restate it: it loads that
module (the function package imports nothing outside `function/`, and that module only the
standard library), builds the deployed environment with its `build_environment`, and runs its
`load_settings` on that environment while reading the stack, so a stack that previews is a stack
whose function starts. A refusal is reported against the stack key that produced the variable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "function"
if str(FUNCTION_DIR) not in sys.path:
    # The Pulumi program and the review tools run with the repository root on the path, the
    # tests with function/ too; the function's package is importable in all three this way.
    sys.path.append(str(FUNCTION_DIR))

from billing_portal import settings as function_settings  # noqa: E402
from stackspec.declared import declared_refs, substitute  # noqa: E402
from stackspec.portal_fields import SUBSCRIPTION_PAUSE, declared_fields  # noqa: E402

if TYPE_CHECKING:
    from stackspec.settings import Settings

__all__ = [
    "ENV_TO_STACK_KEY",
    "PLACEHOLDER_CONFIGURATION_ID",
    "PLACEHOLDER_WEBHOOK_SECRET",
    "check_environment",
    "checkout_prices",
    "function_environment",
    "function_settings",
    "placeholder_key",
    "placeholder_product_ids",
    "portal_prices",
    "preview_problem",
    "webhook_environment",
]

# Which stack key each deployed variable comes from (keys relative to the project namespace,
# except gcp:project), so a refusal names what to change.
ENV_TO_STACK_KEY = {
    "STRIPE_SECRET_KEY": "stripeSecretKey",
    "PORTAL_CONFIGURATION_ID": "portal",
    "PORTAL_SUBSCRIPTION_PAUSE": "portal.features.subscriptionPause",
    "PORTAL_PRICES": "portal.features.subscriptionUpdate.products",
    "DEFAULT_RETURN_URL": "defaultReturnUrl",
    "ALLOWED_RETURN_ORIGINS": "allowedReturnOrigins",
    "ALLOWED_ORIGINS": "allowedOrigins",
    "AUTH_ISSUER": "auth.issuer",
    "AUTH_AUDIENCE": "auth.audience",
    "AUTH_JWKS_URL": "auth.jwksUrl",
    "CUSTOMERS_COLLECTION": "customersCollection",
    "FIRESTORE_DATABASE": "firestore.database",
    "GOOGLE_CLOUD_PROJECT": "gcp:project",
    "RETENTION_COUPONS": "retentionCoupons",
    "CHECKOUT_PRICES": "checkout.prices",
    "CHECKOUT_TRIAL_DAYS": "checkout.trialDays",
    "CHECKOUT_ALLOW_PROMOTION_CODES": "checkout.allowPromotionCodes",
    "CHECKOUT_AUTOMATIC_TAX": "checkout.automaticTax",
    "CHECKOUT_BILLING_ADDRESS": "checkout.billingAddress",
    "CHECKOUT_TERMS_CONSENT": "checkout.termsOfServiceConsent",
}
# Valid stand-ins for what preview cannot know: the portal configuration id is an Output, and
# the key itself never goes into a check's message.
PLACEHOLDER_CONFIGURATION_ID = "bpc_PreviewPlaceholder"
# The webhook's signing secret exists only once Stripe has created the endpoint.
PLACEHOLDER_WEBHOOK_SECRET = "whsec_PreviewPlaceholder0"  # noqa: S105 - not a secret


def placeholder_key(live: bool) -> str:
    """A well-formed Stripe key of the stack's mode, for checking the environment at preview."""
    return ("rk_live_" if live else "rk_test_") + "PreviewPlaceholder0"


def placeholder_product_ids(settings: Settings) -> dict[str, str]:
    """Well-formed ids for the products and prices a stack declares (Pulumi creates them, so
    preview cannot know them): {`declared:` ref: placeholder id}; those its portal and its
    checkout name."""
    from stackspec.checkout_settings import checkout_catalog
    from stackspec.portal_spec import portal_spec

    named = [portal_spec(settings), checkout_catalog(settings.checkout, settings.portal)]
    refs = declared_refs(named)
    return {ref: f"price_PreviewPlaceholder{index}" for index, ref in enumerate(refs)}


def portal_prices(settings: Settings, product_ids: Mapping[str, str]) -> str:
    """The stack's `PORTAL_PRICES` value: every price of its portal's plan-switching products,
    with its product's adjustable quantity, encoded by the function's own contract.

    `product_ids` gives the ids of the products and prices the stack declares
    ({`declared:` ref: id}: Pulumi's outputs, or what the local run created); prices the stack
    names by id (`price_…`) are taken as they are.
    """
    from stackspec.portal_spec import portal_spec

    spec = substitute(portal_spec(settings), product_ids)
    products = (spec["features"].get("subscription_update") or {}).get("products") or []
    return function_settings.portal_prices_value(products)


# Variables for the local loop only, which a deployed function must never get, whatever the
# function itself would accept: the emulators' (FIREBASE_AUTH_EMULATOR_HOST turns on emulator
# mode, where token signatures are not checked). No stack key produces them today; this keeps a
# future one from letting them through.
LOCAL_ONLY_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def checkout_prices(settings: Settings, product_ids: Mapping[str, str]) -> str:
    """The stack's `CHECKOUT_PRICES` value: the prices `billing-portal:checkout.prices` lists
    (default: every price of the portal's plan-switching products), in that order, each with its
    product's adjustable quantity, encoded by the function's own contract (`PORTAL_PRICES`'
    grammar). Ids as for `portal_prices`: `product_ids` gives the declared ones, `price_…` ids
    are taken as they are.
    """
    from stackspec.checkout_settings import checkout_catalog  # here: it imports the URL rules

    catalog = substitute(checkout_catalog(settings.checkout, settings.portal), product_ids)
    return function_settings.portal_prices_value(catalog)


def check_environment(env: dict[str, Any]) -> tuple[str, str] | None:
    """Refuse a local-only variable, then run the function's `load_settings` on `env`: None, or
    (stack key, the message)."""
    for name in LOCAL_ONLY_VARIABLES:
        if name in env:
            return "(function environment)", (
                f"{name} is for the local emulators only and a deployed function must never "
                f"get it; remove it from the function's environment (docs/local.md)."
            )
    try:
        function_settings.load_settings(env)
    except function_settings.SettingsError as error:
        return ENV_TO_STACK_KEY.get(error.variable or "", "(function environment)"), str(error)
    return None


def function_environment(
    settings: Settings,
    configuration_id: Any,
    portal_prices: Any,
    checkout_prices: Any = None,
) -> dict[str, Any]:
    """The function's plain env vars for a stack, built by the contract; the key is not among them.

    `configuration_id` is the portal configuration's id, `portal_prices` the stack's
    `PORTAL_PRICES` value (`portal_prices(settings, ids)`) and `checkout_prices` its
    `CHECKOUT_PRICES` value (`checkout_prices(settings, ids)`): Pulumi Outputs when deploying,
    since they name what Pulumi creates. No checkout prices (None or empty) leaves
    `CHECKOUT_PRICES` unset: the function then sells at checkout what `PORTAL_PRICES` holds.
    """
    from stackspec.portal_spec import portal_spec  # here: portal_spec → settings → this module

    pause = declared_fields(portal_spec(settings))[SUBSCRIPTION_PAUSE]["enabled"]
    checkout = settings.checkout
    return function_settings.build_environment(
        portal_configuration_id=configuration_id,
        # as `PortalFields` applies it: the same mapping decides
        portal_subscription_pause="true" if pause else "false",
        portal_prices=portal_prices or None,
        default_return_url=settings.default_return_url,
        allowed_return_origins=settings.allowed_return_origins,
        allowed_origins=settings.allowed_origins,
        auth_issuer=settings.auth.issuer,
        auth_audience=settings.auth.audience,
        auth_jwks_url=settings.auth.jwks_url,
        customers_collection=settings.customers_collection,
        firestore_database=settings.firestore.database,
        google_cloud_project=settings.gcp_project,
        retention_coupons=settings.retention_coupons or None,
        checkout_prices=checkout_prices or None,
        checkout_trial_days=checkout.trial_days,
        checkout_allow_promotion_codes=_flag(checkout.allow_promotion_codes),
        checkout_automatic_tax=_flag(checkout.automatic_tax),
        checkout_billing_address=checkout.billing_address,
        checkout_terms_consent=_flag(checkout.terms_of_service_consent),
    )


def _flag(value: bool) -> str:
    return "true" if value else "false"


def webhook_environment(
    settings: Settings,
    configuration_id: Any,
    portal_prices: Any,
    checkout_prices: Any = None,
) -> dict[str, Any]:
    """The webhook function's plain env vars: the session function's, built by the same contract.

    One source archive, one `load_settings` for both entry points: it requires what the session
    function needs (`DEFAULT_RETURN_URL`, …), so the webhook gets the same plain variables, and a
    stack that previews starts both. Its secrets (`STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`)
    are mounted from Secret Manager, never among these.
    """
    return function_environment(settings, configuration_id, portal_prices, checkout_prices)


def preview_problem(settings: Settings) -> tuple[str, str] | None:
    """What either function would refuse in the environment this stack deploys, if anything.

    Exactly those environments, with valid placeholders for what preview cannot know: the secret
    key (of the stack's mode), the portal configuration id, the ids of the products and prices
    the stack declares and the webhook's signing secret; and `FUNCTION_TARGET`, the entry point,
    as the Functions Framework is started with it.
    """
    key = settings.stripe_secret_key
    live = key.live if key is not None and key.value else settings.production
    ids = placeholder_product_ids(settings)
    prices = portal_prices(settings, ids)
    sold = checkout_prices(settings, ids)
    session = function_environment(settings, PLACEHOLDER_CONFIGURATION_ID, prices, sold)
    session["STRIPE_SECRET_KEY"] = placeholder_key(live)
    session["FUNCTION_TARGET"] = function_settings.SESSION_ENTRY_POINT
    webhook = webhook_environment(settings, PLACEHOLDER_CONFIGURATION_ID, prices, sold)
    webhook["STRIPE_SECRET_KEY"] = placeholder_key(live)
    webhook["STRIPE_WEBHOOK_SECRET"] = PLACEHOLDER_WEBHOOK_SECRET
    webhook["FUNCTION_TARGET"] = function_settings.WEBHOOK_ENTRY_POINT
    return check_environment(session) or check_environment(webhook)
