"""Subscriptions in the stand-in, through the real SDK: what deep links into them need."""

from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_objects import every_flow_configuration, monthly_price

BACK = {"return_url": "https://app.example.test/billing"}


def every_flow(sdk: stripe.StripeClient) -> dict[str, str]:
    """Session params naming a configuration where every deep link's feature is on."""
    return {"configuration": every_flow_configuration(sdk)}


def recurring_price(sdk: stripe.StripeClient) -> str:
    return monthly_price(sdk)


def subscribe(sdk: stripe.StripeClient, customer: str, price: str, quantity: int = 1):
    return sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": price, "quantity": quantity}]}
    )


def test_a_subscription_has_what_the_app_reads(sdk):
    customer = sdk.v1.customers.create().id
    price = recurring_price(sdk)
    created = subscribe(sdk, customer, price, quantity=3)
    fetched = sdk.v1.subscriptions.retrieve(created.id)
    assert fetched.id.startswith("sub_") and fetched.customer == customer
    assert fetched.status == "active" and fetched.cancel_at_period_end is False
    (item,) = fetched["items"].data
    assert item.id.startswith("si_") and item.price.id == price and item.quantity == 3
    assert item.current_period_end > fetched.created


def test_subscriptions_list_by_customer(sdk):
    price = recurring_price(sdk)
    ann, bob = (sdk.v1.customers.create().id for _ in range(2))
    mine = subscribe(sdk, ann, price).id
    subscribe(sdk, bob, price)
    listed = sdk.v1.subscriptions.list(params={"customer": ann})
    assert [s.id for s in listed.data] == [mine]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"customer": "cus_Missing0000001"}, "customer"),
        ({"items": [{"price": "price_Missing00001"}]}, "items[0][price]"),
    ],
)
def test_a_subscription_needs_an_existing_customer_and_price(sdk, change, param):
    params = {"customer": sdk.v1.customers.create().id, "items": [{"price": recurring_price(sdk)}]}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.subscriptions.create(params={**params, **change})
    assert caught.value.code == "resource_missing" and caught.value.param == param


def test_a_missing_subscription_is_resource_missing(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.subscriptions.retrieve("sub_Missing0000001")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"


def test_a_deleted_customers_subscriptions_are_canceled(sdk, fresh_stripe_standin):
    customer = sdk.v1.customers.create().id
    subscription = subscribe(sdk, customer, recurring_price(sdk)).id
    fresh_stripe_standin.delete_customer(customer)
    assert sdk.v1.subscriptions.retrieve(subscription).status == "canceled"


def test_a_portal_deep_link_into_another_customers_subscription_is_refused(sdk):
    price = recurring_price(sdk)
    ann, bob = (sdk.v1.customers.create().id for _ in range(2))
    bobs = subscribe(sdk, bob, price).id
    flow = {"type": "subscription_cancel", "subscription_cancel": {"subscription": bobs}}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={"customer": ann, "flow_data": flow, **every_flow(sdk), **BACK}
        )
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "flow_data[subscription_cancel][subscription]"
    session = sdk.v1.billing_portal.sessions.create(
        params={"customer": bob, "flow_data": flow, **every_flow(sdk), **BACK}
    )
    assert session.flow.type == "subscription_cancel"


def test_confirming_an_update_needs_items_of_that_subscription(sdk):
    price = recurring_price(sdk)
    customer = sdk.v1.customers.create().id
    subscription = subscribe(sdk, customer, price)
    item = subscription["items"].data[0].id
    flow = {
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {
            "subscription": subscription.id,
            "items": [{"id": "si_NotThisOne00001", "price": price}],
        },
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={"customer": customer, "flow_data": flow, **every_flow(sdk), **BACK}
        )
    assert caught.value.param == "flow_data[subscription_update_confirm][items][0][id]"
    flow["subscription_update_confirm"]["items"][0]["id"] = item
    sdk.v1.billing_portal.sessions.create(
        params={"customer": customer, "flow_data": flow, **every_flow(sdk), **BACK}
    )


FEATURE_OF_FLOW = {
    "subscription_cancel": "subscription_cancel",
    "subscription_update": "subscription_update",
    "payment_method_update": "payment_method_update",
    "customer_update": "customer_update",
}


@pytest.mark.parametrize("flow_type", sorted(FEATURE_OF_FLOW))
def test_a_deep_link_into_a_feature_the_configuration_disables_is_refused(sdk, flow_type):
    customer = sdk.v1.customers.create().id
    subscription = subscribe(sdk, customer, recurring_price(sdk)).id
    feature = FEATURE_OF_FLOW[flow_type]
    disabled = sdk.v1.billing_portal.configurations.create(
        params={
            "features": {
                "invoice_history": {"enabled": True},
                feature: {"enabled": False},
            },
        }
    ).id
    flow = {"type": flow_type}
    if flow_type.startswith("subscription_"):
        flow[flow_type] = {"subscription": subscription}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={"customer": customer, "configuration": disabled, "flow_data": flow, **BACK}
        )
    assert caught.value.param == "flow_data[type]", caught.value
    assert feature in str(caught.value)
