"""`GET` on the session function, deep links answered from the synced state, and
`customer.deleted`, over real HTTP with the webhook function of the same deployment."""

from __future__ import annotations

import pytest
import requests

from billing_portal.customers import document_id
from tests.function.conftest import APP_ORIGIN, customers_of
from tests.function.test_http_webhook import (
    customer_of_user,
    get_state,
    new_price,
    stripe_state,
    subscribe,
)
from tests.support.stripe_objects import subscribe as new_subscription

pytestmark = pytest.mark.integration


def sync_all(standin) -> None:
    """Deliver every held event once, in order (as Stripe would on a good day)."""
    ids = [held["event"] for held in standin.held_webhooks()]
    assert {r["status"] for r in standin.deliver_events(ids)} <= {200}
    standin.discard_held_webhooks()


def test_get_for_a_user_without_customer_is_empty_and_creates_nothing(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    response = get_state(billing_pair, dev_issuer, new_uid)
    assert response.status_code == 200
    assert response.json() == {"subscriptions": [], "entitlements": []}
    assert customers_of(standin, new_uid) == []
    doc = firestore_db.collection(billing_pair.collection).document(document_id(new_uid)).get()
    assert not doc.exists


def test_get_for_a_customer_without_subscriptions_is_empty(
    billing_pair, standin, dev_issuer, new_uid
):
    customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sync_all(standin)
    assert get_state(billing_pair, dev_issuer, new_uid).json() == {
        "subscriptions": [],
        "entitlements": [],
    }


def test_get_shows_one_subscription_in_the_contract_shape(
    billing_pair, standin, dev_issuer, new_uid
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    price = new_price(sdk)
    subscription = subscribe(sdk, customer, price)
    sync_all(standin)
    (shown,) = get_state(billing_pair, dev_issuer, new_uid).json()["subscriptions"]
    item = sdk.v1.subscriptions.retrieve(subscription)["items"].data[0]
    assert shown == {
        "id": subscription,
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_end": item.current_period_end,
        "ended_at": None,
        "items": [{"id": item.id, "price": price, "product": item.price.product, "quantity": 1}],
    }


def test_get_shows_several_newest_first_ended_ones_included(
    billing_pair, standin, dev_issuer, new_uid
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    price = new_price(sdk)
    ids = [subscribe(sdk, customer, price) for _ in range(3)]
    sdk.v1.subscriptions.cancel(ids[0])
    sdk.v1.subscriptions.update(ids[1], params={"cancel_at_period_end": True})
    sync_all(standin)
    shown = get_state(billing_pair, dev_issuer, new_uid).json()["subscriptions"]
    assert shown == stripe_state(standin, customer)
    assert {s["id"] for s in shown} == set(ids)
    by_id = {s["id"]: s for s in shown}
    assert by_id[ids[0]]["status"] == "canceled"
    ended_at = sdk.v1.subscriptions.retrieve(ids[0]).ended_at
    assert isinstance(ended_at, int) and by_id[ids[0]]["ended_at"] == ended_at
    assert by_id[ids[1]]["ended_at"] is None
    assert by_id[ids[1]]["cancel_at_period_end"] is True


def test_get_makes_no_stripe_call(billing_pair, standin, dev_issuer, new_uid):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscribe(sdk, customer, new_price(sdk))
    sync_all(standin)
    before = len(standin.requests())
    for _ in range(3):
        assert get_state(billing_pair, dev_issuer, new_uid).status_code == 200
    assert len(standin.requests()) == before


def test_get_needs_a_token_and_an_allowed_origin(billing_pair, dev_issuer, new_uid):
    assert requests.get(billing_pair.session.url, timeout=10).status_code == 401
    response = requests.get(
        billing_pair.session.url,
        headers={"Authorization": f"Bearer {dev_issuer.mint(new_uid)}", "Origin": APP_ORIGIN},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    evil = requests.get(
        billing_pair.session.url,
        headers={
            "Authorization": f"Bearer {dev_issuer.mint(new_uid)}",
            "Origin": "https://evil.test",
        },
        timeout=10,
    )
    assert evil.status_code == 403


def test_a_deep_link_into_a_synced_subscription_is_checked_without_stripe(
    billing_pair, standin, dev_issuer, new_uid
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, customer, new_price(sdk))
    sync_all(standin)
    flow = {"type": "subscription_cancel", "subscription": subscription}
    response = billing_pair.session.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text
    assert standin.requests(path_prefix=f"/v1/subscriptions/{subscription}") == []


def test_a_deep_link_the_state_does_not_know_falls_back_to_one_stripe_read(
    billing_pair, standin, dev_issuer, new_uid
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, customer, new_price(sdk))  # its event is not delivered
    flow = {"type": "subscription_cancel", "subscription": subscription}
    response = billing_pair.session.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text
    assert len(standin.requests(path_prefix=f"/v1/subscriptions/{subscription}")) == 1


def test_another_users_subscription_is_404_even_when_synced(
    billing_pair, standin, dev_issuer, new_uid
):
    other = f"{new_uid}-other"
    theirs = customer_of_user(billing_pair, dev_issuer, standin, other)
    customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, theirs, new_price(sdk))
    sync_all(standin)
    flow = {"type": "subscription_cancel", "subscription": subscription}
    response = billing_pair.session.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "subscription_not_found"


@pytest.fixture(scope="module")
def other_instance(function_factory, billing_pair):
    """A second instance of the session function: nothing of the tests' users in its cache."""
    return function_factory("billing-session-2", CUSTOMERS_COLLECTION=billing_pair.collection)


def test_customer_deleted_clears_the_state_and_the_next_session_is_the_next_generation(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, other_instance
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscribe(sdk, customer, new_price(sdk))
    sync_all(standin)
    standin.delete_customer(customer)  # as in the Dashboard
    sync_all(standin)  # subscription deleted, customer.deleted
    assert get_state(billing_pair, dev_issuer, new_uid).json() == {
        "subscriptions": [],
        "entitlements": [],
    }
    mapping = (
        firestore_db.collection(billing_pair.collection).document(document_id(new_uid)).get()
    ).to_dict()
    assert mapping["deleted_customer_id"] == customer
    before = len(standin.requests(path_prefix="/v1/billing_portal/sessions"))
    response = other_instance.post(dev_issuer.mint(new_uid))
    assert response.status_code == 200, response.text
    sessions = standin.requests(path_prefix="/v1/billing_portal/sessions")[before:]
    assert [s["status"] for s in sessions] == [200]  # no failed attempt on the deleted one
    replacement = [c for c in customers_of(standin, new_uid) if not c.get("deleted")]
    assert len(replacement) == 1 and replacement[0]["id"] != customer
    assert sessions[0]["params"]["customer"] == replacement[0]["id"]
    # The instance that still caches the deleted customer heals through the session path.
    assert billing_pair.session.post(dev_issuer.mint(new_uid)).status_code == 200
    assert len([c for c in customers_of(standin, new_uid) if not c.get("deleted")]) == 1


def test_a_quantity_change_of_a_synced_item_is_bounded_by_its_price_without_stripe(
    billing_pair, function_factory, standin, dev_issuer, new_uid
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    price = new_price(sdk)
    subscription = new_subscription(sdk, customer, price)
    sync_all(standin)
    # a session function of the same deployment, told that this price's quantity is 1 to 5
    selling = function_factory(
        "selling", CUSTOMERS_COLLECTION=billing_pair.collection, PORTAL_PRICES=f"{price}:1-5"
    )
    item = subscription["items"]["data"][0]["id"]
    for quantity, status in ((5, 200), (6, 400)):
        flow = {
            "type": "subscription_update_confirm",
            "subscription": subscription["id"],
            "items": [{"id": item, "quantity": quantity}],
        }
        response = selling.post(dev_issuer.mint(new_uid), {"flow": flow})
        assert response.status_code == status, f"x{quantity}: {response.text}"
    assert standin.requests(path_prefix=f"/v1/subscriptions/{subscription['id']}") == [], (
        "the item's price came from Stripe, not from the synced state"
    )
