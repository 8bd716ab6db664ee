"""Review attacks on the checkout's key chain (`Checkout._session`) over real HTTP.

The function as a real server, the real Firestore emulator and the Stripe stand-in. The change
makes the Checkout Session create's idempotency key the request and its 10-minute window only;
a replayed session is retrieved: open → handed out; paid with a live plan in Stripe's list →
409; expired or paid-but-ended → the next key ("used" sessions added), at most
`REPLAYS_PER_WINDOW` steps, then 429 until the next window. Each test is one way the chain could
hand out a paid or expired session, open two sessions for one request, refuse a user wrongly
(a 429 instead of a session or a 409) or answer a traceback; it shows whether it does.
"""

from __future__ import annotations

import gc
import json
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from billing_portal.checkout import (
    CHECKOUT_KEY_WINDOW_SECONDS,
    REPLAYS_PER_WINDOW,
    checkout_idempotency_key,
    checkout_params,
)
from billing_portal.settings import load_settings
from local.stripe.core.idempotency import StoredResponse, fingerprint
from local.stripe.core.server import StripeServer
from tests.function.test_http_checkout import (
    checkout,
    one_key_window,  # noqa: F401 (a fixture)
    open_sessions,
    sessions_of,
    started,
    state_of,
    stripe_requests,
)
from tests.function.test_http_checkout import subscribed as paid
from tests.function.test_http_checkout_memory_review import customer_id
from tests.support.stripe_objects import monthly_price

pytestmark = pytest.mark.integration

SESSIONS_PATH = "/v1/checkout/sessions"
ENTITLEMENTS_PATH = "/v1/entitlements/active_entitlements"


@pytest.fixture(scope="module")
def catalog(stripe_standin) -> dict[str, str]:
    client = stripe_standin.client()
    return {"team": monthly_price(client, 2900), "solo": monthly_price(client, 900)}


@pytest.fixture(scope="module")
def server(function_factory, catalog):
    """A session function of this module's own."""
    return function_factory(
        "checkout-chain-review", CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}"
    )


@pytest.fixture(scope="module")
def trial_server(function_factory, catalog):
    """The same catalog with a 14-day trial: a completed Checkout is a `trialing` plan."""
    return function_factory(
        "checkout-chain-review-trial",
        CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}",
        CHECKOUT_TRIAL_DAYS="14",
    )


@pytest.fixture
def no_faults(stripe_standin):
    """Whatever a test injects is gone after it, even when it fails."""
    yield
    stripe_standin.clear_faults()


def end_plans(standin, uid: str) -> None:
    """ "Cancel now" in the portal for every plan of the user's customer."""
    stripe = standin.client()
    for subscription in stripe.v1.subscriptions.list(
        params={"customer": customer_id(standin, uid)}
    ):
        if subscription.status != "canceled":
            stripe.v1.subscriptions.cancel(subscription.id)


def bought_and_ended(server, issuer, standin, uid: str, price: str, times: int) -> list[str]:
    """The same request `times` times, each paid and its plan ended before the next: the ids of
    the paid sessions."""
    ids = []
    for _ in range(times):
        ids.append(paid(server, issuer, standin, uid, price))
        end_plans(standin, uid)
    return ids


def session_creates(standin, customer: str) -> list[dict[str, Any]]:
    return [
        r
        for r in standin.requests(path_prefix=SESSIONS_PATH, method="POST")
        if r["path"] == SESSIONS_PATH and (r["params"] or {}).get("customer") == customer
    ]


def status_of(standin, session_id: str) -> str:
    (session,) = [s for s in standin.checkout_sessions() if s["id"] == session_id]
    return session["status"]


# --- the chain's retrieve: never a paid or expired session out of a failed look ------------


@pytest.mark.usefixtures("one_key_window", "no_faults")
@pytest.mark.parametrize("how", ["paid, plan ended", "expired"])
def test_a_replayed_session_stripe_says_it_cannot_find_is_never_handed_out(
    server, dev_issuer, stripe_standin, catalog, new_uid, how
):
    """The chain retrieves the replayed session; Stripe answers `resource_missing` (the
    gateway's None). The replay is Stripe's first answer (status `open`, a URL): it must not
    stand in for the session as it is now, which is paid or expired."""
    if how == "expired":
        first = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])["id"]
        stripe_standin.expire_checkout_session(first)
    else:
        (first,) = bought_and_ended(server, dev_issuer, stripe_standin, new_uid, catalog["solo"], 1)
    stripe_standin.inject_fault(
        count=1,
        status=404,
        method="GET",
        path_prefix=f"{SESSIONS_PATH}/",
        error_type="invalid_request_error",
        code="resource_missing",
        message="No such checkout.session",
        param="id",
    )
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    handed = answer.json().get("id") if answer.status_code == 200 else None
    assert handed != first, (
        f"POST /checkout (same request, {how}, its retrieve 404) handed out session {first}, "
        f"which is {status_of(stripe_standin, first)}: {answer.text}"
    )


@pytest.mark.usefixtures("one_key_window", "no_faults")
@pytest.mark.parametrize("fault", ["500", "dropped", "429"])
def test_a_failed_retrieve_in_the_chain_is_json_and_the_next_click_gets_one_new_session(
    server, dev_issuer, stripe_standin, catalog, new_uid, fault
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])["id"]
    stripe_standin.expire_checkout_session(first)
    customer = customer_id(stripe_standin, new_uid)
    spec: dict[str, Any] = {"count": 2, "method": "GET", "path_prefix": f"{SESSIONS_PATH}/"}
    spec |= {"drop": True} if fault == "dropped" else {"status": int(fault)}
    stripe_standin.inject_fault(**spec)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    stripe_standin.clear_faults()
    assert answer.status_code in (429, 502, 503), (
        f"POST /checkout with the chain's retrieve failing ({fault}): {answer.text}"
    )
    assert answer.json()["error"]["code"] and "url" not in answer.json(), answer.text
    assert open_sessions(stripe_standin, customer) == [], "a session was made past a failed look"
    again = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert again.status_code == 200, f"POST /checkout after the retrieve recovered: {again.text}"
    assert again.json()["id"] != first
    third = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert third.json() == again.json(), "POST /checkout once more opened another session"
    assert [s["id"] for s in open_sessions(stripe_standin, customer)] == [again.json()["id"]]


@pytest.mark.usefixtures("one_key_window", "no_faults")
def test_a_lost_answer_to_the_chains_second_create_leaves_one_session_handed_out_next_click(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The next key's create runs in Stripe, then its answer fails (and the SDK's retry's):
    a JSON 5xx; the next click reaches that key again and gets the session it made."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])["id"]
    stripe_standin.expire_checkout_session(first)
    customer = customer_id(stripe_standin, new_uid)
    # the first create of the click (key 0's replay) passes; the next key's fails after it ran
    stripe_standin.inject_fault(count=1, delay_ms=1, method="POST", path_prefix=SESSIONS_PATH)
    stripe_standin.inject_fault(
        count=2, status=500, method="POST", path_prefix=SESSIONS_PATH, when="after"
    )
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    stripe_standin.clear_faults()
    assert answer.status_code >= 500, f"POST /checkout, second create's answer lost: {answer.text}"
    assert "url" not in answer.json() and answer.json()["error"]["code"], answer.text
    (made,) = [s["id"] for s in open_sessions(stripe_standin, customer)]
    again = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert again.status_code == 200, f"POST /checkout after the lost answer: {again.text}"
    assert again.json()["id"] == made, "POST /checkout opened a second session for the request"
    assert [s["id"] for s in open_sessions(stripe_standin, customer)] == [made]


# --- the chain judges a paid session by Stripe's list -------------------------------------


@pytest.mark.usefixtures("one_key_window", "no_faults")
def test_a_replayed_session_paid_after_stripes_list_was_read_is_never_taken_for_an_ended_plan(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Click 2 replays session 1 (open when Stripe's list, read beside the create, shows no
    plan); the visitor pays session 1 in the other tab before the chain's retrieve. The
    retrieve says `complete`: a purchase newer than the list. Judged by that older list, the
    plan "ended", so the chain opens a new session and hands it to a subscriber."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])["id"]
    customer = customer_id(stripe_standin, new_uid)
    # the chain's retrieve is slow (1.2 s, under the function's 2 s Stripe timeout)
    stripe_standin.inject_fault(
        count=1, delay_ms=1200, method="GET", path_prefix=f"{SESSIONS_PATH}/"
    )
    result: dict[str, Any] = {}
    click = threading.Thread(
        target=lambda: result.setdefault(
            "answer", checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
        )
    )
    click.start()
    time.sleep(0.5)  # the list has been read; the retrieve is still waiting
    stripe_standin.complete_checkout_session(first)  # paid in the other tab
    click.join(30)
    answer = result["answer"]
    handed = answer.json().get("id")
    assert answer.status_code == 409, (
        f"POST /checkout replaying session {first}, paid during the request: "
        f"{answer.status_code} {answer.text} (session {handed} is "
        f"{status_of(stripe_standin, handed) if handed else 'none'}, handed to a subscriber)"
    )
    assert open_sessions(stripe_standin, customer) == [], "a session is open for a subscriber"


@pytest.mark.usefixtures("one_key_window")
def test_a_trialing_plan_from_the_replayed_session_is_409_and_no_new_session(
    trial_server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The same request again after its session was completed into a trial (nothing paid):
    `trialing` counts as subscribed, whatever the state says (nothing synced here)."""
    first = paid(trial_server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    answer = checkout(trial_server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 409, f"POST /checkout (same request, trialing): {answer.text}"
    assert answer.json()["error"]["code"] == "already_subscribed"
    customer = customer_id(stripe_standin, new_uid)
    assert open_sessions(stripe_standin, customer) == []
    assert [s["id"] for s in sessions_of(stripe_standin, customer)] == [first], (
        "POST /checkout of a trialing subscriber made a session"
    )


@pytest.mark.usefixtures("one_key_window")
def test_a_chain_whose_later_session_is_paid_and_live_is_409_with_nothing_made(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Session 1 paid and ended, session 2 (the chain's next key) paid and live: the next
    click is 409 at the chain's first step, before any new session."""
    bought_and_ended(server, dev_issuer, stripe_standin, new_uid, catalog["team"], 1)
    second = paid(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    customer = customer_id(stripe_standin, new_uid)
    made = len(sessions_of(stripe_standin, customer))
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"]})
    assert answer.status_code == 409, f"POST /checkout, chain's last session live: {answer.text}"
    assert len(sessions_of(stripe_standin, customer)) == made, "a session was created"
    assert status_of(stripe_standin, second) == "complete"
    assert sorted(s["status"] for s in state_of(server, dev_issuer, new_uid)) == [
        "active",
        "canceled",
    ], "the 409 did not sync the state"


# --- the limit: never for an ordinary user, never instead of a 409 ------------------------


@pytest.mark.usefixtures("one_key_window")
def test_double_clicks_retries_cancels_and_two_prices_never_reach_the_replay_limit(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    bodies = [{"price": catalog["team"], "quantity": 2}, {"price": catalog["solo"]}]
    ids: dict[str, set[str]] = {b["price"]: set() for b in bodies}
    for round_ in range(REPLAYS_PER_WINDOW + 2):
        for body in bodies:
            answer = checkout(server, dev_issuer, new_uid, body)
            assert answer.status_code == 200, f"POST /checkout {body} click {round_}: {answer.text}"
            ids[body["price"]].add(answer.json()["id"])
            stripe_standin.cancel_checkout_session(answer.json()["id"])  # back to the page
    with ThreadPoolExecutor(max_workers=12) as pool:
        burst = list(pool.map(lambda b: checkout(server, dev_issuer, new_uid, b), bodies * 6))
    for body, answer in zip(bodies * 6, burst, strict=True):
        assert answer.status_code == 200, f"parallel POST /checkout {body}: {answer.text}"
        ids[body["price"]].add(answer.json()["id"])
    assert all(len(v) == 1 for v in ids.values()), f"more than one session per request: {ids}"
    assert len(open_sessions(stripe_standin, customer_id(stripe_standin, new_uid))) == 2


@pytest.mark.usefixtures("one_key_window")
def test_parallel_clicks_after_an_expired_session_share_one_new_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])["id"]
    stripe_standin.expire_checkout_session(first)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda _: checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]}),
                range(20),
            )
        )
    for answer in answers:
        assert answer.status_code == 200, f"parallel POST /checkout after expiry: {answer.text}"
    handed = {a.json()["id"] for a in answers}
    assert len(handed) == 1 and first not in handed, f"parallel clicks got {handed}"
    customer = customer_id(stripe_standin, new_uid)
    assert [s["id"] for s in open_sessions(stripe_standin, customer)] == [*handed]


@pytest.mark.usefixtures("one_key_window")
def test_a_request_bought_and_ended_exactly_replays_per_window_times_still_gets_a_new_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """The limit's edge: `REPLAYS_PER_WINDOW` used sessions are that many steps, not past it."""
    ids = bought_and_ended(
        server, dev_issuer, stripe_standin, new_uid, catalog["solo"], REPLAYS_PER_WINDOW
    )
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 200, (
        f"POST /checkout after {REPLAYS_PER_WINDOW} purchases ended: {answer.text}"
    )
    assert answer.json()["id"] not in ids, "a paid session was handed out again"
    customer = customer_id(stripe_standin, new_uid)
    assert [s["id"] for s in open_sessions(stripe_standin, customer)] == [answer.json()["id"]]


@pytest.mark.usefixtures("one_key_window")
def test_the_replay_limits_429_says_the_seconds_to_the_window_edge_and_makes_nothing(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Past the limit: 429 with Retry-After = the seconds left in the key's window; the 429
    creates no session and asks Stripe at most the chain's bounded cost."""
    bought_and_ended(
        server, dev_issuer, stripe_standin, new_uid, catalog["solo"], REPLAYS_PER_WINDOW + 1
    )
    customer = customer_id(stripe_standin, new_uid)
    made = len(sessions_of(stripe_standin, customer))
    before = stripe_requests(stripe_standin)
    sent = time.time()
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 429, f"POST /checkout past the limit: {answer.text}"
    assert answer.json()["error"]["code"] == "rate_limited"
    left = CHECKOUT_KEY_WINDOW_SECONDS - sent % CHECKOUT_KEY_WINDOW_SECONDS
    assert abs(int(answer.headers["Retry-After"]) - math.ceil(left)) <= 2, (
        f"Retry-After {answer.headers['Retry-After']} for {left:.0f} s left in the window"
    )
    assert len(sessions_of(stripe_standin, customer)) == made, "the 429 created a session"
    asked = stripe_requests(stripe_standin) - before
    # per step: the replayed create, its retrieve, a list read after a paid one; plus the list
    # read beside the first create
    assert asked <= 3 * (REPLAYS_PER_WINDOW + 1) + 1, f"the 429 asked Stripe {asked} times"


@pytest.mark.usefixtures("one_key_window", "no_faults")
def test_a_subscriber_whose_state_cannot_be_synced_is_409_on_every_click_never_429(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Paid in another tab; every sync fails (the entitlements list is down), so each click
    is refused by Stripe's list, not by the state. The answer must stay `409
    already_subscribed`: the 409 expires the session it made, which the next click's chain
    takes for a "used" session and steps past, so a subscriber reaches the 429."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])["id"]
    stripe_standin.complete_checkout_session(first)
    customer = customer_id(stripe_standin, new_uid)
    stripe_standin.inject_fault(count=1000, status=500, method="GET", path_prefix=ENTITLEMENTS_PATH)
    answers = [
        checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
        for _ in range(REPLAYS_PER_WINDOW + 2)
    ]
    stripe_standin.clear_faults()
    codes = [(a.status_code, a.json()["error"]["code"]) for a in answers]
    made = len(session_creates(stripe_standin, customer))
    assert codes == [(409, "already_subscribed")] * len(answers), (
        f"POST /checkout of a subscriber, {len(answers)} clicks: {codes} "
        f"({made} session creates sent to Stripe)"
    )
    assert open_sessions(stripe_standin, customer) == []


@pytest.mark.usefixtures("one_key_window", "no_faults")
def test_parallel_clicks_of_a_subscriber_unknown_to_the_state_are_all_409_never_429(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Paid in another tab, no return, no webhook: 20 clicks at once of another plan. The
    click that creates a key's session expires it (its 409); the others replayed it and, if
    their retrieve comes after that expiry, step to the next key, and again: the last ones
    reach the 429. Seen without any fault (1 run in 6); a slow retrieve (0.4 s, under the 2 s
    Stripe timeout) makes that interleaving certain."""
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])["id"]
    stripe_standin.complete_checkout_session(first)
    stripe_standin.inject_fault(
        count=1000, delay_ms=400, method="GET", path_prefix=f"{SESSIONS_PATH}/"
    )
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda _: checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]}),
                range(20),
            )
        )
    stripe_standin.clear_faults()
    codes = Counter(f"{a.status_code} {a.json()['error']['code']}" for a in answers)
    assert set(codes) == {"409 already_subscribed"}, (
        f"20 parallel POST /checkout of a subscriber: {dict(codes)}"
    )
    assert open_sessions(stripe_standin, customer_id(stripe_standin, new_uid)) == []


# --- a result Stripe stored for the key -----------------------------------------------------


def standin_server(control) -> StripeServer:
    """The stand-in serving `control` (it runs in this process)."""
    (found,) = [
        o
        for o in gc.get_objects()
        if isinstance(o, StripeServer) and o.url.rstrip("/") == control.url.rstrip("/")
    ]
    return found


@pytest.mark.usefixtures("one_key_window", "no_faults")
def test_a_stripe_500_stored_for_the_key_does_not_lock_the_request_out_for_the_window(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Stripe keeps the first result for a key, 500s included, and replays it ("Subsequent
    requests with the same key return the same result, including 500 errors"). The stand-in
    keeps no injected fault, so the test stores what Stripe would have: a 500 for the
    request's first key. A retry after a JSON 5xx must be able to get a session before the
    10-minute window ends."""
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])  # the customer
    customer = customer_id(stripe_standin, new_uid)
    settings = load_settings(server.env)
    params = checkout_params(
        uid=new_uid,
        customer_id=customer,
        price=catalog["solo"],
        quantity=1,
        return_url=settings.default_return_url,
        locale=None,
        options=settings.checkout,
    )
    key = checkout_idempotency_key(params, [], time.time(), settings.mode)
    # the request's own form, as the function sends it: one create, failed before it ran
    stripe_standin.inject_fault(count=2, status=500, method="POST", path_prefix=SESSIONS_PATH)
    failed = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    stripe_standin.clear_faults()
    assert failed.status_code >= 500, failed.text
    (sent, *_) = [r for r in session_creates(stripe_standin, customer) if r["fault"]][-2:]
    body = json.dumps({"error": {"type": "api_error", "message": "An unknown error occurred"}})
    standin_server(stripe_standin).idempotency.save(
        "test",
        key,
        StoredResponse(
            f"POST {SESSIONS_PATH}", fingerprint(sent["params"]), 500, body.encode(), "req_500"
        ),
    )
    answers = [checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]}) for _ in range(3)]
    replayed = [
        r for r in stripe_standin.requests(path_prefix=SESSIONS_PATH) if r["idempotency_key"] == key
    ]
    assert replayed, "the test's stored result was never asked for (the key is not the request's)"
    assert any(a.status_code == 200 for a in answers), (
        "POST /checkout after Stripe stored a 500 for its key, three clicks: "
        f"{[(a.status_code, a.json()['error']['code']) for a in answers]}; locked out until the "
        "key's window ends"
    )
