"""The function's request vocabulary agrees with the Stripe API schema in schema/."""

from __future__ import annotations

import json

from billing_portal.inputs import FLOW_TYPES, LOCALES, parse_body
from stackspec import schema

SESSION_ROWS = schema.request_rows("POST /v1/billing_portal/sessions")


def test_locales_are_exactly_stripes():
    assert set(SESSION_ROWS["locale"]["enum"]) == LOCALES


def test_every_offered_flow_type_is_a_stripe_flow_type():
    assert set(FLOW_TYPES) <= set(SESSION_ROWS["flow_data.type"]["enum"])


FULL_FLOWS = [
    {"type": "customer_update"},
    {"type": "payment_method_update"},
    {"type": "subscription_cancel", "subscription": "sub_1", "coupon": "SAVE"},
    {"type": "subscription_pause", "subscription": "sub_1"},
    {"type": "subscription_update", "subscription": "sub_1"},
    {
        "type": "subscription_update_confirm",
        "subscription": "sub_1",
        "items": [{"id": "si_1", "price": "price_1", "quantity": 2}],
    },
]


def test_every_flow_type_the_function_accepts_covers_a_flow():
    assert {flow["type"] for flow in FULL_FLOWS} == set(FLOW_TYPES)


def test_every_flow_parameter_the_function_sends_exists_in_the_schema():
    for flow in FULL_FLOWS:
        flow_data = parse_body("application/json", json.dumps({"flow": flow}).encode()).flow
        for path in schema.parameter_paths({"flow_data": dict(flow_data)}):
            assert path in SESSION_ROWS, f"{flow['type']} sends {path}, unknown to Stripe"


CHECKOUT_ROWS = schema.request_rows("POST /v1/checkout/sessions")


def test_checkout_locales_are_exactly_stripes():
    from billing_portal.inputs import CHECKOUT_LOCALES

    assert set(CHECKOUT_ROWS["locale"]["enum"]) == CHECKOUT_LOCALES


def test_every_checkout_parameter_the_function_sends_exists_in_the_schema():
    from billing_portal.checkout import checkout_params
    from billing_portal.settings import CheckoutOptions

    every_option = CheckoutOptions(
        trial_days=7,
        allow_promotion_codes=True,
        automatic_tax=True,
        billing_address="required",
        terms_consent=True,
    )
    params = checkout_params(
        uid="u1",
        customer_id="cus_1",
        price="price_1",
        quantity=2,
        return_url="https://app.example.com/billing",
        locale="fr",
        options=every_option,
    )
    for path in schema.parameter_paths(dict(params)):
        if path.startswith("subscription_data.metadata."):
            continue  # metadata keys are free-form, not parameters
        assert path in CHECKOUT_ROWS, f"checkout sends {path}, unknown to Stripe"
    sent = dict(params)
    for path, row in CHECKOUT_ROWS.items():
        if "enum" in row and "." not in path and path in sent:
            assert sent[path] in row["enum"], path
