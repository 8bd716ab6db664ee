"""Entitlements in the user's state, over real HTTP: the webhook function acting on
`entitlements.active_entitlement_summary.updated` (and every subscription event) keeps the
sorted lookup keys Stripe lists for the customer; `GET` answers them beside the subscriptions.

Stripe here is the stand-in: its features are attached to products, and its active
entitlements follow the customer's subscriptions (local/stripe/entitlements.py), recording one
summary event per change; the tests hold the events and deliver them in chosen orders.
"""

from __future__ import annotations

import itertools
import json

import pytest

from tests.function.test_http_webhook import (
    customer_of_user,
    get_state,
    held_ids,
    raw_event,
    signed_post,
    stored_state,
)

pytestmark = pytest.mark.integration

SUMMARY = "entitlements.active_entitlement_summary.updated"


def plan(sdk, name: str, features: list[str]) -> str:
    """A product granting `features` (by id), with a monthly price; the price id."""
    product = sdk.v1.products.create(params={"name": name}).id
    for feature in features:
        sdk.v1.products.features.create(product, params={"entitlement_feature": feature})
    return sdk.v1.prices.create(
        params={
            "product": product,
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
        }
    ).id


@pytest.fixture
def plans(standin) -> dict[str, str]:
    """team grants seats; business grants seats and export_csv (price ids by plan)."""
    sdk = standin.client()
    seats, export = (
        sdk.v1.entitlements.features.create(params={"lookup_key": key, "name": key}).id
        for key in ("seats", "export_csv")
    )
    return {"team": plan(sdk, "Team", [seats]), "business": plan(sdk, "Business", [seats, export])}


def stripe_entitlements(standin, customer: str) -> list[str]:
    """The customer's active entitlements as Stripe (the stand-in) lists them: sorted keys."""
    page = standin.client().v1.entitlements.active_entitlements.list(
        params={"customer": customer, "limit": 100}
    )
    return sorted(entitlement.lookup_key for entitlement in page.data)


def summaries(standin) -> list[str]:
    return [held["event"] for held in standin.held_webhooks() if held["type"] == SUMMARY]


def switch(sdk, subscription: str, price: str) -> None:
    item = sdk.v1.subscriptions.retrieve(subscription)["items"].data[0].id
    sdk.v1.subscriptions.update(subscription, params={"items": [{"id": item, "price": price}]})


@pytest.fixture
def customer(standin, billing_pair, dev_issuer, new_uid) -> str:
    return customer_of_user(billing_pair, dev_issuer, standin, new_uid)


def test_summary_events_in_every_order_and_twice_leave_stripes_entitlements(
    billing_pair, standin, plans, customer, new_uid, firestore_db
):
    sdk = standin.client()
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["team"]}]}
    ).id
    switch(sdk, subscription, plans["business"])
    switch(sdk, subscription, plans["team"])  # export_csv is gone again
    events = summaries(standin)
    assert len(events) == 3
    expected = stripe_entitlements(standin, customer)
    assert expected == ["seats"]
    for order in itertools.permutations(events):
        results = standin.deliver_events([*order, *order])
        assert {r["status"] for r in results} == {200}
        state = stored_state(firestore_db, billing_pair, new_uid)
        assert state["entitlements"] == expected, order


def test_a_late_summary_never_brings_back_a_feature_the_customer_no_longer_has(
    billing_pair, standin, plans, customer, new_uid, firestore_db
):
    sdk = standin.client()
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["business"]}]}
    ).id
    (granted,) = summaries(standin)
    sdk.v1.subscriptions.cancel(subscription)
    (_, revoked) = summaries(standin)
    assert json.dumps(raw_event(standin, granted)).count("export_csv") >= 1
    standin.deliver_events([revoked, granted, granted])  # the older summary arrives last, twice
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == []
    assert stripe_entitlements(standin, customer) == []


def test_subscription_events_alone_fill_the_entitlements(
    billing_pair, standin, plans, customer, new_uid, firestore_db
):
    sdk = standin.client()
    sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["business"]}]}
    )
    created = [
        held["event"]
        for held in standin.held_webhooks()
        if held["type"] == "customer.subscription.created"
    ]
    assert {r["status"] for r in standin.deliver_events(created)} == {200}
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == [
        "export_csv",
        "seats",
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"customer": None},
        {"customer": "not-a-customer"},
        {"customer": ["cus_1"]},
        {"object": "subscription"},
    ],
)
def test_a_malformed_summary_event_is_400_and_nothing_is_written(
    billing_pair, standin, plans, customer, new_uid, firestore_db, change
):
    sdk = standin.client()
    sdk.v1.subscriptions.create(params={"customer": customer, "items": [{"price": plans["team"]}]})
    (summary,) = summaries(standin)
    event = raw_event(standin, summary)
    event["data"]["object"].update(change)
    requests_before = len(standin.requests())
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_event"
    assert stored_state(firestore_db, billing_pair, new_uid) is None
    assert len(standin.requests()) == requests_before, "Stripe was called for a malformed event"


def test_a_summary_of_a_customer_this_deployment_did_not_create_is_200_ignored(
    billing_pair, standin, plans
):
    sdk = standin.client()
    stranger = sdk.v1.customers.create().id
    sdk.v1.subscriptions.create(params={"customer": stranger, "items": [{"price": plans["team"]}]})
    (summary,) = summaries(standin)
    (result,) = standin.deliver_events([summary])
    assert result["status"] == 200


def test_get_answers_the_entitlements_beside_the_subscriptions(
    billing_pair, standin, plans, customer, new_uid, dev_issuer
):
    sdk = standin.client()
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plans["business"]}]}
    ).id
    standin.deliver_events(held_ids(standin))
    answer = get_state(billing_pair, dev_issuer, new_uid)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"subscriptions", "entitlements"}
    assert [s["id"] for s in body["subscriptions"]] == [subscription]
    assert body["entitlements"] == ["export_csv", "seats"]


def test_get_without_a_plan_answers_empty_lists(
    billing_pair, standin, plans, customer, new_uid, dev_issuer
):
    standin.deliver_events(held_ids(standin))
    assert get_state(billing_pair, dev_issuer, new_uid).json() == {
        "subscriptions": [],
        "entitlements": [],
    }


def test_get_is_still_one_firestore_read_and_no_stripe_call(
    billing_pair, standin, plans, customer, new_uid, dev_issuer, firestore_emulator
):
    sdk = standin.client()
    sdk.v1.subscriptions.create(params={"customer": customer, "items": [{"price": plans["team"]}]})
    standin.deliver_events(held_ids(standin))
    assert get_state(billing_pair, dev_issuer, new_uid).status_code == 200  # mapping now cached
    stripe_before, firestore_before = len(standin.requests()), firestore_emulator.stats()
    assert get_state(billing_pair, dev_issuer, new_uid).json()["entitlements"] == ["seats"]
    calls = {
        name: count - firestore_before.get(name, 0)
        for name, count in firestore_emulator.stats().items()
        if count != firestore_before.get(name, 0)
    }
    assert calls == {"BatchGetDocuments": 1}, calls
    assert len(standin.requests()) == stripe_before
