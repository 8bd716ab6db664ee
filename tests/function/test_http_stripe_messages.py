"""Nothing Stripe writes reaches the caller verbatim: a refused parameter gets a fixed message."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

INJECTED = (
    "Invalid value for acct_1LeakyAccount0001 on cus_LeakyCustomer01 "
    "(key sk_test_LeakyKey0123456789abcdef)"
)


@pytest.mark.parametrize(
    "param",
    [
        "flow_data[subscription_cancel][subscription]",
        "flow_data[type]",
        "locale",
        "return_url",
        "configuration",
    ],
)
def test_stripes_message_never_reaches_the_caller(
    function_server, dev_issuer, stripe_standin, new_uid, param
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    stripe_standin.inject_fault(
        status=400,
        code="parameter_invalid",
        param=param,
        message=INJECTED,
        path_prefix="/v1/billing_portal/sessions",
    )
    try:
        response = function_server.post(dev_issuer.mint(new_uid))
    finally:
        stripe_standin.clear_faults()
    assert response.status_code in (400, 502), response.text
    assert response.json()["error"]["code"] == "stripe_invalid_request"
    for fragment in ("acct_", "cus_", "sk_test_", "Leaky", "Invalid value"):
        assert fragment not in response.text


@pytest.mark.parametrize(
    ("param", "words"),
    [
        ("flow_data[subscription_update][subscription]", "deep link"),
        ("locale", "locale"),
        ("return_url", "return_url"),
    ],
)
def test_a_refused_parameter_of_the_caller_is_a_400_with_a_fixed_message(
    function_server, dev_issuer, stripe_standin, new_uid, param, words
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    stripe_standin.inject_fault(
        status=400, param=param, message=INJECTED, path_prefix="/v1/billing_portal/sessions"
    )
    try:
        response = function_server.post(dev_issuer.mint(new_uid))
    finally:
        stripe_standin.clear_faults()
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
