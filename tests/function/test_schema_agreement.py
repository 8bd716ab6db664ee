"""The function's request vocabulary agrees with the Stripe API schema in schema/."""

from __future__ import annotations

import json
from pathlib import Path

from billing_portal.inputs import FLOW_TYPES, LOCALES

SCHEMA = json.loads((Path(__file__).parents[2] / "schema" / "billing-portal-api.json").read_text())
SESSION_ROWS = {row["p"]: row for row in SCHEMA["requests"]["POST /v1/billing_portal/sessions"]}


def test_locales_are_exactly_stripes():
    assert set(SESSION_ROWS["locale"]["enum"]) == LOCALES


def test_every_offered_flow_type_is_a_stripe_flow_type():
    assert set(FLOW_TYPES) <= set(SESSION_ROWS["flow_data.type"]["enum"])


def test_every_flow_parameter_the_function_sends_exists_in_the_schema():
    for path in (
        "flow_data.subscription_cancel.subscription",
        "flow_data.subscription_cancel.retention.type",
        "flow_data.subscription_cancel.retention.coupon_offer.coupon",
        "flow_data.subscription_update.subscription",
        "flow_data.subscription_update_confirm.subscription",
        "flow_data.subscription_update_confirm.items[].id",
        "flow_data.subscription_update_confirm.items[].price",
        "flow_data.subscription_update_confirm.items[].quantity",
        "customer",
        "return_url",
        "configuration",
    ):
        assert path in SESSION_ROWS, path
