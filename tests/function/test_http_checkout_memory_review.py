"""Review attacks on the checkout's remembered state (`BillingState.last_read`) over real HTTP.

The function as a real server, the real Firestore emulator and the Stripe stand-in. The change
lets `POST /checkout` use the state this instance read for the page (its `GET`) when that state
showed no plan; Stripe's list read beside the create must still decide. Each test is one way a
remembered state could hand out a session to a subscriber, refuse a user whose plan ended, or
leave a half-written state, and shows that it does not.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.function.conftest import customers_of
from tests.function.test_http_checkout import (
    checkout,
    one_key_window,  # noqa: F401 (a fixture)
    open_sessions,
    returned,
    sessions_of,
    started,
    state_of,
    state_written_elsewhere,
    stripe_requests,
)
from tests.function.test_http_checkout import subscribed as paid
from tests.function.test_http_webhook import (
    customer_of_user,
    held_ids,
    new_price,
    stored_state,
)
from tests.function.test_http_webhook import subscribe as webhook_subscribe
from tests.support.stripe_objects import monthly_price

pytestmark = pytest.mark.integration

ENTITLEMENTS_PATH = "/v1/entitlements/active_entitlements"


@pytest.fixture(scope="module")
def catalog(stripe_standin) -> dict[str, str]:
    client = stripe_standin.client()
    return {"team": monthly_price(client, 2900), "solo": monthly_price(client, 900)}


@pytest.fixture(scope="module")
def server(function_factory, catalog):
    """A session function of this module's own: its remembered states start empty."""
    return function_factory(
        "checkout-memory-review", CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}"
    )


def customer_id(standin, uid: str) -> str:
    (customer,) = customers_of(standin, uid)
    return customer["id"]


def test_a_plan_paid_after_the_page_read_none_is_409_with_no_open_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Remembered "no plan", Stripe has one, no state was written anywhere: Stripe decides."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []  # the page's GET: remembered, no plan
    stripe_standin.complete_checkout_session(first["id"])  # paid in another tab
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, f"POST /checkout after paying: {answer.text}"
    assert "url" not in answer.json()
    assert open_sessions(stripe_standin, customer_id(stripe_standin, new_uid)) == [], (
        "POST /checkout left a session open for a subscriber"
    )


def test_a_return_sync_after_the_page_read_none_makes_the_next_checkout_409_from_the_state(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """This instance's write forgets what it read: the next check reads the synced plan."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []
    stripe_standin.complete_checkout_session(first["id"])
    back = returned(server, dev_issuer, new_uid, f"checkout_session={first['id']}")
    assert back.status_code == 200, f"GET ?checkout_session=: {back.text}"
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, f"POST /checkout after the return: {answer.text}"
    assert stripe_requests(stripe_standin) == before, (
        "POST /checkout after the return sync asked Stripe: the remembered 'no plan' survived"
    )


def test_gets_racing_a_return_sync_never_let_a_checkout_hand_out_a_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """GETs in flight while the return writes may put an old "no plan" back in memory; the
    checkout after them still meets Stripe's list."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []
    stripe_standin.complete_checkout_session(first["id"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        gets = [pool.submit(state_of, server, dev_issuer, new_uid) for _ in range(12)]
        back = pool.submit(returned, server, dev_issuer, new_uid, f"checkout_session={first['id']}")
        gets += [pool.submit(state_of, server, dev_issuer, new_uid) for _ in range(12)]
        assert back.result().status_code == 200, back.result().text
        for get in gets:
            get.result()
    answers = [checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]}) for _ in range(2)]
    for answer in answers:
        assert answer.status_code == 409, f"POST /checkout after racing GETs: {answer.text}"
    assert open_sessions(stripe_standin, customer_id(stripe_standin, new_uid)) == []


def test_parallel_checkouts_after_paying_all_refuse_and_leave_no_session_open(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []
    stripe_standin.complete_checkout_session(first["id"])
    bodies = [{"price": catalog["team"], "quantity": q} for q in (1, 2, 3, 1, 2, 3)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda b: checkout(server, dev_issuer, new_uid, b), bodies))
    for body, answer in zip(bodies, answers, strict=True):
        assert answer.status_code == 409, f"parallel POST /checkout {body}: {answer.text}"
    assert open_sessions(stripe_standin, customer_id(stripe_standin, new_uid)) == []


def test_a_plan_ended_in_the_key_window_then_the_same_request_is_a_new_open_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The key is built from the remembered (unsynced, empty) state, so it is the paid
    session's key: its replay must not be answered, and the user is not wrongly refused."""
    first = paid(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    customer = customer_id(stripe_standin, new_uid)
    (subscription,) = (
        stripe_standin.client().v1.subscriptions.list(params={"customer": customer}).data
    )
    stripe_standin.client().v1.subscriptions.cancel(subscription.id)
    assert state_of(server, dev_issuer, new_uid) == []  # never synced here: remembered, none
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 200, f"POST /checkout after the plan ended: {answer.text}"
    assert answer.json()["id"] != first, "the paid session's replay was handed out"
    assert [s["id"] for s in open_sessions(stripe_standin, customer)] == [answer.json()["id"]]


def test_a_failed_entitlements_list_in_a_return_sync_is_a_json_5xx_and_writes_no_state(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []
    before = stored_state(firestore_db, server, new_uid)
    stripe_standin.complete_checkout_session(first["id"])
    stripe_standin.inject_fault(count=20, status=500, method="GET", path_prefix=ENTITLEMENTS_PATH)
    try:
        back = returned(server, dev_issuer, new_uid, f"checkout_session={first['id']}")
    finally:
        stripe_standin.clear_faults()
    assert back.status_code >= 500, f"GET ?checkout_session= with entitlements 500: {back.text}"
    assert back.json()["error"]["code"], back.text
    assert stored_state(firestore_db, server, new_uid) == before, "a half state was written"


def test_a_failed_entitlements_list_never_lets_a_subscriber_get_a_checkout_session(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    """The 409's sync (best effort) fails on the entitlements list: still 409, no session,
    and the state is not written half (subscriptions without entitlements)."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []
    before = stored_state(firestore_db, server, new_uid)
    stripe_standin.complete_checkout_session(first["id"])
    stripe_standin.inject_fault(count=20, status=500, method="GET", path_prefix=ENTITLEMENTS_PATH)
    try:
        answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    finally:
        stripe_standin.clear_faults()
    assert answer.status_code == 409, f"POST /checkout with entitlements 500: {answer.text}"
    assert "url" not in answer.json()
    assert open_sessions(stripe_standin, customer_id(stripe_standin, new_uid)) == []
    assert stored_state(firestore_db, server, new_uid) == before, "a half state was written"


def test_one_users_remembered_no_plan_never_answers_for_another_user(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """User B's page read "no plan"; user A (a subscriber whose state says so) checks out."""
    other = new_uid + "-other"
    first = paid(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert returned(server, dev_issuer, new_uid, f"checkout_session={first}").status_code == 200
    assert state_of(server, dev_issuer, other) == []  # B's page: no plan, remembered
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, f"POST /checkout of the subscriber: {answer.text}"
    assert stripe_requests(stripe_standin) == before
    assert all(
        s["status"] != "open"
        for s in sessions_of(stripe_standin, customer_id(stripe_standin, new_uid))
        if s["id"] != first
    )


@pytest.mark.usefixtures("one_key_window")
def test_a_visitor_who_cancelled_and_clicks_again_gets_the_session_already_open(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    """checkout.py's promise for the key's window: "a visitor who cancelled and clicks again
    gets the session already open". Here the webhook's instance synced an ended plan between
    the page's first load and the click; the visitor cancels on Stripe's page, which reloads
    the page (a GET: now the synced state) and clicks again. The first click's key was made
    from the remembered state (no subscriptions), the second from the synced one: two keys."""
    first = paid(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    customer = customer_id(stripe_standin, new_uid)
    stripe = stripe_standin.client()
    (subscription,) = stripe.v1.subscriptions.list(params={"customer": customer}).data
    stripe.v1.subscriptions.cancel(subscription.id)  # the plan ended
    assert state_of(server, dev_issuer, new_uid) == []  # the page's load: nothing synced yet
    # the webhook's instance syncs the ended plan (this instance does not know)
    state_written_elsewhere(firestore_db, server, stripe_standin, new_uid)
    click = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert click.status_code == 200, f"first POST /checkout: {click.text}"
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["canceled"]
    again = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert again.status_code == 200, f"second POST /checkout: {again.text}"
    assert again.json()["id"] == click.json()["id"], (
        "POST /checkout again after cancelling on Stripe's page opened a second session"
    )
    assert first != click.json()["id"]


def test_a_remembered_state_of_a_customer_deleted_since_never_answers_for_its_replacement(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The page read the old customer's state (no plan); the customer is deleted in Stripe and
    the checkout re-creates it: the session is the new customer's, and an open one."""
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    old = customer_id(stripe_standin, new_uid)
    assert state_of(server, dev_issuer, new_uid) == []  # remembered: the old customer's
    stripe_standin.client().v1.customers.delete(old)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 200, (
        f"POST /checkout after the customer was deleted: {answer.text}"
    )
    (session,) = [s for s in stripe_standin.checkout_sessions() if s["id"] == answer.json()["id"]]
    assert session["customer"] != old, "POST /checkout opened a session for the deleted customer"
    assert session["status"] == "open"


def test_a_subscriber_whose_customer_was_replaced_is_409_from_the_new_customers_list(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The remembered state is the deleted customer's (no plan); the replacement customer
    subscribes; the next checkout is 409 with no session open for it."""
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    old = customer_id(stripe_standin, new_uid)
    assert state_of(server, dev_issuer, new_uid) == []
    stripe_standin.client().v1.customers.delete(old)
    replacement = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
    stripe_standin.complete_checkout_session(replacement["id"])
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 409, (
        f"POST /checkout of the new customer's subscriber: {answer.text}"
    )
    new = [c["id"] for c in customers_of(stripe_standin, new_uid) if c["id"] != old]
    for customer in new:
        assert open_sessions(stripe_standin, customer) == []


# --- last: the webhook's fixture resets the stand-in (this module's prices with it) ---


@pytest.fixture
def webhook_user(standin, billing_pair, dev_issuer, new_uid) -> str:
    """A user with a customer and one subscription; its events are held, not delivered."""
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    webhook_subscribe(sdk, customer, new_price(sdk))
    return new_uid


def test_a_webhook_delivery_whose_entitlements_list_fails_is_5xx_and_writes_no_half_state(
    billing_pair, standin, webhook_user, firestore_db
):
    """The webhook's sync reads the entitlements list beside the subscriptions list: its
    failure fails the delivery (Stripe retries), the state keeps what it had, and the
    redelivery writes the whole state."""
    uid = webhook_user
    event = held_ids(standin)[-1]
    before = stored_state(firestore_db, billing_pair, uid)
    standin.inject_fault(count=10, status=500, path_prefix=ENTITLEMENTS_PATH, method="GET")
    try:
        (failed,) = standin.deliver_events([event])
    finally:
        standin.clear_faults()
    assert failed["status"] >= 500, f"webhook delivery with entitlements 500: {failed}"
    assert stored_state(firestore_db, billing_pair, uid) == before, "a half state was written"
    assert standin.deliver_events([event])[0]["status"] == 200
    assert stored_state(firestore_db, billing_pair, uid)["subscriptions"], "redelivery wrote none"
