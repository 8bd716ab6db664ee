"""Checkout over real HTTP: `POST /checkout`, the return (`GET ?checkout_session=`), `GET /plans`.

The function as a real server, the real Firestore emulator and the Stripe stand-in, whose request
log says what reached Stripe. The attacks come first: a request that cannot succeed reaches no
Stripe endpoint that writes (most reach none at all), and a session that is not the caller's is
the same 404 whatever it is. No test here resets the stand-in: the catalog's prices are made once
for the module, and every test has its own user.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from billing_portal.billing_state import BillingState, Sources, summarize_all
from billing_portal.checkout import (
    CHECKOUT_KEY_WINDOW_SECONDS,
    REPLAYS_PER_WINDOW,
    RETURN_SYNC_INTERVAL_SECONDS,
)
from tests.function.conftest import APP_ORIGIN, DEFAULT_RETURN_URL, customers_of
from tests.function.test_http_webhook import stored_state
from tests.support.stripe_objects import monthly_price

pytestmark = pytest.mark.integration


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(stripe_standin) -> dict[str, str]:
    """What the stack sells: `team` (quantity 1–25), `solo` (quantity 1); and a price of the
    same account it does not sell."""
    client = stripe_standin.client()
    return {
        "team": monthly_price(client, 2900),
        "solo": monthly_price(client, 900),
        "unsold": monthly_price(client, 100),
    }


@pytest.fixture(scope="module")
def server(function_factory, catalog):
    """A session function told the stack's checkout catalog (and no portal catalog)."""
    return function_factory("checkout", CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}")


def checkout(server, issuer, uid: str, body: Any, **headers: str) -> requests.Response:
    sent = {"Authorization": f"Bearer {issuer.mint(uid)}", **headers}
    if body is not None:
        sent["Content-Type"] = "application/json"
        return server.session.post(server.url + "checkout", json=body, headers=sent, timeout=30)
    return server.session.post(server.url + "checkout", headers=sent, timeout=30)


def returned(server, issuer, uid: str, query: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {issuer.mint(uid)}"}
    return server.session.get(f"{server.url}?{query}", headers=headers, timeout=30)


def state_of(server, issuer, uid: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {issuer.mint(uid)}"}
    answer = server.session.get(server.url, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["subscriptions"]


def stripe_requests(standin) -> int:
    return len(standin.requests())


def stripe_writes(standin) -> list[str]:
    return [r["path"] for r in standin.requests() if r["method"] in ("POST", "DELETE")]


def sessions_of(standin, customer: str) -> list[dict]:
    return [s for s in standin.checkout_sessions() if s["customer"] == customer]


@pytest.fixture
def one_key_window() -> None:
    """A test that expects clicks to share a key starts at least `KEY_WINDOW_MARGIN` seconds
    before the key window's edge (the server's clock is this machine's), so it never straddles
    one: a double click across an edge is two sessions by design."""
    left = CHECKOUT_KEY_WINDOW_SECONDS - time.time() % CHECKOUT_KEY_WINDOW_SECONDS
    if left < KEY_WINDOW_MARGIN:
        time.sleep(left + 0.5)


KEY_WINDOW_MARGIN = 30.0


def started(server, issuer, standin, uid: str, price: str, **body: Any) -> dict:
    """A checkout the caller started: `{url, id}`."""
    answer = checkout(server, issuer, uid, {"price": price, **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def subscribed(server, issuer, standin, uid: str, price: str) -> str:
    """The caller checks out and pays on the stand-in's Checkout page; the session id."""
    session = started(server, issuer, standin, uid, price)
    standin.complete_checkout_session(session["id"])
    return session["id"]


# --- attacks: nothing the stack does not sell ----------------------------------------------


@pytest.mark.parametrize("which", ["unsold", "made up"])
def test_a_price_the_stack_does_not_sell_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, catalog, new_uid, which
):
    price = catalog["unsold"] if which == "unsold" else "price_NotInThisAccount1"
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": price})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "price_not_allowed"
    assert stripe_requests(stripe_standin) == before, "Stripe was asked"
    assert customers_of(stripe_standin, new_uid) == [], "a customer was created"


@pytest.mark.parametrize(
    ("which", "quantity"),
    [("team", 26), ("team", 0), ("team", -1), ("solo", 2), ("team", 2.5), ("team", True)],
)
def test_a_quantity_outside_the_stacks_bounds_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, catalog, new_uid, which, quantity
):
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog[which], "quantity": quantity})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_quantity"
    assert stripe_requests(stripe_standin) == before


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example/phish",
        "javascript:alert(1)",
        f"https://user@{APP_ORIGIN.removeprefix('https://')}/x",
        f"{APP_ORIGIN}.evil.example/",
        f"{APP_ORIGIN}\\@evil.example/",
        "http://app.example.test/settings",
    ],
)
def test_a_hostile_return_url_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, catalog, new_uid, return_url
):
    before = stripe_requests(stripe_standin)
    body = {"price": catalog["team"], "return_url": return_url}
    answer = checkout(server, dev_issuer, new_uid, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "return_url_not_allowed"
    assert stripe_requests(stripe_standin) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "invalid_request"),
        ({}, "invalid_request"),
        ({"price": 7}, "invalid_request"),
        ({"price": "price_1\n"}, "invalid_request"),
        ({"price": "x" * 256}, "invalid_request"),
        ({"price": "PRICE", "customer": "cus_someoneElse"}, "unknown_field"),
        ({"price": "PRICE", "flow": "payment_method_update"}, "unknown_field"),
        ({"price": "PRICE", "locale": "klingon"}, "invalid_locale"),
        ({"price": "PRICE", "quantity": "2"}, "invalid_quantity"),
        ([1], "invalid_json"),
    ],
)
def test_a_malformed_body_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, catalog, new_uid, body, code
):
    if isinstance(body, dict) and body.get("price") == "PRICE":
        body = {**body, "price": catalog["team"]}
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == code
    assert stripe_requests(stripe_standin) == before


def test_checkout_needs_the_token_post_and_an_allowed_origin(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    before = stripe_requests(stripe_standin)
    url = server.url + "checkout"
    body = {"price": catalog["team"]}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    bad_token = {"Authorization": "Bearer not.a.token"}
    assert requests.post(url, json=body, headers=bad_token, timeout=30).status_code == 401
    token = {"Authorization": f"Bearer {dev_issuer.mint(new_uid)}"}
    wrong_method = requests.get(url, headers=token, timeout=30)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST, OPTIONS"
    evil = checkout(server, dev_issuer, new_uid, body, Origin="https://evil.example")
    assert evil.status_code == 403, evil.text
    assert stripe_requests(stripe_standin) == before


# --- attacks: the return names only the caller's own session -------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "checkout_session=",
        "checkout_session=sub_123",
        "checkout_session=cs_test_../../v1/customers",
        "checkout_session=cs_test_a%0a",
        "checkout_session=cs_test_" + "a" * 300,
        "checkout_session=cs_test_a&checkout_session=cs_test_b",
    ],
)
def test_a_malformed_checkout_session_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, new_uid, query
):
    before = stripe_requests(stripe_standin)
    answer = returned(server, dev_issuer, new_uid, query)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_checkout_session"
    assert stripe_requests(stripe_standin) == before


def test_another_users_checkout_session_is_404_and_nothing_is_written(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    victim = "v-" + new_uid
    victims_session = subscribed(server, dev_issuer, stripe_standin, victim, catalog["team"])
    # the attacker has a customer of their own (they opened the portal once)
    assert server.post(dev_issuer.mint(new_uid)).status_code == 200
    writes = stripe_writes(stripe_standin)
    answer = returned(server, dev_issuer, new_uid, f"checkout_session={victims_session}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "checkout_session_not_found"
    assert stripe_writes(stripe_standin) == writes, "Stripe was written to"
    assert stored_state(firestore_db, server, new_uid) is None
    # the victim's state is as their own checkout left it (none; a checkout writes no state
    # unless it finds a subscription): not synced by another user's request
    assert stored_state(firestore_db, server, victim) is None, (
        "the victim's state was synced by another user's request"
    )


def test_a_session_of_a_user_without_a_customer_is_404_without_asking_stripe(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    victims_session = subscribed(
        server, dev_issuer, stripe_standin, "v-" + new_uid, catalog["solo"]
    )
    before = stripe_requests(stripe_standin)
    answer = returned(server, dev_issuer, new_uid, f"checkout_session={victims_session}")
    assert answer.status_code == 404, answer.text
    assert stripe_requests(stripe_standin) == before
    assert customers_of(stripe_standin, new_uid) == []


def test_a_session_of_the_callers_customer_made_for_another_user_id_is_404(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    (customer,) = customers_of(stripe_standin, new_uid)
    # a session of the same customer that the function did not open for this user
    other = stripe_standin.client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer["id"],
            "line_items": [{"price": catalog["team"], "quantity": 1}],
            "success_url": DEFAULT_RETURN_URL,
            "client_reference_id": "someone-else",
        }
    )
    for session_id in (other.id, "cs_test_DoesNotExist00001"):
        answer = returned(server, dev_issuer, new_uid, f"checkout_session={session_id}")
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "checkout_session_not_found"


# --- never a second subscription -----------------------------------------------------------


def test_an_active_subscriber_per_the_synced_state_is_409_and_no_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    session = subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert returned(server, dev_issuer, new_uid, f"checkout_session={session}").status_code == 200
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"
    # the synced state answered: Stripe was not asked at all
    assert stripe_requests(stripe_standin) == before


def test_an_active_subscriber_unknown_to_the_state_is_409_from_stripe(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    # subscribed outside the function (no return, no webhook): the state does not know
    assert server.post(dev_issuer.mint(new_uid)).status_code == 200
    (customer,) = customers_of(stripe_standin, new_uid)
    stripe_standin.client().v1.subscriptions.create(
        params={"customer": customer["id"], "items": [{"price": catalog["team"]}]}
    )
    assert stored_state(firestore_db, server, new_uid) is None
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"
    # the session made beside Stripe's read was expired before its URL was answered
    assert {s["status"] for s in sessions_of(stripe_standin, customer["id"])} == {"expired"}
    # and the state knows from now on
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["active"]


def open_sessions(standin, customer: str) -> list[dict]:
    return [s for s in sessions_of(standin, customer) if s["status"] == "open"]


def test_a_second_checkout_inside_the_webhook_window_is_409_and_hands_out_no_session(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    """Issue 21's finding 21b: the synced state said "no subscription" (the first checkout
    wrote it, empty) while Stripe already had one. This function has no webhook endpoint, so
    every event is held for good: the webhook window at its widest, and no return either."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    state = stored_state(firestore_db, server, new_uid)
    assert state is None or state["subscriptions"] == []  # what the state may say: nothing
    stripe_standin.complete_checkout_session(first["id"])  # paid, in another tab
    (customer,) = customers_of(stripe_standin, new_uid)

    for _ in range(2):  # a second plan; then the same click again (its key's replay)
        answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "already_subscribed"
        assert "url" not in answer.json()
        # a session made beside the Stripe read was expired before anyone got its URL
        assert open_sessions(stripe_standin, customer["id"]) == []
    statuses = {s["id"]: s["status"] for s in sessions_of(stripe_standin, customer["id"])}
    assert statuses.pop(first["id"]) == "complete"
    assert set(statuses.values()) <= {"expired"}
    # the 409 synced the state (the webhook's sync): it knows the plan with no delivery
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["active"]
    before = stripe_requests(stripe_standin)
    assert checkout(server, dev_issuer, new_uid, {"price": catalog["team"]}).status_code == 409
    assert stripe_requests(stripe_standin) == before  # now the synced state answers alone


def test_a_trialing_subscriber_is_409_inside_the_webhook_window(
    function_factory, dev_issuer, stripe_standin, catalog, new_uid
):
    server = function_factory(
        "checkout-trial",
        CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}",
        CHECKOUT_TRIAL_DAYS="14",
    )
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    stripe_standin.complete_checkout_session(first["id"])  # a trial: nothing paid yet
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"
    (customer,) = customers_of(stripe_standin, new_uid)
    assert open_sessions(stripe_standin, customer["id"]) == []
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["trialing"]


def test_when_stripe_cannot_say_whether_the_caller_subscribed_no_session_is_handed_out(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Fail closed: the subscriptions list beside the create fails → a JSON 5xx, no URL."""
    stripe_standin.inject_fault(count=10, status=500, method="GET", path_prefix="/v1/subscriptions")
    try:
        answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    finally:
        stripe_standin.clear_faults()
    assert answer.status_code >= 500, answer.text
    assert "url" not in answer.json() and answer.json()["error"]["code"]
    # the same request once Stripe answers: the session made beside the failed read, still open
    again = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert again.status_code == 200, again.text


def test_a_subscriber_whose_subscription_ended_may_check_out_again_as_a_new_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert returned(server, dev_issuer, new_uid, f"checkout_session={first}").status_code == 200
    (subscription,) = [s["id"] for s in state_of(server, dev_issuer, new_uid)]
    stripe_standin.client().v1.subscriptions.cancel(subscription)
    # the state still says active (no webhook here): 409 until it is synced
    assert checkout(server, dev_issuer, new_uid, {"price": catalog["team"]}).status_code == 409
    time.sleep(RETURN_SYNC_INTERVAL_SECONDS)  # one return sync per user per interval
    assert returned(server, dev_issuer, new_uid, f"checkout_session={first}").status_code == 200
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["canceled"]
    again = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert again.status_code == 200, again.text
    assert again.json()["id"] != first


# --- the first check: the state the page just read --------------------------------------


FIRESTORE_READS = ("GetDocument", "BatchGetDocuments", "RunQuery")


def firestore_reads(emulator) -> dict[str, int]:
    counts = emulator.stats()
    return {method: counts.get(method, 0) for method in FIRESTORE_READS}


def state_written_elsewhere(firestore_db, server, standin, uid: str) -> None:
    """What the webhook's instance writes (this one does not know): Stripe's subscriptions of
    the user's customer as they are now."""
    (customer,) = customers_of(standin, uid)
    page = standin.client().v1.subscriptions.list(
        params={"customer": customer["id"], "status": "all"}
    )
    subscriptions = summarize_all([s.to_dict() for s in page.data])
    BillingState(firestore_db, server.collection, timeout_seconds=10).write(
        uid, Sources(customer["id"], False, subscriptions, [])
    )


def test_a_checkout_right_after_the_page_read_a_state_with_no_plan_reads_no_document(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_emulator
):
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])  # mapped, cached
    assert state_of(server, dev_issuer, new_uid) == []  # the page's GET: no plan
    before = firestore_reads(firestore_emulator)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 200, answer.text
    assert firestore_reads(firestore_emulator) == before, "the state was read again"


def test_a_plan_written_elsewhere_since_the_page_read_none_is_still_409_from_stripe(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert state_of(server, dev_issuer, new_uid) == []  # this instance read: no plan
    stripe_standin.complete_checkout_session(first["id"])  # paid in another tab
    state_written_elsewhere(firestore_db, server, stripe_standin, new_uid)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"
    (customer,) = customers_of(stripe_standin, new_uid)
    assert open_sessions(stripe_standin, customer["id"]) == []


def test_a_plan_this_instance_read_is_read_again_before_it_answers_409(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    first = subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert returned(server, dev_issuer, new_uid, f"checkout_session={first}").status_code == 200
    (subscription,) = [s["id"] for s in state_of(server, dev_issuer, new_uid)]  # read: a plan
    stripe_standin.client().v1.subscriptions.cancel(subscription)  # "Cancel now" in the portal
    state_written_elsewhere(firestore_db, server, stripe_standin, new_uid)  # the webhook's sync
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 200, answer.text


# --- one customer, one session -------------------------------------------------------------


def test_fifty_parallel_checkouts_of_a_new_user_make_one_customer_and_one_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    token = dev_issuer.mint(new_uid)

    def one(_: int) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        body = {"price": catalog["team"], "quantity": 3}
        return requests.post(server.url + "checkout", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers][:3]
    (customer,) = customers_of(stripe_standin, new_uid)
    sessions = sessions_of(stripe_standin, customer["id"])
    assert len(sessions) == 1, "a double click made more than one session"
    assert {a.json()["id"] for a in answers} == {sessions[0]["id"]}
    created = stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
    assert customer["id"] in {r["params"].get("customer") for r in created}


def test_a_checkout_racing_portal_requests_makes_one_customer(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    token = dev_issuer.mint(new_uid)
    headers = {"Authorization": f"Bearer {token}"}

    def one(index: int) -> requests.Response:
        if index % 2:
            return requests.post(server.url, headers=headers, timeout=60)
        body = {"price": catalog["solo"]}
        return requests.post(server.url + "checkout", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers][:3]
    (customer,) = customers_of(stripe_standin, new_uid)
    portal = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")
    assert customer["id"] in {r["params"]["customer"] for r in portal}
    assert len(sessions_of(stripe_standin, customer["id"])) == 1


def test_a_paid_session_is_never_handed_out_again_even_before_the_state_knows(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    stripe_standin.complete_checkout_session(first["id"])
    # no return, no webhook: the state still has no subscription; the same click again
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"
    assert [s["status"] for s in state_of(server, dev_issuer, new_uid)] == ["active"]


@pytest.mark.usefixtures("one_key_window")
def test_an_expired_session_is_replaced_by_a_new_one(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
    stripe_standin.expire_checkout_session(first["id"])
    again = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
    assert again["id"] != first["id"]
    assert stripe_standin.client().v1.checkout.sessions.retrieve(again["id"]).status == "open"
    assert started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"]) == again


@pytest.mark.usefixtures("one_key_window")
def test_plans_bought_and_ended_twice_in_one_key_window_still_leave_a_new_open_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The same request three times in a window, each of the first two paid and its plan
    ended before the next: each replay of a used session leads to a new one, never to a paid
    one handed out again, never to a refusal."""
    stripe = stripe_standin.client()
    paid_ids = []
    for _ in range(2):
        paid_ids.append(subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"]))
        (customer,) = customers_of(stripe_standin, new_uid)
        live = stripe.v1.subscriptions.list(params={"customer": customer["id"]}).data
        for subscription in live:
            if subscription.status != "canceled":
                stripe.v1.subscriptions.cancel(subscription.id)
    assert paid_ids[0] != paid_ids[1], "the second purchase was handed the first paid session"
    third = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    assert third["id"] not in paid_ids, "a paid session was handed out again"
    assert [s["id"] for s in open_sessions(stripe_standin, customer["id"])] == [third["id"]]


@pytest.mark.usefixtures("one_key_window")
def test_a_request_bought_and_ended_past_the_replay_limit_is_429_until_the_next_window(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Each paid-then-ended session of the same request costs the next click two Stripe calls
    more; past `REPLAYS_PER_WINDOW` of them the answer is 429 with Retry-After, no session."""
    stripe = stripe_standin.client()
    for _ in range(REPLAYS_PER_WINDOW + 1):
        subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
        (customer,) = customers_of(stripe_standin, new_uid)
        for subscription in stripe.v1.subscriptions.list(params={"customer": customer["id"]}):
            if subscription.status != "canceled":
                stripe.v1.subscriptions.cancel(subscription.id)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 429, f"POST /checkout past the replay limit: {answer.text}"
    assert answer.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answer.headers["Retry-After"]) <= CHECKOUT_KEY_WINDOW_SECONDS
    assert open_sessions(stripe_standin, customer["id"]) == []


@pytest.mark.usefixtures("one_key_window")
def test_a_double_click_makes_one_session_and_another_price_another(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=2)
    second = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=2)
    assert first == second
    other = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
    assert other["id"] != first["id"]


def test_a_customer_deleted_in_stripe_is_replaced_once_and_the_checkout_goes_on(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    (old,) = customers_of(stripe_standin, new_uid)
    stripe_standin.delete_customer(old["id"])  # the instance still caches it
    session = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=2)
    current = [c for c in customers_of(stripe_standin, new_uid) if not c.get("deleted")]
    assert len(current) == 1 and current[0]["id"] != old["id"]
    assert [s["id"] for s in sessions_of(stripe_standin, current[0]["id"])] == [session["id"]]


# --- the session and the return ------------------------------------------------------------


def test_the_session_is_for_the_callers_customer_with_the_user_id_and_the_return_urls(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    return_url = f"{APP_ORIGIN}/account?tab=plan&checkout_session=cs_test_planted#top"
    body = {"price": catalog["team"], "quantity": 5, "return_url": return_url, "locale": "fr"}
    session = started(server, dev_issuer, stripe_standin, new_uid, **body)
    (customer,) = customers_of(stripe_standin, new_uid)
    (sent,) = [
        r
        for r in stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("customer") == customer["id"]
    ]
    params = sent["params"]
    assert params["mode"] == "subscription" and params["locale"] == "fr"
    assert params["line_items"] == {"0": {"price": catalog["team"], "quantity": "5"}}
    assert params["client_reference_id"] == new_uid
    assert params["subscription_data"] == {"metadata": {"app_user_id": new_uid}}
    assert params["cancel_url"] == return_url
    # the caller's planted checkout_session is replaced, the rest of the query kept
    assert params["success_url"] == (
        f"{APP_ORIGIN}/account?tab=plan&checkout_session={{CHECKOUT_SESSION_ID}}#top"
    )
    assert sent["idempotency_key"] and new_uid not in sent["idempotency_key"]
    assert session["url"].startswith(stripe_standin.url) and session["id"].startswith("cs_test_")


def test_the_return_shows_the_plan_at_once_without_any_webhook(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    session = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=4)
    assert state_of(server, dev_issuer, new_uid) == []
    location = stripe_standin.complete_checkout_session(session["id"])
    assert parse_qs(urlsplit(location).query)["checkout_session"] == [session["id"]]
    # the page sends back what Stripe put in the URL; no event was delivered to anyone
    answer = returned(server, dev_issuer, new_uid, urlsplit(location).query)
    assert answer.status_code == 200, answer.text
    (subscription,) = answer.json()["subscriptions"]
    assert subscription["status"] == "active"
    assert subscription["items"][0]["price"] == catalog["team"]
    assert subscription["items"][0]["quantity"] == 4
    assert stored_state(firestore_db, server, new_uid)["subscriptions"] == [subscription]
    assert state_of(server, dev_issuer, new_uid) == [subscription]


def test_a_return_with_an_open_session_answers_the_state_and_writes_nothing(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    session = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    stripe_standin.cancel_checkout_session(session["id"])
    answer = returned(server, dev_issuer, new_uid, f"checkout_session={session['id']}")
    assert (answer.status_code, answer.json()) == (200, {"subscriptions": [], "entitlements": []})
    # neither the checkout (no subscription found) nor the return (not complete) wrote a state
    assert stored_state(firestore_db, server, new_uid) is None


def test_returns_in_a_burst_sync_once_and_all_show_the_plan(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    session = subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])
    before = len(stripe_standin.requests(path_prefix="/v1/subscriptions", method="GET"))
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda _: returned(server, dev_issuer, new_uid, f"checkout_session={session}"),
                range(10),
            )
        )
    assert {a.status_code for a in answers} == {200}
    assert all(len(a.json()["subscriptions"]) == 1 for a in answers), [a.text for a in answers]
    lists = len(stripe_standin.requests(path_prefix="/v1/subscriptions", method="GET")) - before
    assert lists <= 2, f"{lists} subscription lists for one user's burst of returns"


# --- settings ------------------------------------------------------------------------------


def test_the_stacks_checkout_settings_are_sent_to_stripe(
    function_factory, dev_issuer, stripe_standin, catalog, new_uid
):
    server = function_factory(
        "checkout-settings",
        PORTAL_PRICES=f"{catalog['team']}:2-",
        CHECKOUT_TRIAL_DAYS="14",
        CHECKOUT_ALLOW_PROMOTION_CODES="true",
        CHECKOUT_AUTOMATIC_TAX="true",
        CHECKOUT_BILLING_ADDRESS="required",
        CHECKOUT_TERMS_CONSENT="true",
    )
    # no CHECKOUT_PRICES: the portal's prices; no quantity: the product's minimum
    session = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    sent = stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")[-1]
    params = sent["params"]
    assert params["line_items"]["0"]["quantity"] == "2"
    assert params["subscription_data"]["trial_period_days"] == "14"
    assert params["allow_promotion_codes"] == "true"
    assert params["automatic_tax"] == {"enabled": "true"}
    assert params["customer_update"] == {"address": "auto"}
    assert params["billing_address_collection"] == "required"
    assert params["consent_collection"] == {"terms_of_service": "required"}
    stripe_standin.complete_checkout_session(session["id"])
    answer = returned(server, dev_issuer, new_uid, f"checkout_session={session['id']}")
    assert [s["status"] for s in answer.json()["subscriptions"]] == ["trialing"]


# --- plans ---------------------------------------------------------------------------------


def test_plans_are_the_checkout_catalog_from_stripe_public_and_cached(
    server, stripe_standin, catalog
):
    url = server.url + "plans"
    answer = requests.get(url, headers={"Origin": APP_ORIGIN}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    plans = answer.json()["plans"]
    assert [p["price"] for p in plans] == [catalog["team"], catalog["solo"]]
    team = stripe_standin.client().v1.prices.retrieve(catalog["team"])
    assert plans[0] == {
        "price": catalog["team"],
        "product": team.product,
        "name": "Pro",
        "unit_amount": 2900,
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
        "quantity": {"adjustable": True, "minimum": 1, "maximum": 25},
    }
    assert plans[1]["quantity"] == {"adjustable": False, "minimum": 1, "maximum": 1}
    before = stripe_requests(stripe_standin)
    assert requests.get(url, timeout=30).json() == answer.json()
    assert stripe_requests(stripe_standin) == before, "a cached catalog asked Stripe again"


def test_plans_refuse_other_methods_and_origins(server, stripe_standin):
    url = server.url + "plans"
    wrong = requests.post(url, json={}, timeout=30)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, OPTIONS"
    evil = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=30)
    assert evil.status_code == 403
