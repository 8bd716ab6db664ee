"""Entitlements in the stand-in, through the real SDK: features, product features, and each
customer's active entitlements derived from its subscriptions, with the summary event recorded
whenever the set changes."""

from __future__ import annotations

import pytest
import stripe

from local.stripe import StandinControl
from local.stripe.entitlements import ENTITLING, entitled_features

SUMMARY = "entitlements.active_entitlement_summary.updated"


def product_with_price(sdk: stripe.StripeClient, name: str) -> tuple[str, str]:
    product = sdk.v1.products.create(params={"name": name}).id
    price = sdk.v1.prices.create(
        params={
            "product": product,
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
        }
    ).id
    return product, price


def feature(sdk: stripe.StripeClient, lookup_key: str) -> str:
    return sdk.v1.entitlements.features.create(
        params={"lookup_key": lookup_key, "name": lookup_key.title()}
    ).id


def attach(sdk: stripe.StripeClient, product: str, feature_id: str) -> str:
    return sdk.v1.products.features.create(product, params={"entitlement_feature": feature_id}).id


def active_keys(sdk: stripe.StripeClient, customer: str) -> list[str]:
    page = sdk.v1.entitlements.active_entitlements.list(params={"customer": customer, "limit": 100})
    return sorted(entitlement.lookup_key for entitlement in page.data)


def summaries(standin: StandinControl, customer: str) -> list[list[str]]:
    """The lookup keys of each summary event for `customer`, oldest first."""
    return [
        sorted(e["lookup_key"] for e in event["data"]["object"]["entitlements"]["data"])
        for event in standin.events()
        if event["type"] == SUMMARY and event["data"]["object"]["customer"] == customer
    ]


@pytest.fixture
def plans(sdk):
    """Two plans: team grants seats; business grants seats and export_csv."""
    seats, export = feature(sdk, "seats"), feature(sdk, "export_csv")
    team, team_price = product_with_price(sdk, "Team")
    business, business_price = product_with_price(sdk, "Business")
    attach(sdk, team, seats)
    attach(sdk, business, seats)
    attach(sdk, business, export)
    return {"team": team_price, "business": business_price, "business_product": business}


def test_a_feature_is_created_listed_and_retrieved(sdk):
    created = sdk.v1.entitlements.features.create(
        params={"lookup_key": "export_csv", "name": "Export CSV", "metadata": {"stack": "dev"}}
    )
    assert created.id.startswith("feat_") and created.active is True
    assert sdk.v1.entitlements.features.retrieve(created.id).lookup_key == "export_csv"
    listed = sdk.v1.entitlements.features.list(params={"lookup_key": "export_csv"})
    assert [f.id for f in listed.data] == [created.id]


def test_a_lookup_key_is_unique(sdk):
    feature(sdk, "seats")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        feature(sdk, "seats")
    assert caught.value.param == "lookup_key"


@pytest.mark.parametrize("missing", ["lookup_key", "name"])
def test_a_feature_needs_a_lookup_key_and_a_name(sdk, missing):
    params = {"lookup_key": "seats", "name": "Seats"}
    del params[missing]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.entitlements.features.create(params=params)
    assert caught.value.param == missing


def test_a_feature_is_attached_once_listed_and_detached(sdk):
    product, _ = product_with_price(sdk, "Team")
    seats = feature(sdk, "seats")
    attachment = sdk.v1.products.features.create(product, params={"entitlement_feature": seats})
    assert attachment.id.startswith("prodft_")
    assert attachment.entitlement_feature.id == seats
    with pytest.raises(stripe.InvalidRequestError):
        attach(sdk, product, seats)
    listed = sdk.v1.products.features.list(product)
    assert [a.entitlement_feature.lookup_key for a in listed.data] == ["seats"]
    deleted = sdk.v1.products.features.delete(product, attachment.id)
    assert deleted.deleted is True
    assert sdk.v1.products.features.list(product).data == []


def test_attaching_needs_an_existing_product_and_feature(sdk):
    product, _ = product_with_price(sdk, "Team")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        attach(sdk, product, "feat_Missing00000001")
    assert caught.value.param == "entitlement_feature" and caught.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        attach(sdk, "prod_Missing00000001", feature(sdk, "seats"))
    assert caught.value.http_status == 404


def test_active_entitlements_follow_the_customers_subscriptions(sdk, plans):
    customer = sdk.v1.customers.create().id
    assert active_keys(sdk, customer) == []
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["team"]}]}
    )
    assert active_keys(sdk, customer) == ["seats"]
    item = subscription["items"].data[0].id
    sdk.v1.subscriptions.update(
        subscription.id, params={"items": [{"id": item, "price": plans["business"]}]}
    )
    assert active_keys(sdk, customer) == ["export_csv", "seats"]
    sdk.v1.subscriptions.cancel(subscription.id)
    assert active_keys(sdk, customer) == []


def test_an_entitlement_keeps_its_id_while_it_stays_active(sdk, plans):
    customer = sdk.v1.customers.create().id
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["team"]}]}
    )
    (seats,) = sdk.v1.entitlements.active_entitlements.list(params={"customer": customer}).data
    item = subscription["items"].data[0].id
    sdk.v1.subscriptions.update(
        subscription.id, params={"items": [{"id": item, "price": plans["business"]}]}
    )
    after = sdk.v1.entitlements.active_entitlements.list(params={"customer": customer}).data
    assert seats.id in {entitlement.id for entitlement in after}
    assert sdk.v1.entitlements.active_entitlements.retrieve(seats.id).lookup_key == "seats"


def test_each_change_of_the_set_records_one_summary_event_and_no_other_change_does(
    fresh_stripe_standin, sdk, plans
):
    customer = sdk.v1.customers.create().id
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["team"]}]}
    )
    sdk.v1.subscriptions.update(subscription.id, params={"metadata": {"note": "same set"}})
    sdk.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    item = subscription["items"].data[0].id
    sdk.v1.subscriptions.update(
        subscription.id, params={"items": [{"id": item, "price": plans["business"]}]}
    )
    sdk.v1.subscriptions.cancel(subscription.id)
    assert summaries(fresh_stripe_standin, customer) == [
        ["seats"],
        ["export_csv", "seats"],
        [],
    ]


def test_detaching_a_feature_takes_it_from_every_subscriber(fresh_stripe_standin, sdk, plans):
    customer = sdk.v1.customers.create().id
    sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["business"]}]}
    )
    product = plans["business_product"]
    export = next(
        a.id
        for a in sdk.v1.products.features.list(product).data
        if a.entitlement_feature.lookup_key == "export_csv"
    )
    sdk.v1.products.features.delete(product, export)
    assert active_keys(sdk, customer) == ["seats"]
    assert summaries(fresh_stripe_standin, customer)[-1] == ["seats"]


def test_active_entitlements_need_a_customer(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.entitlements.active_entitlements.list(params={})  # type: ignore[typeddict-item]
    assert caught.value.param == "customer"
    unknown = sdk.v1.entitlements.active_entitlements.list(params={"customer": "cus_Missing01"})
    assert unknown.data == []  # as the subscription list answers for an unknown customer


def test_only_entitling_subscriptions_count():
    attachments = {"prod_1": {"prodft_1": "feat_1"}}

    def subscription(status, customer="cus_1"):
        item = {"price": {"product": "prod_1"}}
        return {"customer": customer, "status": status, "items": {"data": [item]}}

    for status in ("active", "trialing", "past_due", "paused"):
        assert entitled_features([subscription(status)], attachments, "cus_1") == ["feat_1"]
    for status in ("canceled", "incomplete", "incomplete_expired", "unpaid"):
        assert status not in ENTITLING
        assert entitled_features([subscription(status)], attachments, "cus_1") == []
    assert entitled_features([subscription("active", "cus_2")], attachments, "cus_1") == []
