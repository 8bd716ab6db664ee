"""Attacks on the webhook's `checkout.session.completed` (issue 21's review), over real HTTP.

The event's body names a customer, a `client_reference_id`, a subscription: none of it is
trusted. Whatever a signed body says, the state written is the state of the user who owns the
named customer (by the mapping), rebuilt from Stripe; a body naming no customer of this
deployment changes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.function.test_http_webhook import (
    customer_of_user,
    new_price,
    raw_event,
    signed_post,
    stored_state,
    stripe_state,
)

pytestmark = pytest.mark.integration


def paid_checkout(standin, customer: str, uid: str, price: str) -> dict[str, Any]:
    """A session of `customer` paid on the stand-in's page; its held completed event."""
    session = standin.client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": "https://app.example.test/?checkout_session={CHECKOUT_SESSION_ID}",
            "client_reference_id": uid,
        }
    )
    standin.complete_checkout_session(session.id)
    events = [
        raw_event(standin, held["event"])
        for held in standin.held_webhooks()
        if held["type"] == "checkout.session.completed"
    ]
    (event,) = [e for e in events if e["data"]["object"]["id"] == session.id]
    return event


def forged(event: dict[str, Any], suffix: str, **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["id"] = f"{event['id']}{suffix}"
    changed["data"]["object"].update(fields)
    return changed


def test_a_completed_event_naming_the_victim_as_client_reference_id_writes_only_the_owner(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    victim, attacker = "v-" + new_uid, new_uid
    sdk = standin.client()
    price = new_price(sdk)
    victims_customer = customer_of_user(billing_pair, dev_issuer, standin, victim)
    attackers_customer = customer_of_user(billing_pair, dev_issuer, standin, attacker)
    event = paid_checkout(standin, victims_customer, victim, price)
    # the attacker's customer, the victim's user id and subscription in the body
    hostile = forged(
        event, "x1", customer=attackers_customer, client_reference_id=victim, metadata={}
    )
    answer = signed_post(billing_pair, hostile)
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, victim) is None, "the victim's state written"
    attackers = stored_state(firestore_db, billing_pair, attacker)
    assert attackers is not None and attackers["subscriptions"] == [], (
        "the attacker's state holds what the body said, not what Stripe has"
    )


def test_a_completed_event_naming_the_victims_customer_rebuilds_the_victim_from_stripe(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    victim, attacker = "v-" + new_uid, new_uid
    sdk = standin.client()
    victims_customer = customer_of_user(billing_pair, dev_issuer, standin, victim)
    customer_of_user(billing_pair, dev_issuer, standin, attacker)
    event = paid_checkout(standin, victims_customer, victim, new_price(sdk))
    hostile = forged(
        event,
        "x2",
        client_reference_id=attacker,
        subscription="sub_forged000001",
        status="open",
        mode="payment",
        amount_total=0,
    )
    answer = signed_post(billing_pair, hostile)
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, attacker) is None
    stored = stored_state(firestore_db, billing_pair, victim)
    assert stored is not None
    assert stored["subscriptions"] == stripe_state(standin, victims_customer)
    assert [s["status"] for s in stored["subscriptions"]] == ["active"]


@pytest.mark.parametrize(
    "fields",
    [
        {"customer": None},
        {"customer": "cus_NotOfThisDeployment1"},
        {"customer": {"id": "cus_NotOfThisDeployment2", "object": "customer"}},
    ],
)
def test_a_completed_event_without_a_customer_of_this_deployment_writes_nothing(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, fields
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    event = paid_checkout(standin, customer, new_uid, new_price(standin.client()))
    answer = signed_post(billing_pair, forged(event, "x3", **fields))
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, new_uid) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"customer": 7},
        {"customer": ["cus_a"]},
        {"customer": "cus_a\n"},
        {"object": "subscription"},
    ],
)
def test_a_completed_event_of_a_shape_not_stripes_is_400_never_5xx(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, fields
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    event = paid_checkout(standin, customer, new_uid, new_price(standin.client()))
    answer = signed_post(billing_pair, forged(event, "x4", **fields))
    assert answer.status_code == 400, answer.text
    assert stored_state(firestore_db, billing_pair, new_uid) is None
