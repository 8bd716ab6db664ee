"""The checkout part of stack settings: what a user without a plan may buy, and how Checkout asks.

`read_checkout` reads `billing-portal:checkout` into a frozen `CheckoutSettings`. Its `prices`
are catalog references the way the portal's plan switching writes them: a price declared under
`billing-portal:products` (`team/monthly`, kept as its `declared:` ref until Pulumi gives it an
id) or a `price_…` id of a product the portal's plan switching lists by id. Anything else is
refused at preview, naming the list entry: the function then never holds a price the stack does
not sell. Unset, the stack sells at checkout what its portal sells (`checkout_price_refs`).

The quantity of a checkout price is its product's `adjustableQuantity` in the portal's plan
switching, exactly as the portal's own catalog (`PORTAL_PRICES`) carries it; a price of a product
not listed there is sold one at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackspec.declared import declared_price_ref
from stackspec.portal_settings import DeclaredProduct, PlanProduct, PortalSettings
from stackspec.reader import PROJECT, Section, config_set

# Stripe's `subscription_data.trial_period_days` upper bound; 0 means no trial.
MAX_TRIAL_DAYS = 730
# The function's `CHECKOUT_BILLING_ADDRESS` values (Stripe's `billing_address_collection`).
BILLING_ADDRESS = ("auto", "required")


@dataclass(frozen=True)
class CheckoutSettings:
    """`billing-portal:checkout`: the prices sold and the Checkout Session's fixed settings."""

    # `declared:<product>/<price>` refs or `price_…` ids, in the order the page lists them;
    # None: not declared, the portal's plan-switching prices (`checkout_price_refs`).
    prices: tuple[str, ...] | None = None
    trial_days: int = 0
    allow_promotion_codes: bool = False
    automatic_tax: bool = False
    billing_address: str = "auto"
    terms_of_service_consent: bool = False


def read_checkout(
    section: Section, portal: PortalSettings, declared: Mapping[str, DeclaredProduct]
) -> CheckoutSettings:
    """Read `billing-portal:checkout`; every mistake is a problem naming its key and the fix."""
    prices = _prices(section, portal, declared)
    trial_days = section.integer("trialDays", 0, minimum=0, maximum=MAX_TRIAL_DAYS)
    promotion_codes = section.boolean("allowPromotionCodes", False)
    automatic_tax = section.boolean("automaticTax", False)
    billing_address = section.choice(
        "billingAddress", BILLING_ADDRESS, "auto", what="a billing address collection mode"
    )
    consent = section.boolean("termsOfServiceConsent", False)
    if consent is True and not portal.business_profile.terms_of_service_url:
        section.add(
            "termsOfServiceConsent",
            "is true, but the stack has no terms of service URL for customers to agree to",
            config_set(
                f"{PROJECT}:portal.businessProfile.termsOfServiceUrl", "https://…", path=True
            )
            + " or set termsOfServiceConsent to false",
        )
    section.finish()
    return CheckoutSettings(
        prices=prices,
        trial_days=trial_days,
        allow_promotion_codes=promotion_codes,
        automatic_tax=automatic_tax,
        billing_address=billing_address or "auto",
        terms_of_service_consent=consent,
    )


def _prices(
    section: Section, portal: PortalSettings, declared: Mapping[str, DeclaredProduct]
) -> tuple[str, ...] | None:
    raw = section.raw("prices")
    if raw is None:
        return None
    names = section.strings("prices")
    if not names and isinstance(raw, list | str):
        section.add(
            "prices",
            "is empty, so Checkout would sell nothing",
            "list the prices Checkout sells, or remove the key to sell every price of the "
            "portal's plan-switching products",
        )
        return None
    by_id = {
        price
        for product in portal.features.subscription_update.products
        for price in product.prices
        if price.startswith("price_")
    }
    refs: list[str] = []
    for index, name in enumerate(names):
        key = f"{section.key('prices')}[{index}]"
        ref = _price_ref(section, key, name, by_id, declared)
        if ref is None:
            continue
        if ref in refs:
            section.problems.add(key, f"lists {name!r} a second time", "list each price once")
            continue
        refs.append(ref)
    return tuple(refs)


def _price_ref(
    section: Section,
    key: str,
    name: str,
    by_id: set[str],
    declared: Mapping[str, DeclaredProduct],
) -> str | None:
    """The ref of one `prices` entry, or None after adding the problem with it."""
    plans = f"{PROJECT}:portal.features.subscriptionUpdate.products"
    if name.startswith("price_"):
        if name in by_id:
            return name
        section.problems.add(
            key,
            f"{name!r} is not a price of a product this stack sells",
            f"list it under {plans}[].prices with its product (prod_…), or name a price "
            f"declared under {PROJECT}:products as product/price",
        )
        return None
    product, slash, price = name.partition("/")
    if not slash or not product or not price:
        section.problems.add(
            key,
            f"{name!r} is neither a declared price (product/price) nor a price id (price_…)",
            f"write a price declared under {PROJECT}:products as product/price (e.g. "
            "team/monthly), or the price_… id of a product listed by id in " + plans,
        )
        return None
    if product not in declared:
        known = ", ".join(declared) if declared else "none declared"
        section.problems.add(
            key,
            f"{name!r} names {product!r}, which is not a product declared under {PROJECT}:products",
            f"use a declared product ({known}), or a price_… id of a product listed in {plans}",
        )
        return None
    prices = [item.key for item in declared[product].prices]
    if price not in prices:
        section.problems.add(
            key,
            f"{name!r}: {price!r} is not a price declared under "
            f"{PROJECT}:products.{product}.prices",
            f"use one of: {', '.join(f'{product}/{item}' for item in prices)}",
        )
        return None
    return declared_price_ref(product, price)


def plan_product_of(portal: PortalSettings, ref: str) -> PlanProduct | None:
    """The plan-switching product (as declared, whether switching is enabled or not) that lists
    the price `ref`, or None."""
    for product in portal.features.subscription_update.products:
        if ref in product.prices:
            return product
    return None


def checkout_price_refs(checkout: CheckoutSettings, portal: PortalSettings) -> tuple[str, ...]:
    """The refs of the prices Checkout sells, in order: the declared list, else every price of the
    portal's plan-switching products when plan switching is enabled (what `PORTAL_PRICES` holds,
    which is also the function's own default for `CHECKOUT_PRICES`)."""
    if checkout.prices is not None:
        return checkout.prices
    update = portal.features.subscription_update
    if not update.enabled:
        return ()
    return tuple(dict.fromkeys(price for product in update.products for price in product.prices))


def checkout_catalog(checkout: CheckoutSettings, portal: PortalSettings) -> list[dict[str, Any]]:
    """The checkout prices as a plan-switching list in Stripe's shape, one entry per price (so the
    encoded value keeps their order): `[{"prices": [ref], "adjustable_quantity"?: {...}}]`, each
    price with its product's adjustable quantity."""
    catalog: list[dict[str, Any]] = []
    for ref in checkout_price_refs(checkout, portal):
        entry: dict[str, Any] = {"prices": [ref]}
        product = plan_product_of(portal, ref)
        quantity = product.adjustable_quantity if product else None
        if quantity is not None:
            entry["adjustable_quantity"] = {
                "enabled": quantity.enabled,
                "minimum": quantity.minimum,
            }
            if quantity.maximum is not None:
                entry["adjustable_quantity"]["maximum"] = quantity.maximum
        catalog.append(entry)
    return catalog
