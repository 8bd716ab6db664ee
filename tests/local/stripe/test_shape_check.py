"""The conformance test's comparison, on objects made here: it sees each kind of difference.

Also: the parts of `schema/stripe-fixtures.json` that come from the installed stripe SDK (the
expandable fields, the error object's fields) are what that SDK gives today.
"""

from __future__ import annotations

import copy

from tests.local.stripe.shape_check import Difference, differences, error_differences, fixtures
from tools import stripe_fixtures


def example(kind: str) -> dict:
    return copy.deepcopy(fixtures()["resources"][kind])


def test_stripes_own_example_has_no_difference():
    assert differences(example("customer")) == []


def test_stripes_subscription_example_itself_has_an_expanded_field():
    # transfer_data.destination is an object in Stripe's example; unexpanded it is an id.
    assert differences(example("subscription")) == [
        Difference("subscription", "transfer_data.destination", "not_an_id")
    ]


def test_a_field_stripe_lacks_is_extra_and_one_left_out_is_missing():
    product = example("product")
    product["colour"] = "blue"
    del product["unit_label"]
    assert differences(product) == [
        Difference("product", "colour", "extra"),
        Difference("product", "unit_label", "missing"),
    ]


def test_a_difference_deep_in_a_list_item_is_named_by_its_path():
    subscription = example("subscription")
    subscription["transfer_data"] = None
    del subscription["items"]["data"][0]["price"]["recurring"]["meter"]
    assert differences(subscription) == [
        Difference("subscription", "items.data[].price.recurring.meter", "missing")
    ]


def test_a_value_of_another_kind_is_a_type_difference():
    price = example("price")
    price["unit_amount"] = "2000"
    assert differences(price) == [Difference("price", "unit_amount", "type")]


def test_an_expandable_field_that_is_an_object_unless_expanded_is_not_an_id():
    price = example("price")
    price["product"] = example("product")
    assert differences(price) == [Difference("price", "product", "not_an_id")]
    assert differences(price, expanded=["product"]) == []


def test_a_field_stripe_returns_only_when_expanded_is_extra_unless_expanded():
    configuration = example("billing_portal.configuration")
    configuration["features"]["subscription_update"]["products"] = []
    path = "features.subscription_update.products"
    assert differences(configuration) == [Difference("billing_portal.configuration", path, "extra")]
    assert differences(configuration, expanded=[path]) == []


def test_an_events_object_is_held_against_its_own_types_example():
    event = example("event")
    customer = example("customer")
    customer["nickname"] = "x"
    event["data"]["object"] = customer
    assert differences(event) == [Difference("customer", "nickname", "extra", "data.object")]


def test_a_deleted_stub_is_held_against_stripes_deleted_example():
    assert differences({"id": "cus_1", "object": "customer", "deleted": True}) == []
    assert differences({"id": "cus_1", "object": "customer", "deleted": True, "email": None}) == [
        Difference("deleted_customer", "email", "extra")
    ]


def test_metadata_keys_are_the_callers_not_fields():
    product = example("product")
    product["metadata"] = {"anything": "goes"}
    assert differences(product) == []


def test_a_list_envelope_and_its_items():
    page = {"object": "list", "data": [example("price")], "has_more": False, "url": "/v1/prices"}
    assert differences(page) == []
    page["total_count"] = 1
    page["data"][0]["amount"] = 1
    assert differences(page) == [
        Difference("list", "total_count", "extra"),
        Difference("price", "amount", "extra", "data[]"),
    ]


def test_an_error_body_with_a_field_stripes_error_object_lacks_is_named():
    body = {"error": {"type": "invalid_request_error", "message": "m", "status": 400}}
    assert error_differences(body) == ["error.status (extra)"]
    assert error_differences({"error": {"type": "oops", "message": "m"}}) == [
        "error.type 'oops' (not one of Stripe's)"
    ]


def test_the_sdk_derived_parts_are_what_the_installed_sdk_gives():
    # The examples themselves come from stripe/openapi (not read by tests); these parts can be
    # checked here, and change when the pinned SDK does (then run tools/stripe_fixtures again).
    stored = fixtures()
    for kind, sdk_class in stripe_fixtures.RESOURCES.items():
        if sdk_class is not None:
            found = stripe_fixtures.expandable_paths(stripe_fixtures._sdk_class(sdk_class))
            assert stored["expandable"][kind] == found, kind
    assert stored["error_fields"] == stripe_fixtures.error_fields()
    assert stored["source"]["stripe_python"] == stripe_fixtures.stripe.VERSION
