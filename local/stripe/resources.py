"""The shapes of Stripe objects, with the defaults Stripe fills in, and how updates apply.

Functions here take already validated (normalized) parameters; an empty string means "unset".
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
# Accepted on create/update but with no visible effect here (payments, tax, test clocks…).
IGNORED_CUSTOMER_PARAMS = {
    "cash_balance",
    "expand",
    "payment_method",
    "source",
    "tax",
    "tax_id_data",
    "validate",
}
FLOW_DETAIL_TYPES = (
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)


def new_id(prefix: str) -> str:
    """A Stripe-looking id such as ``cus_NffrFeUfNV2Hib``."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def merge_metadata(current: dict[str, str], update: dict[str, str] | str) -> dict[str, str]:
    """Stripe's metadata update: keys merge, ``""`` as a value deletes, ``""`` as a whole clears."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Deep-merge ``update`` into ``target``: hashes merge, lists replace, ``""`` unsets."""
    for key, value in update.items():
        current = target.get(key)
        if value == "":
            target[key] = [] if isinstance(current, list) else None
        elif isinstance(value, dict):
            if not isinstance(current, dict):
                current = target[key] = {}
            merge(current, value)
        else:
            target[key] = copy.deepcopy(value)


def _address(value: dict[str, Any]) -> dict[str, Any]:
    address = dict.fromkeys(ADDRESS_FIELDS)
    merge(address, value)
    return address


def new_customer(customer_id: str, *, livemode: bool, created: int) -> dict[str, Any]:
    """A customer with every field Stripe returns, before parameters are applied."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "business_name": None,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": livemode,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def apply_customer_params(customer: dict[str, Any], params: dict[str, Any]) -> None:
    """Apply create or update parameters to ``customer`` in place."""
    for key, value in params.items():
        if key in IGNORED_CUSTOMER_PARAMS:
            continue
        if key == "metadata":
            customer["metadata"] = merge_metadata(customer["metadata"], value)
        elif key == "address" and isinstance(value, dict):
            customer["address"] = _address({**(customer["address"] or {}), **value})
        elif key == "shipping" and isinstance(value, dict):
            shipping = {
                "address": None,
                "name": None,
                "phone": None,
                **(customer["shipping"] or {}),
            }
            merge(shipping, {k: v for k, v in value.items() if k != "address"})
            if "address" in value:
                shipping["address"] = _address({**(shipping["address"] or {}), **value["address"]})
            customer["shipping"] = shipping
        elif key == "tax_exempt" and value == "":
            customer["tax_exempt"] = "none"
        else:
            merge(customer, {key: value})


def deleted_customer(customer_id: str) -> dict[str, Any]:
    """What Stripe returns for a deleted customer."""
    return {"id": customer_id, "object": "customer", "deleted": True}


def default_features() -> dict[str, Any]:
    """All portal features, present and disabled, with Stripe's defaults."""
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": False, "feedback_options": None, "options": []},
            "enabled": False,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_pause": {
            "duration": {"interval_options": [], "type": "indefinite"},
            "enabled": False,
        },
        "subscription_update": {
            "billing_cycle_anchor": None,
            "default_allowed_updates": [],
            "enabled": False,
            "products": [],
            "proration_behavior": "none",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }


def new_configuration(
    configuration_id: str, *, livemode: bool, created: int, is_default: bool = False
) -> dict[str, Any]:
    """A portal configuration with every field Stripe returns, before parameters are applied."""
    return {
        "id": configuration_id,
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": created,
        "default_return_url": None,
        "features": default_features(),
        "is_default": is_default,
        "livemode": livemode,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": created,
    }


def dashboard_default_configuration(
    configuration_id: str, *, livemode: bool, created: int
) -> dict[str, Any]:
    """The default configuration, as saving the portal settings in the Dashboard leaves it."""
    configuration = new_configuration(
        configuration_id, livemode=livemode, created=created, is_default=True
    )
    merge(
        configuration["features"],
        {
            "customer_update": {"allowed_updates": ["email", "address"], "enabled": True},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
        },
    )
    return configuration


def _fill_products(features: dict[str, Any]) -> None:
    products = features["subscription_update"].get("products") or []
    for product in products:
        quantity = {"enabled": False, "maximum": None, "minimum": 1}
        merge(quantity, product.get("adjustable_quantity") or {})
        product["adjustable_quantity"] = quantity
    for option in features["subscription_pause"]["duration"].get("interval_options") or []:
        option.setdefault("interval_count", 1)


def apply_configuration_params(
    configuration: dict[str, Any], params: dict[str, Any], *, login_url: str, updated: int
) -> None:
    """Apply create or update parameters to ``configuration`` in place."""
    for key, value in params.items():
        if key == "expand":
            continue
        if key == "metadata":
            configuration["metadata"] = merge_metadata(configuration["metadata"], value)
        elif key == "login_page":
            enabled = value["enabled"]
            configuration["login_page"] = {
                "enabled": enabled,
                "url": login_url if enabled else None,
            }
        else:
            merge(configuration, {key: value})
    _fill_products(configuration["features"])
    configuration["updated"] = updated


def build_flow(flow_data: dict[str, Any]) -> dict[str, Any]:
    """The session's ``flow`` as Stripe echoes ``flow_data``, with its defaults."""
    after = flow_data.get("after_completion") or {"type": "portal_homepage"}
    flow: dict[str, Any] = {
        "after_completion": {
            "hosted_confirmation": None,
            "redirect": None,
            "type": after["type"],
        },
        "customer_update": None,
        "subscription_cancel": None,
        "subscription_pause": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": flow_data["type"],
    }
    if "hosted_confirmation" in after:
        custom = after["hosted_confirmation"].get("custom_message")
        flow["after_completion"]["hosted_confirmation"] = {"custom_message": custom}
    if "redirect" in after:
        flow["after_completion"]["redirect"] = {"return_url": after["redirect"]["return_url"]}
    for detail in FLOW_DETAIL_TYPES:
        if detail in flow_data:
            flow[detail] = _flow_detail(detail, flow_data[detail])
    return flow


def _flow_detail(detail: str, value: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(value)
    if detail == "subscription_cancel":
        result.setdefault("retention", None)
    if detail == "subscription_update_confirm":
        result["discounts"] = [
            {"coupon": None, "promotion_code": None, **item} for item in value.get("discounts", [])
        ]
        result["items"] = [
            {"id": None, "price": None, "quantity": None, **item} for item in value["items"]
        ]
    return result


def new_session(
    session_id: str,
    *,
    livemode: bool,
    created: int,
    customer: str,
    configuration: str,
    return_url: str | None,
    url: str,
    params: dict[str, Any],
) -> dict[str, Any]:
    """A portal session object."""
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "after_expiration": copy.deepcopy(params.get("after_expiration")),
        "configuration": configuration,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "flow": build_flow(params["flow_data"]) if "flow_data" in params else None,
        "livemode": livemode,
        "locale": params.get("locale"),
        "on_behalf_of": params.get("on_behalf_of"),
        "return_url": return_url,
        "url": url,
    }


def new_account(account_id: str = "acct_1StandinLocal00") -> dict[str, Any]:
    """The account ``GET /v1/account`` returns; the control API can change its branding."""
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "mcc": None,
            "name": "Stand-in Local",
            "product_description": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": "company",
        "charges_enabled": True,
        "country": "US",
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@example.com",
        "payouts_enabled": True,
        "settings": {
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "dashboard": {"display_name": "Stand-in Local", "timezone": "Etc/UTC"},
        },
        "type": "standard",
    }
