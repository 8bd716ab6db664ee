"""Request bodies → validated portal requests (pure validation, no server)."""

from __future__ import annotations

import json

import pytest

from billing_portal.errors import ApiError
from billing_portal.inputs import MAX_BODY_BYTES, check_return_url, parse_body

JSON = "application/json"


def refused(body: object, content_type: str = JSON) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ApiError) as caught:
        parse_body(content_type, raw)
    return caught.value


def test_empty_body_is_a_plain_portal_request():
    request = parse_body(None, b"")
    assert (request.return_url, request.locale, request.flow) == (None, None, None)


def test_locale_from_stripes_list_is_accepted():
    assert parse_body(JSON, b'{"locale": "pt-BR"}').locale == "pt-BR"


def test_unknown_locale_is_400():
    error = refused({"locale": "klingon"})
    assert (error.status, error.code) == (400, "invalid_locale")


def test_unknown_field_is_400_naming_it():
    error = refused({"customer": "cus_evil"})
    assert error.status == 400 and "customer" in error.message


def test_non_json_content_type_is_415():
    assert refused(b"return_url=x", "application/x-www-form-urlencoded").status == 415


def test_malformed_json_is_400():
    assert refused(b"{not json").code == "invalid_json"


def test_json_array_is_400():
    assert refused([1, 2]).code == "invalid_json"


def test_body_over_16_kib_is_413():
    assert refused(b"{" + b" " * MAX_BODY_BYTES + b"}").status == 413


def test_flow_shorthand_string_becomes_stripe_flow_data():
    flow = parse_body(JSON, b'{"flow": "payment_method_update"}').flow
    assert flow == {"type": "payment_method_update"}


def test_cancel_flow_with_coupon_maps_to_retention_offer():
    body = {"flow": {"type": "subscription_cancel", "subscription": "sub_1", "coupon": "SAVE20"}}
    assert parse_body(JSON, json.dumps(body).encode()).flow == {
        "type": "subscription_cancel",
        "subscription_cancel": {
            "subscription": "sub_1",
            "retention": {"type": "coupon_offer", "coupon_offer": {"coupon": "SAVE20"}},
        },
    }


def test_update_confirm_flow_carries_items():
    body = {
        "flow": {
            "type": "subscription_update_confirm",
            "subscription": "sub_1",
            "items": [{"id": "si_1", "price": "price_2", "quantity": 3}],
        }
    }
    flow = parse_body(JSON, json.dumps(body).encode()).flow
    assert flow["subscription_update_confirm"]["items"] == [
        {"id": "si_1", "price": "price_2", "quantity": 3}
    ]


@pytest.mark.parametrize(
    "flow",
    [
        {"type": "subscription_pause"},
        {"type": "subscription_pause", "subscription": "sub_1", "coupon": "SAVE"},
        {"type": "subscription_cancel"},
        {"type": "subscription_update", "subscription": "sub 1"},
        {"type": "subscription_update_confirm", "subscription": "sub_1", "items": []},
        {"type": "subscription_update_confirm", "subscription": "sub_1", "items": [{"price": "p"}]},
        {"type": "payment_method_update", "subscription": "sub_1"},
        {
            "type": "subscription_update_confirm",
            "subscription": "sub_1",
            "items": [{"id": "si", "quantity": -1}],
        },
        ["payment_method_update"],
    ],
    ids=[
        "pause-no-sub",
        "pause-coupon",
        "cancel-no-sub",
        "bad-id",
        "no-items",
        "item-no-id",
        "extra",
        "neg-qty",
        "list",
    ],
)
def test_malformed_flows_are_400(flow):
    error = refused({"flow": flow})
    assert (error.status, error.code) == (400, "invalid_flow"), flow


ALLOWED = frozenset({"https://app.example.com", "http://localhost:3000"})


def test_return_url_on_allowed_origin_is_kept():
    url = "https://app.example.com/settings/billing?tab=1"
    assert check_return_url(url, ALLOWED) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/",
        "http://app.example.com/settings",
        "/settings/billing",
        "javascript:alert(1)",
        "https://app.example.com.evil.com/",
        "https://app.example.com:8443/",
        "https://user@evil.com/",
    ],
)
def test_return_url_off_the_allowlist_is_refused(url):
    with pytest.raises(ApiError) as caught:
        check_return_url(url, ALLOWED)
    assert (caught.value.status, caught.value.code) == (400, "return_url_not_allowed"), url


def test_plain_http_return_url_is_allowed_for_localhost():
    assert check_return_url("http://localhost:3000/back", ALLOWED)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
def test_a_body_that_is_not_plain_utf8_is_invalid_json(encoding):
    body = '{"locale": "en"}'.encode(encoding)
    with pytest.raises(ApiError) as caught:
        parse_body("application/json", body)
    assert caught.value.code == "invalid_json"


def test_a_refused_return_url_names_the_allowed_origins_and_the_http_rule():
    with pytest.raises(ApiError) as caught:
        check_return_url("https://evil.example/", frozenset({"http://localhost:5173"}))
    assert "http on localhost" in caught.value.message
    assert "http://localhost:5173" in caught.value.message
