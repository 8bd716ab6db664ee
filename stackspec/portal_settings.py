"""The portal part of stack settings: features, business profile, and declared products.

`read_portal` and `read_products` read `billing-portal:portal` and `billing-portal:products` into
frozen objects, checking every enum against Stripe's schema (`stackspec.schema`) and every
plan-switching product against the ids and declared products it may name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackspec import schema as stripe_schema
from stackspec.declared import declared_price_ref, declared_product_ref
from stackspec.reader import PROJECT, Section, config_set
from stackspec.urls import read_url

MAX_PLAN_PRODUCTS = 10  # Stripe's limit on features.subscription_update.products
PRICE_INTERVALS = ("day", "week", "month", "year")  # Stripe's recurring.interval values
STRIPE = "one of the values Stripe's API accepts here"


@dataclass(frozen=True)
class BusinessProfile:
    headline: str | None = None
    terms_of_service_url: str | None = None
    privacy_policy_url: str | None = None


@dataclass(frozen=True)
class CustomerUpdate:
    enabled: bool = True
    allowed_updates: tuple[str, ...] = ("email", "address")


@dataclass(frozen=True)
class PaymentMethodUpdate:
    enabled: bool = True
    payment_method_configuration: str | None = None


@dataclass(frozen=True)
class CancellationReasons:
    enabled: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubscriptionCancel:
    enabled: bool = False
    mode: str = "at_period_end"
    proration_behavior: str = "none"
    cancellation_reasons: CancellationReasons = CancellationReasons()


@dataclass(frozen=True)
class AdjustableQuantity:
    enabled: bool = True
    minimum: int = 1
    maximum: int | None = None


@dataclass(frozen=True)
class PlanProduct:
    """A product customers switch between; product and prices are Stripe ids or `declared:` refs."""

    product: str
    prices: tuple[str, ...]
    adjustable_quantity: AdjustableQuantity | None = None


@dataclass(frozen=True)
class SubscriptionUpdate:
    enabled: bool = False
    default_allowed_updates: tuple[str, ...] = ()
    proration_behavior: str = "none"
    products: tuple[PlanProduct, ...] = ()
    billing_cycle_anchor: str | None = None
    trial_update_behavior: str | None = None
    schedule_at_period_end: tuple[str, ...] = ()


@dataclass(frozen=True)
class Features:
    customer_update: CustomerUpdate = CustomerUpdate()
    invoice_history: bool = True
    payment_method_update: PaymentMethodUpdate = PaymentMethodUpdate()
    subscription_cancel: SubscriptionCancel = SubscriptionCancel()
    subscription_update: SubscriptionUpdate = SubscriptionUpdate()
    subscription_pause: bool | None = None  # None: not declared; PortalFields sets it disabled


@dataclass(frozen=True)
class PortalSettings:
    name: str | None = None
    active: bool = True
    login_page: bool = False
    business_profile: BusinessProfile = BusinessProfile()
    features: Features = Features()


@dataclass(frozen=True)
class DeclaredPrice:
    key: str
    currency: str
    unit_amount: int
    interval: str
    interval_count: int = 1
    nickname: str | None = None


@dataclass(frozen=True)
class DeclaredProduct:
    key: str
    name: str
    description: str | None = None
    prices: tuple[DeclaredPrice, ...] = ()
    features: tuple[str, ...] = ()  # lookup keys it grants (stackspec.features_settings)


def read_products(section: Section) -> tuple[DeclaredProduct, ...]:
    products = []
    for key in sorted(section.data):
        item = section.section(key)
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", key) or key.startswith(("prod_", "price_")):
            section.add(
                key,
                "is not a usable product name",
                "use lowercase letters, digits, - and _, not starting with prod_ or price_",
            )
        name = item.string("name", required="give the product the name customers see")
        description = item.string("description")
        features = item.strings("features")  # checked against `features` by features_settings
        prices_section = item.section("prices")
        prices = tuple(
            _declared_price(prices_section, price) for price in sorted(prices_section.data)
        )
        if not prices:
            item.add("prices", "is empty", "declare at least one price under it")
        prices_section.finish()
        item.finish()
        products.append(DeclaredProduct(key, name or "", description, prices, features))
    section.finish()
    return tuple(products)


def _declared_price(section: Section, key: str) -> DeclaredPrice:
    item = section.section(key)
    currency = (item.string("currency", required="set a three-letter currency code") or "").lower()
    if currency and not re.fullmatch(r"[a-z]{3}", currency):
        item.add("currency", f"{currency!r} is not a currency code", "write it like usd or eur")
    amount = item.integer("unitAmount", -1, minimum=0)
    if amount < 0 and item.raw("unitAmount") is None:
        item.add("unitAmount", "is not set", "give the price in the currency's smallest unit")
    interval = item.choice("interval", PRICE_INTERVALS, what="a Stripe billing interval") or ""
    if item.raw("interval") is None:
        item.add("interval", "is not set", "use one of: " + ", ".join(PRICE_INTERVALS))
    count = item.integer("intervalCount", 1, minimum=1, maximum=365)
    nickname = item.string("nickname")
    item.finish()
    return DeclaredPrice(key, currency, max(amount, 0), interval, count, nickname)


def read_portal(
    section: Section, production: bool, declared: Mapping[str, DeclaredProduct]
) -> PortalSettings:
    name = section.string("name")
    active = section.boolean("active", True)
    login_page = section.boolean("loginPage", False)
    profile = _business_profile(section.section("businessProfile"), production)
    features = _features(section.section("features"), declared)
    section.finish()
    return PortalSettings(name, active, login_page, profile, features)


def _business_profile(section: Section, production: bool) -> BusinessProfile:
    headline = section.string("headline")
    terms = read_url(section, "termsOfServiceUrl", production)
    privacy = read_url(section, "privacyPolicyUrl", production)
    if production:
        for name, value in (("termsOfServiceUrl", terms), ("privacyPolicyUrl", privacy)):
            if value is None and section.raw(name) is None:
                section.add(
                    name,
                    "is required in a production stack (customers see it in the portal)",
                    config_set(section.key(name).split(":", 1)[1], "https://…", path=True),
                )
    section.finish()
    return BusinessProfile(headline, terms, privacy)


def _enum(path: str) -> tuple[str, ...]:
    return stripe_schema.enum_values(path)


def _features(section: Section, declared: Mapping[str, DeclaredProduct]) -> Features:
    customer = section.section("customerUpdate")
    customer_enabled = customer.boolean("enabled", True)
    allowed = customer.choices(
        "allowedUpdates",
        _enum("features.customer_update.allowed_updates"),
        CustomerUpdate().allowed_updates,
        what=STRIPE,
    )
    if customer_enabled and not allowed and customer.raw("allowedUpdates") == []:
        customer.add(
            "allowedUpdates",
            "is empty while customer updates are enabled",
            "list what customers may change (e.g. email, address) or set enabled: false",
        )
    customer.finish()

    invoices = section.section("invoiceHistory")
    invoice_history = invoices.boolean("enabled", True)
    invoices.finish()

    payment = section.section("paymentMethodUpdate")
    payment_enabled = payment.boolean("enabled", True)
    configuration = payment.string("paymentMethodConfiguration")
    if configuration and not configuration.startswith("pmc_"):
        payment.add(
            "paymentMethodConfiguration",
            f"{configuration!r} is not a payment method configuration id",
            "use the pmc_… id from the Dashboard (Settings → Payment methods)",
        )
    payment.finish()

    pause = section.section("subscriptionPause")
    pause_enabled = pause.boolean("enabled", None) if pause.data else None
    pause.finish()

    features = Features(
        customer_update=CustomerUpdate(customer_enabled, allowed),
        invoice_history=invoice_history,
        payment_method_update=PaymentMethodUpdate(payment_enabled, configuration),
        subscription_cancel=_subscription_cancel(section.section("subscriptionCancel")),
        subscription_update=_subscription_update(section.section("subscriptionUpdate"), declared),
        subscription_pause=pause_enabled,
    )
    section.finish()
    return features


def _subscription_cancel(section: Section) -> SubscriptionCancel:
    prefix = "features.subscription_cancel."
    enabled = section.boolean("enabled", False)
    mode = section.choice("mode", _enum(prefix + "mode"), "at_period_end", what=STRIPE)
    proration = section.choice(
        "prorationBehavior", _enum(prefix + "proration_behavior"), "none", what=STRIPE
    )
    reasons = section.section("cancellationReasons")
    reasons_enabled = reasons.boolean("enabled", False)
    options = reasons.choices(
        "options", _enum(prefix + "cancellation_reason.options"), (), what=STRIPE
    )
    if reasons_enabled and not options and not reasons.raw("options"):
        reasons.add(
            "options",
            "is empty while cancellation reasons are enabled",
            "list the reasons to offer (e.g. too_expensive, unused) or set enabled: false",
        )
    reasons.finish()
    section.finish()
    return SubscriptionCancel(
        enabled, mode or "", proration or "", CancellationReasons(reasons_enabled, options)
    )


def _subscription_update(
    section: Section, declared: Mapping[str, DeclaredProduct]
) -> SubscriptionUpdate:
    prefix = "features.subscription_update."
    enabled = section.boolean("enabled", False)
    allowed = section.choices(
        "defaultAllowedUpdates", _enum(prefix + "default_allowed_updates"), (), what=STRIPE
    )
    proration = section.choice(
        "prorationBehavior", _enum(prefix + "proration_behavior"), "none", what=STRIPE
    )
    anchor = section.choice(
        "billingCycleAnchor", _enum(prefix + "billing_cycle_anchor"), what=STRIPE
    )
    trial = section.choice(
        "trialUpdateBehavior", _enum(prefix + "trial_update_behavior"), what=STRIPE
    )
    schedule = section.choices(
        "scheduleAtPeriodEnd",
        _enum(prefix + "schedule_at_period_end.conditions[].type"),
        (),
        what=STRIPE,
    )
    products = tuple(
        _plan_product(section, key, value, declared) for key, value in section.items("products")
    )
    if len(products) > MAX_PLAN_PRODUCTS:
        section.add(
            "products",
            f"lists {len(products)} products; Stripe allows at most {MAX_PLAN_PRODUCTS}",
            f"keep the {MAX_PLAN_PRODUCTS} plans customers should switch between",
        )
    seen = [product.product for product in products]
    duplicates = sorted({ref for ref in seen if seen.count(ref) > 1})
    if duplicates:
        section.add("products", f"lists {', '.join(duplicates)} more than once", "list each once")
    if enabled and not allowed:
        section.add(
            "defaultAllowedUpdates",
            "is empty while plan switching is enabled",
            "list what customers may change: price, quantity, promotion_code",
        )
    if enabled and "price" in allowed and not products:
        section.add(
            "products",
            "is empty while customers may switch price",
            "list the products (and prices) customers may switch between",
        )
    section.finish()
    return SubscriptionUpdate(enabled, allowed, proration or "", products, anchor, trial, schedule)


def _plan_product(
    parent: Section, key: str, value: Any, declared: Mapping[str, DeclaredProduct]
) -> PlanProduct:
    item = Section(parent.problems, key + ".", value, label=key)
    product = item.string(
        "product",
        required="name a Stripe product id (prod_…) or a product declared under "
        f"{PROJECT}:products",
    )
    prices = item.strings("prices")
    if not prices:
        item.add(
            "prices",
            "is empty: a plan-switching product needs at least one price",
            "list its price ids (price_…) or, for a declared product, its declared price names",
        )
    quantity = None
    if item.has("adjustableQuantity"):
        quantity = _adjustable_quantity(item.section("adjustableQuantity"))
    else:
        item.raw("adjustableQuantity")
    item.finish()
    product, prices = _resolve_refs(item, product or "", prices, declared)
    return PlanProduct(product, prices, quantity)


def _adjustable_quantity(section: Section) -> AdjustableQuantity:
    enabled = section.boolean("enabled", True)
    minimum = section.integer("minimum", 1, minimum=0)
    maximum = section.integer("maximum", 0, minimum=1) or None
    if maximum is not None and minimum > maximum:
        section.add("maximum", f"{maximum} is below minimum ({minimum})", "raise maximum")
    section.finish()
    return AdjustableQuantity(enabled, minimum, maximum)


def _resolve_refs(
    item: Section, product: str, prices: tuple[str, ...], declared: Mapping[str, DeclaredProduct]
) -> tuple[str, tuple[str, ...]]:
    if not product:
        return product, prices
    if product.startswith("prod_"):
        for index, price in enumerate(prices):
            if not price.startswith("price_"):
                item.problems.add(
                    f"{item.key('prices')}[{index}]",
                    f"{price!r} is not a Stripe price id (price_…)",
                    "a product referenced by id needs its prices by id too",
                )
        return product, prices
    if product in declared:
        names = [price.key for price in declared[product].prices]
        for index, price in enumerate(prices):
            if price not in names:
                item.problems.add(
                    f"{item.key('prices')}[{index}]",
                    f"{price!r} is not a price declared under {PROJECT}:products.{product}.prices",
                    f"use one of: {', '.join(names)}"
                    if names
                    else f"declare it under {PROJECT}:products.{product}.prices "
                    f"(e.g. {price}: {{currency: usd, unitAmount: 900, interval: month}})",
                )
        refs = tuple(declared_price_ref(product, price) for price in prices)
        return declared_product_ref(product), refs
    item.add(
        "product",
        f"{product!r} is neither a Stripe product id (prod_…) nor a product declared under "
        f"{PROJECT}:products",
        "use the prod_… id of an existing product, or declare it under "
        f"{PROJECT}:products" + (f" (declared: {', '.join(declared)})" if declared else ""),
    )
    return product, prices
