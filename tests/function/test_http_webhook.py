"""The `stripe_webhook` entry point over real HTTP: signatures, order, duplicates, concurrency.

The webhook function runs as its own functions-framework process beside a session function of
the same deployment (one mapping collection); events come from the Stripe stand-in, which
records one for every change and delivers them signed (held and replayed in chosen orders here).
"""

from __future__ import annotations

import itertools
import json
import time

import pytest
import requests

from billing_portal.billing_state import summarize_all
from billing_portal.customers import document_id
from local.stripe.webhook_endpoints import signature_header
from tests.function.conftest import WEBHOOK_SECRET, customers_of
from tests.support.stripe_objects import monthly_price
from tests.support.stripe_objects import subscribe as new_subscription

pytestmark = pytest.mark.integration


# --- helpers -------------------------------------------------------------------------------


def post_event(pair, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return requests.post(pair.webhook.url, data=body, headers=headers, timeout=30)


def signed_post(pair, event: dict, secret: str = WEBHOOK_SECRET) -> requests.Response:
    body = json.dumps(event).encode()
    return post_event(pair, body, signature_header(body, secret))


def customer_of_user(pair, issuer, standin, uid: str) -> str:
    """The user's customer, created the normal way: the user opens the portal once."""
    assert pair.session.post(issuer.mint(uid)).status_code == 200
    return customers_of(standin, uid)[0]["id"]


def new_price(sdk) -> str:
    return monthly_price(sdk)


def subscribe(sdk, customer: str, price: str) -> str:
    return new_subscription(sdk, customer, price)["id"]


def stripe_state(standin, customer: str) -> list[dict]:
    """The customer's subscriptions as Stripe (the stand-in) has them, in the GET shape."""
    return summarize_all([s for s in standin.subscriptions() if s["customer"] == customer])


def stored_state(firestore_db, pair, uid: str) -> dict | None:
    ref = (
        firestore_db.collection(pair.collection)
        .document(document_id(uid))
        .collection("billing")
        .document("state")
    )
    snapshot = ref.get()
    return snapshot.to_dict() if snapshot.exists else None


def get_state(pair, issuer, uid: str) -> requests.Response:
    return requests.get(
        pair.session.url, headers={"Authorization": f"Bearer {issuer.mint(uid)}"}, timeout=30
    )


def raw_event(standin, event_id: str) -> dict:
    """An event as the API returns it (plain JSON, as Stripe sends it)."""
    response = requests.get(
        f"{standin.url}/v1/events/{event_id}",
        headers={"Authorization": f"Bearer {standin.test_key}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def held_ids(standin) -> list[str]:
    return [held["event"] for held in standin.held_webhooks()]


@pytest.fixture
def subscribed(standin, billing_pair, dev_issuer, new_uid):
    """A user with a customer and one subscription; its events are held, not delivered."""
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, customer, new_price(sdk))
    return new_uid, customer, subscription


# --- signatures ----------------------------------------------------------------------------


def _sign_two(body: bytes) -> str:
    good = signature_header(body, WEBHOOK_SECRET)
    bad = signature_header(body, "whsec_theOldSecretBeingRolled000")
    t, v1_good = good.split(",")
    return f"{t},{bad.split(',')[1]},{v1_good}"


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("wrong secret", lambda b: (b, signature_header(b, "whsec_notTheEndpointSecret0000"))),
        ("tampered body", lambda b: (b.replace(b"customer", b"Customer", 1), None)),
        ("stale", lambda b: (b, signature_header(b, WEBHOOK_SECRET, int(time.time()) - 301))),
        ("missing header", lambda b: (b, "")),
        ("malformed header", lambda b: (b, "t=soon,v1=")),
        ("no v1", lambda b: (b, signature_header(b, WEBHOOK_SECRET).replace("v1=", "v0="))),
    ],
)
def test_an_unverified_event_is_400_and_nothing_is_read_or_written(
    billing_pair, standin, subscribed, firestore_emulator, case, make
):
    (event_id,) = held_ids(standin)[-1:]
    event = raw_event(standin, event_id)
    body = json.dumps(event).encode()
    sent, signature = make(body)
    if signature is None:  # signed before the tampering
        signature = signature_header(body, WEBHOOK_SECRET)
    before_stripe = len(standin.requests())
    before_firestore = firestore_emulator.stats()
    response = post_event(billing_pair, sent, signature or None)
    assert response.status_code == 400, case
    assert response.json()["error"]["code"] == "invalid_signature"
    assert len(standin.requests()) == before_stripe, "Stripe was called"
    assert firestore_emulator.stats() == before_firestore, "Firestore was used"


def test_a_valid_signature_writes_the_state(billing_pair, standin, subscribed, firestore_db):
    uid, customer, subscription = subscribed
    (event_id,) = [i for i in held_ids(standin)][-1:]
    (result,) = standin.deliver_events([event_id])
    assert result["status"] == 200, result
    state = stored_state(firestore_db, billing_pair, uid)
    assert state["customer"] == customer and state["uid"] == uid
    assert [s["id"] for s in state["subscriptions"]] == [subscription]


def test_a_completed_checkout_recorded_by_the_stand_in_writes_the_state(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": new_price(sdk), "quantity": 1}],
            "success_url": "https://app.example.test/?checkout_session={CHECKOUT_SESSION_ID}",
            "client_reference_id": new_uid,
        }
    )
    standin.complete_checkout_session(session.id)
    # Only the session's event is delivered (the subscription's own stays held): it alone brings
    # the new subscription into the state.
    (completed,) = [
        held["event"]
        for held in standin.held_webhooks()
        if held["type"] == "checkout.session.completed"
    ]
    (result,) = standin.deliver_events([completed])
    assert result["status"] == 200, result
    stored = stored_state(firestore_db, billing_pair, new_uid)
    assert stored is not None and stored["subscriptions"] == stripe_state(standin, customer)
    assert [s["status"] for s in stored["subscriptions"]] == ["active"]


def test_two_v1_signatures_one_valid_is_accepted(billing_pair, standin, subscribed):
    event = raw_event(standin, held_ids(standin)[-1])
    body = json.dumps(event).encode()
    response = post_event(billing_pair, body, _sign_two(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True}


# --- what is acted on ----------------------------------------------------------------------


def test_an_event_of_the_other_mode_is_400_mode_mismatch(billing_pair, standin, subscribed):
    event = raw_event(standin, held_ids(standin)[-1])
    event["livemode"] = True
    response = signed_post(billing_pair, event)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "mode_mismatch"


def test_an_unhandled_type_is_200_ignored(billing_pair, standin):
    event = {
        "id": "evt_x",
        "object": "event",
        "type": "invoice.paid",
        "livemode": False,
        "data": {"object": {"object": "invoice", "customer": "cus_Whatever00001"}},
    }
    response = signed_post(billing_pair, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "ignored": "unhandled_type"}


def test_a_customer_this_deployment_did_not_create_is_200_ignored_and_logged(
    billing_pair, standin, firestore_db
):
    sdk = standin.client()
    price = new_price(sdk)
    stranger = sdk.v1.customers.create().id  # no app_user_id: another app's customer
    impostor = sdk.v1.customers.create(params={"metadata": {"app_user_id": "nobody-here"}}).id
    subscribe(sdk, stranger, price)
    subscribe(sdk, impostor, price)
    results = standin.deliver_events(held_ids(standin)[-2:])
    assert [r["status"] for r in results] == [200, 200]
    assert [json.loads(r["body"])["ignored"] for r in results] == ["unknown_customer"] * 2
    assert stored_state(firestore_db, billing_pair, "nobody-here") is None
    lines = [
        line
        for line in billing_pair.webhook.log_lines()
        if line.get("ignored") == "unknown_customer"
    ]
    assert lines and lines[-1]["severity"] == "WARNING"


# --- order, duplicates, concurrency --------------------------------------------------------


def test_events_in_every_order_and_twice_leave_stripes_state(
    billing_pair, standin, subscribed, firestore_db
):
    uid, customer, subscription = subscribed
    sdk = standin.client()
    other_price = new_price(sdk)
    item = sdk.v1.subscriptions.retrieve(subscription)["items"].data[0].id
    sdk.v1.subscriptions.update(subscription, params={"cancel_at_period_end": True})
    sdk.v1.subscriptions.update(
        subscription, params={"items": [{"id": item, "price": other_price}]}
    )
    sdk.v1.subscriptions.cancel(subscription)
    events = [
        e["event"] for e in standin.held_webhooks() if e["type"].startswith("customer.subscription")
    ]
    assert len(events) == 4
    expected = stripe_state(standin, customer)
    assert expected[0]["status"] == "canceled"
    for order in itertools.permutations(events):
        results = standin.deliver_events([*order, *order])
        assert {r["status"] for r in results} == {200}
        assert stored_state(firestore_db, billing_pair, uid)["subscriptions"] == expected, order


def test_a_late_event_never_brings_back_an_older_state(
    billing_pair, standin, subscribed, firestore_db
):
    uid, _, subscription = subscribed
    created = held_ids(standin)[-1]
    standin.client().v1.subscriptions.update(subscription, params={"cancel_at_period_end": True})
    updated = held_ids(standin)[-1]
    standin.deliver_events([updated, created])  # the older event arrives last
    (state,) = stored_state(firestore_db, billing_pair, uid)["subscriptions"]
    assert state["cancel_at_period_end"] is True


def test_fifty_concurrent_deliveries_of_interleaved_events(
    billing_pair, standin, dev_issuer, firestore_db
):
    sdk = standin.client()
    price = new_price(sdk)
    users = [f"user-burst-{n}-{time.time_ns()}" for n in range(3)]
    customers = [customer_of_user(billing_pair, dev_issuer, standin, uid) for uid in users]
    for customer in customers:
        first, second = subscribe(sdk, customer, price), subscribe(sdk, customer, price)
        sdk.v1.subscriptions.update(first, params={"cancel_at_period_end": True})
        sdk.v1.subscriptions.update(
            second,
            params={
                "items": [
                    {"id": sdk.v1.subscriptions.retrieve(second)["items"].data[0].id, "quantity": 3}
                ]
            },
        )
        sdk.v1.subscriptions.cancel(first)
    events = [e["event"] for e in standin.held_webhooks()]
    burst = list(itertools.islice(itertools.cycle(reversed(events)), 50))
    results = standin.deliver_events(burst, parallel=True)
    assert [r["status"] for r in results] == [200] * 50, [r for r in results if r["status"] != 200]
    for uid, customer in zip(users, customers, strict=True):
        stored = stored_state(firestore_db, billing_pair, uid)
        assert stored["subscriptions"] == stripe_state(standin, customer)


def test_delivered_as_stripe_delivers_them_the_state_follows(
    billing_pair, standin, dev_issuer, new_uid
):
    standin.hold_webhooks(False)
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, customer, new_price(sdk))
    sdk.v1.subscriptions.update(subscription, params={"cancel_at_period_end": True})
    assert standin.wait_webhooks(30)
    assert all(d["status"] == 200 for d in standin.webhook_deliveries())
    response = get_state(billing_pair, dev_issuer, new_uid)
    assert response.json()["subscriptions"] == stripe_state(standin, customer)


# --- failures ------------------------------------------------------------------------------


def test_firestore_down_is_5xx_and_the_redelivery_succeeds(
    billing_pair, standin, subscribed, firestore_emulator, firestore_db
):
    uid, customer, _ = subscribed
    event = held_ids(standin)[-1]
    firestore_emulator.fail_next("Commit", count=1, code=7)  # PERMISSION_DENIED: not retried
    (failed,) = standin.deliver_events([event])
    assert failed["status"] >= 500, failed
    assert stored_state(firestore_db, billing_pair, uid) is None
    (again,) = standin.deliver_events([event])
    assert again["status"] == 200
    assert stored_state(firestore_db, billing_pair, uid)["subscriptions"] == stripe_state(
        standin, customer
    )


def test_firestore_unreachable_is_503(billing_pair, standin, subscribed, firestore_emulator):
    event = held_ids(standin)[-1]
    firestore_emulator.fail_next("Commit", count=1000, code=14)  # UNAVAILABLE until the deadline
    try:
        (failed,) = standin.deliver_events([event])
    finally:
        firestore_emulator.fail_next("Commit", count=0)  # count 0 withdraws the fault
    assert failed["status"] == 503
    assert json.loads(failed["body"])["error"]["code"] == "datastore_unavailable"


def test_stripe_down_is_5xx_so_stripe_retries(billing_pair, standin, subscribed):
    event = held_ids(standin)[-1]
    standin.inject_fault(count=10, status=500, path_prefix="/v1/subscriptions", method="GET")
    try:
        (failed,) = standin.deliver_events([event])
    finally:
        standin.clear_faults()
    assert failed["status"] == 502
    assert standin.deliver_events([event])[0]["status"] == 200


def test_a_failed_delivery_is_retried_automatically(
    billing_pair, standin, subscribed, firestore_emulator, firestore_db
):
    uid, customer, _ = subscribed
    standin.forward_webhooks(billing_pair.webhook.url, secret=WEBHOOK_SECRET, retry_delay_ms=100)
    standin.discard_held_webhooks()
    standin.hold_webhooks(False)
    firestore_emulator.fail_next("Commit", count=1, code=7)
    standin.client().v1.subscriptions.update(
        stripe_state(standin, customer)[0]["id"], params={"metadata": {"k": "v"}}
    )
    assert standin.wait_webhooks(30)
    assert [d["status"] >= 500 for d in standin.webhook_deliveries()] == [True, False]
    assert stored_state(firestore_db, billing_pair, uid)["subscriptions"] == stripe_state(
        standin, customer
    )


def test_an_event_costs_two_stripe_lists_of_each_two_mapping_reads_and_one_write(
    billing_pair, standin, subscribed, firestore_emulator
):
    # The design's calls: the mapping and Stripe's lists (subscriptions, active entitlements) to
    # write from, all again to verify.
    # (A second read of the mapping before the first write would be work done twice.)
    (event_id,) = held_ids(standin)[-1:]
    lists_before = len(standin.requests(path_prefix="/v1/subscriptions", method="GET"))
    entitlements = "/v1/entitlements/active_entitlements"
    entitlement_lists_before = len(standin.requests(path_prefix=entitlements, method="GET"))
    calls_before = firestore_emulator.stats()
    (result,) = standin.deliver_events([event_id])
    assert result["status"] == 200, result
    calls = {
        name: count - calls_before.get(name, 0)
        for name, count in firestore_emulator.stats().items()
        if count != calls_before.get(name, 0)
    }
    lists = len(standin.requests(path_prefix="/v1/subscriptions", method="GET")) - lists_before
    assert lists == 2, lists
    entitlement_lists = len(standin.requests(path_prefix=entitlements, method="GET"))
    assert entitlement_lists - entitlement_lists_before == 2
    assert calls == {"BatchGetDocuments": 2, "Commit": 1}, calls
