"""Products and prices: the objects Stripe returns, and the rules it applies beyond the schema."""

from __future__ import annotations

import copy
from typing import Any

from local.stripe.errors import StripeError


def new_product(product_id: str, params: dict[str, Any], *, livemode: bool, created: int) -> dict:
    """A product with every field Stripe returns, from validated create parameters."""
    return {
        "id": product_id,
        "object": "product",
        "active": params.get("active", True),
        "created": created,
        "default_price": None,
        "description": params.get("description"),
        "images": list(params.get("images") or []),
        "livemode": livemode,
        "marketing_features": copy.deepcopy(params.get("marketing_features") or []),
        "metadata": dict(params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": copy.deepcopy(params.get("package_dimensions")),
        "shippable": params.get("shippable"),
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": params.get("tax_code"),
        "type": params.get("type", "service"),
        "unit_label": params.get("unit_label"),
        "updated": created,
        "url": params.get("url"),
    }


def check_price(params: dict[str, Any]) -> None:
    """What Stripe refuses in a price beyond the parameter schema."""
    if "product" not in params and "product_data" not in params:
        raise StripeError(
            400, "Missing required param: product.", code="parameter_missing", param="product"
        )
    scheme = params.get("billing_scheme", "per_unit")
    amounts = ("unit_amount", "unit_amount_decimal", "custom_unit_amount")
    if scheme == "per_unit" and not any(name in params for name in amounts):
        raise StripeError(
            400,
            "Missing required param: unit_amount.",
            code="parameter_missing",
            param="unit_amount",
        )


def new_price(
    price_id: str, params: dict[str, Any], *, product: str, livemode: bool, created: int
) -> dict:
    """A price with every field Stripe returns, from validated create parameters."""
    recurring = params.get("recurring")
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": recurring.get("meter"),
            "trial_period_days": recurring.get("trial_period_days"),
            "usage_type": recurring.get("usage_type", "licensed"),
        }
    unit_amount = params.get("unit_amount")
    return {
        "id": price_id,
        "object": "price",
        "active": params.get("active", True),
        "billing_scheme": params.get("billing_scheme", "per_unit"),
        "created": created,
        "currency": params["currency"].lower(),
        "custom_unit_amount": copy.deepcopy(params.get("custom_unit_amount")),
        "livemode": livemode,
        "lookup_key": params.get("lookup_key"),
        "metadata": dict(params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": product,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior", "unspecified"),
        "tiers_mode": params.get("tiers_mode"),
        "transform_quantity": copy.deepcopy(params.get("transform_quantity")),
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": params.get(
            "unit_amount_decimal", None if unit_amount is None else str(unit_amount)
        ),
    }
