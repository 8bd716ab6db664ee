"""The portal spec: settings → the exact Stripe API parameters of the portal configuration.

`portal_spec(settings)` returns the parameter dict of `POST /v1/billing_portal/configurations`
(nested, as the stripe SDK takes it) that a stack declares, including the fields pulumi-stripe
cannot manage (`stackspec.portal_fields` maps those). It is pure: the Pulumi component maps it
onto `pulumi_stripe.PortalConfiguration` and `PortalFields`, and the review tools compare it with
a live configuration. Products and prices declared in config
appear as `declared:<product>` / `declared:<product>/<price>` until `substitute` puts ids in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stackspec.declared import MANAGED_BY
from stackspec.portal_settings import BusinessProfile, Features, PlanProduct
from stackspec.settings import Settings

if TYPE_CHECKING:
    # The SDK's own parameter types, for the checker only: the review workflows import this
    # module with nothing but PyYAML installed.
    from stripe.params import billing_portal as params


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: Mapping[str, Any]) -> str:
    """sha256 (first 16 hex digits) of the canonical JSON of a spec, its metadata left out."""
    body = {key: value for key, value in spec.items() if key != "metadata"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()[:16]


def portal_spec(settings: Settings) -> params.ConfigurationCreateParams:
    """The `POST /v1/billing_portal/configurations` parameters this stack declares."""
    portal = settings.portal
    spec: params.ConfigurationCreateParams = {
        "business_profile": _business_profile(portal.business_profile),
        "default_return_url": settings.default_return_url,
        "features": _features(portal.features),
        "login_page": {"enabled": portal.login_page},
    }
    if portal.name:
        spec = {"name": portal.name, **spec}  # first: the plan lists its rows in this order
    spec["metadata"] = {
        "managed-by": MANAGED_BY,
        "stack": settings.stack,
        "spec-hash": spec_hash(spec),
    }
    return spec


def _business_profile(profile: BusinessProfile) -> params.ConfigurationCreateParamsBusinessProfile:
    result: params.ConfigurationCreateParamsBusinessProfile = {}
    if profile.headline is not None:
        result["headline"] = profile.headline
    if profile.privacy_policy_url is not None:
        result["privacy_policy_url"] = profile.privacy_policy_url
    if profile.terms_of_service_url is not None:
        result["terms_of_service_url"] = profile.terms_of_service_url
    return result


def _features(features: Features) -> params.ConfigurationCreateParamsFeatures:
    customer = features.customer_update
    payment = features.payment_method_update
    cancel = features.subscription_cancel
    update = features.subscription_update
    result: params.ConfigurationCreateParamsFeatures = {}

    result["customer_update"] = {"enabled": customer.enabled}
    if customer.enabled:
        result["customer_update"]["allowed_updates"] = list(customer.allowed_updates)

    result["invoice_history"] = {"enabled": features.invoice_history}

    result["payment_method_update"] = {"enabled": payment.enabled}
    if payment.enabled and payment.payment_method_configuration:
        result["payment_method_update"]["payment_method_configuration"] = (
            payment.payment_method_configuration
        )

    result["subscription_cancel"] = {"enabled": cancel.enabled}
    if cancel.enabled:
        result["subscription_cancel"].update(
            {
                "mode": cancel.mode,
                "proration_behavior": cancel.proration_behavior,
                "cancellation_reason": {
                    "enabled": cancel.cancellation_reasons.enabled,
                    "options": list(cancel.cancellation_reasons.options),
                },
            }
        )

    if features.subscription_pause is not None:
        result["subscription_pause"] = {"enabled": features.subscription_pause}

    result["subscription_update"] = {"enabled": update.enabled}
    if update.enabled:
        result["subscription_update"].update(
            {
                "default_allowed_updates": list(update.default_allowed_updates),
                "proration_behavior": update.proration_behavior,
                "products": [_plan_product(product) for product in update.products],
            }
        )
        if update.billing_cycle_anchor:
            result["subscription_update"]["billing_cycle_anchor"] = update.billing_cycle_anchor
        if update.trial_update_behavior:
            result["subscription_update"]["trial_update_behavior"] = update.trial_update_behavior
        if update.schedule_at_period_end:
            result["subscription_update"]["schedule_at_period_end"] = {
                "conditions": [{"type": kind} for kind in update.schedule_at_period_end]
            }
    return result


def _plan_product(
    product: PlanProduct,
) -> params.ConfigurationCreateParamsFeaturesSubscriptionUpdateProduct:
    entry: params.ConfigurationCreateParamsFeaturesSubscriptionUpdateProduct = {
        "product": product.product,
        "prices": list(product.prices),
    }
    quantity = product.adjustable_quantity
    if quantity is not None:
        entry["adjustable_quantity"] = {"enabled": quantity.enabled, "minimum": quantity.minimum}
        if quantity.maximum is not None:
            entry["adjustable_quantity"]["maximum"] = quantity.maximum
    return entry
