"""A hostile party's attacks on the billing-state loop (webhook + GET), over real HTTP.

The webhook function and the session function of one deployment run as real
functions-framework processes on the Firestore emulator and the Stripe stand-in. The attacker
cannot sign events; the attacks are signed-but-unexpected events, Stripe-side objects with forged
metadata (a customer made in the Dashboard), request tricks and a second warm instance.
The first tests are findings (they fail on the reviewed code); the rest are attacks that held,
kept as regression tests.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from billing_portal.customers import document_id
from local.stripe.webhook_endpoints import signature_header
from tests.function.conftest import WEBHOOK_SECRET, customers_of
from tests.function.test_http_webhook import (
    customer_of_user,
    get_state,
    held_ids,
    new_price,
    post_event,
    raw_event,
    stored_state,
    subscribe,
)

pytestmark = pytest.mark.integration


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_session(function_factory, billing_pair):
    """Another warm instance of the session function of the same deployment (autoscaling)."""
    return function_factory("attack2-session-2", CUSTOMERS_COLLECTION=billing_pair.collection)


def sync_all(standin) -> list[dict]:
    """Deliver every held event once, in order; the answers."""
    results = standin.deliver_events(held_ids(standin))
    standin.discard_held_webhooks()
    assert {r["status"] for r in results} <= {200}, results
    return results


def mapping_doc(firestore_db, pair, uid: str) -> dict:
    return firestore_db.collection(pair.collection).document(document_id(uid)).get().to_dict() or {}


def state_ref(firestore_db, pair, uid: str):
    return (
        firestore_db.collection(pair.collection)
        .document(document_id(uid))
        .collection("billing")
        .document("state")
    )


def live_customers(standin, uid: str) -> list[str]:
    return [c["id"] for c in customers_of(standin, uid) if not c.get("deleted")]


def raw_post(url: str, head: dict[str, str], pieces: list[bytes]) -> tuple[int, bytes]:
    """POST over a bare socket, the body sent in `pieces` with pauses (slow or chunked)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    for piece in pieces:
        sock.sendall(piece)
        time.sleep(0.2)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]


# --- finding: a warm instance shows a deleted customer's subscriptions as the user's ---------


def test_get_on_a_warm_instance_after_another_instance_healed_does_not_show_the_deleted_customers_active_subscription(  # noqa: E501
    billing_pair, standin, dev_issuer, new_uid, second_session
):
    # Instance 1 caches uid → customer X; the webhook syncs X's active subscription.
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(sdk, customer, new_price(sdk))
    sync_all(standin)
    (shown,) = get_state(billing_pair, dev_issuer, new_uid).json()["subscriptions"]
    assert shown["id"] == subscription and shown["status"] == "active"
    # X is deleted in the Dashboard (Stripe cancels its subscription). The user's next request
    # lands on instance 2, which heals (resource_missing) to a new customer Y before Stripe's
    # events arrive; those events then name a customer the mapping no longer names: ignored.
    standin.delete_customer(customer)
    assert second_session.post(dev_issuer.mint(new_uid)).status_code == 200
    assert len(live_customers(standin, new_uid)) == 1
    sync_all(standin)
    assert sdk.v1.subscriptions.retrieve(subscription).status == "canceled"
    # Instance 1 still caches X, and the state document still holds X's last (active) state.
    response = get_state(billing_pair, dev_issuer, new_uid)
    assert response.status_code == 200
    assert response.json() == {"subscriptions": [], "entitlements": []}, (
        "a deleted customer's canceled subscription is served as the user's active one"
    )


# --- finding: a malformed state document is passed on, or crashes the deep-link check ------


def _seed_malformed_state(firestore_db, pair, uid: str, customer: str) -> None:
    state_ref(firestore_db, pair, uid).set(
        {"uid": uid, "customer": customer, "customer_deleted": False, "subscriptions": ["sub_x"]}
    )


def test_get_with_a_malformed_state_entry_is_502_state_malformed_not_200_with_the_garbage(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    _seed_malformed_state(firestore_db, billing_pair, new_uid, customer)
    response = get_state(billing_pair, dev_issuer, new_uid)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "state_malformed"


def test_a_deep_link_checked_against_a_malformed_state_is_502_state_malformed_not_500(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscription = subscribe(standin.client(), customer, new_price(standin.client()))
    _seed_malformed_state(firestore_db, billing_pair, new_uid, customer)
    flow = {"type": "subscription_cancel", "subscription": subscription}
    response = billing_pair.session.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "state_malformed"


# --- held: forged metadata, replays, signature and body tricks ------------------------------


def test_held_a_dashboard_customer_with_the_victims_uid_in_metadata_never_writes_the_victims_state(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    victim = new_uid
    own = customer_of_user(billing_pair, dev_issuer, standin, victim)
    sdk = standin.client()
    price = new_price(sdk)
    subscribe(sdk, own, price)
    sync_all(standin)
    before = stored_state(firestore_db, billing_pair, victim)
    forged = sdk.v1.customers.create(params={"metadata": {"app_user_id": victim}}).id
    subscribe(sdk, forged, price)
    subscribe(sdk, forged, price)
    types = [h["type"] for h in standin.held_webhooks()]
    results = sync_all(standin)
    acted_on = [r for t, r in zip(types, results, strict=True) if t.startswith("customer.sub")]
    assert len(acted_on) == 2
    assert all(json.loads(r["body"]).get("ignored") == "unknown_customer" for r in acted_on)
    after = stored_state(firestore_db, billing_pair, victim)
    assert after["customer"] == own and after["subscriptions"] == before["subscriptions"]
    shown = get_state(billing_pair, dev_issuer, victim).json()["subscriptions"]
    assert [s["id"] for s in shown] == [s["id"] for s in before["subscriptions"]]


def test_held_deleting_a_dashboard_customer_naming_the_victim_does_not_mark_the_victims_mapping(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    victim = new_uid
    own = customer_of_user(billing_pair, dev_issuer, standin, victim)
    forged = standin.client().v1.customers.create(params={"metadata": {"app_user_id": victim}}).id
    standin.discard_held_webhooks()
    standin.delete_customer(forged)
    (result,) = standin.deliver_events(held_ids(standin))
    assert result["status"] == 200 and json.loads(result["body"])["ignored"] == "unknown_customer"
    assert "deleted_customer_id" not in mapping_doc(firestore_db, billing_pair, victim)
    assert billing_pair.session.post(dev_issuer.mint(victim)).status_code == 200
    assert live_customers(standin, victim) == [own]


def test_held_replaying_customer_deleted_after_healing_mints_no_further_customer(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, second_session
):
    first = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    standin.discard_held_webhooks()
    standin.delete_customer(first)
    (deleted_event,) = [
        h["event"] for h in standin.held_webhooks() if h["type"] == "customer.deleted"
    ]
    sync_all(standin)
    assert second_session.post(dev_issuer.mint(new_uid)).status_code == 200  # heals once
    (replacement,) = live_customers(standin, new_uid)
    for _ in range(3):  # Stripe's late retries, or a replay within the tolerance
        (again,) = standin.deliver_events([deleted_event])
        assert again["status"] == 200
    mapping = mapping_doc(firestore_db, billing_pair, new_uid)
    assert mapping["stripe_customer_id"] == replacement and mapping["deleted_customer_id"] == first
    for server in (billing_pair.session, second_session):
        assert server.post(dev_issuer.mint(new_uid)).status_code == 200
    assert live_customers(standin, new_uid) == [replacement]


def _tricks(body: bytes) -> dict[str, str]:
    now = int(time.time())
    good = signature_header(body, WEBHOOK_SECRET)
    t_part, v1_part = good.split(",")
    old = signature_header(body, WEBHOOK_SECRET, now - 3600)
    old_t, old_v1 = old.split(",")
    other_body = signature_header(b"{}", WEBHOOK_SECRET).split("v1=")[1]
    return {
        "uppercase keys": f"T={now},V1={v1_part[3:]}",
        "space after the comma": f"{t_part}, {v1_part}",
        "stale, a fresh t= appended": f"{old_t},{old_v1},t={now}",
        "stale, a fresh t= prepended": f"t={now},{old_t},{old_v1}",
        "t with an exponent": f"t={now}e0,{v1_part}",
        "v1 of another body": f"{t_part},v1={other_body}",
        "six kilobytes of v1": f"{t_part}," + ",".join(["v1=" + "0" * 64] * 90),
        "secret as the signature": f"{t_part},v1={WEBHOOK_SECRET}",
    }


@pytest.mark.parametrize("trick", list(_tricks(b"").keys()))
def test_held_signature_header_tricks_are_400_and_nothing_is_read_or_written(
    billing_pair, standin, dev_issuer, new_uid, firestore_emulator, trick
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin.client(), customer, new_price(standin.client()))
    body = json.dumps(raw_event(standin, held_ids(standin)[-1])).encode()
    header = _tricks(body)[trick]
    before_stripe, before_firestore = len(standin.requests()), firestore_emulator.stats()
    response = post_event(billing_pair, body, header)
    assert response.status_code == 400, (trick, response.text)
    assert response.json()["error"]["code"] == "invalid_signature"
    assert len(standin.requests()) == before_stripe
    assert firestore_emulator.stats() == before_firestore


@pytest.mark.parametrize("framing", ["content-length, sent slowly", "chunked"])
def test_held_a_signed_event_sent_in_pieces_is_verified_on_its_raw_bytes(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, framing
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin.client(), customer, new_price(standin.client()))
    event = raw_event(standin, held_ids(standin)[-1])
    event["padding"] = "é" * 40_000  # multi-byte characters split across pieces
    body = json.dumps(event, indent=2, ensure_ascii=False).encode()
    pieces = [body[i : i + 7001] for i in range(0, len(body), 7001)]
    head = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature_header(body, WEBHOOK_SECRET),
    }
    if framing == "chunked":
        head["Transfer-Encoding"] = "chunked"
        pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]
    else:
        head["Content-Length"] = str(len(body))
    status, answer = raw_post(billing_pair.webhook.url, head, pieces)
    assert status == 200, answer
    assert stored_state(firestore_db, billing_pair, new_uid)["customer"] == customer


def test_held_get_never_shows_a_state_document_recording_another_uid(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    state_ref(firestore_db, billing_pair, new_uid).set(
        {
            "uid": f"{new_uid}-someone-else",
            "customer": customer,
            "customer_deleted": False,
            "subscriptions": [{"id": "sub_notYours", "status": "active", "items": []}],
        }
    )
    response = get_state(billing_pair, dev_issuer, new_uid)
    assert response.status_code == 200 and response.json() == {
        "subscriptions": [],
        "entitlements": [],
    }


def test_held_the_webhook_answers_no_get_and_the_session_function_no_events(billing_pair, standin):
    assert requests.get(billing_pair.webhook.url, timeout=10).status_code == 405
    body = b'{"type": "customer.deleted", "livemode": false}'
    response = requests.post(
        billing_pair.session.url,
        data=body,
        headers={
            "Stripe-Signature": signature_header(body, WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 401


def test_held_a_huge_signed_event_is_413_before_anything_is_read_or_written(
    billing_pair, standin, firestore_emulator
):
    event = {"id": "evt_huge", "type": "customer.deleted", "livemode": False, "pad": "x" * 600_000}
    body = json.dumps(event).encode()
    before_stripe, before_firestore = len(standin.requests()), firestore_emulator.stats()
    response = post_event(billing_pair, body, signature_header(body, WEBHOOK_SECRET))
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert len(standin.requests()) == before_stripe
    assert firestore_emulator.stats() == before_firestore


# --- finding (issue 19): a signed event of a shape that is not Stripe's was a 500 ----------


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _malformed(customer: str) -> dict[str, bytes]:
    """Signed events whose shape Stripe never sends, about a real mapped customer (so that a
    lenient handler would act on them); the body bytes, as sent."""

    def event(kind: str, data: object, **extra: object) -> bytes:
        envelope = {"id": "evt_malformed", "object": "event", "type": kind, "livemode": False}
        return json.dumps({**envelope, "data": data, **extra}).encode()

    sub = "customer.subscription.updated"
    subscription = {"id": "sub_x", "object": "subscription", "customer": customer}
    deleted = {"id": customer, "object": "customer", "deleted": True}
    deep = f'{{"object": "subscription", "customer": "{customer}", "items": {_deep(100_000)}}}'
    return {
        "data is a list": event(sub, [1]),
        "data.object is a string": event(sub, {"object": "x"}),
        "data.object is a list": event(sub, {"object": [1]}),
        "data is missing": event(sub, None),
        "customer.deleted with metadata a list": event(
            "customer.deleted", {"object": {**deleted, "metadata": [1]}}
        ),
        "customer.deleted with app_user_id a number": event(
            "customer.deleted", {"object": {**deleted, "metadata": {"app_user_id": 7}}}
        ),
        "the subscription's customer is a list": event(
            sub, {"object": {**subscription, "customer": [customer]}}
        ),
        "the subscription's customer is an object without an id": event(
            sub, {"object": {**subscription, "customer": {"object": "customer"}}}
        ),
        "a subscription event about a customer object": event(
            sub, {"object": {**deleted, "object": "customer"}}
        ),
        "the id is a number": event(sub, {"object": subscription}, id=7),
        "livemode is a string": event(sub, {"object": subscription}, livemode="false"),
        "nested 100,000 levels deep": (
            f'{{"id": "evt_deep", "object": "event", "type": "{sub}", "livemode": false, '
            f'"data": {{"object": {deep}}}}}'
        ).encode(),
    }


@pytest.mark.parametrize("shape", list(_malformed("cus_x")))
def test_a_signed_event_of_a_shape_not_stripes_is_400_invalid_event_logged_once_without_a_trace(
    billing_pair, standin, dev_issuer, new_uid, firestore_emulator, shape
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    body = _malformed(customer)[shape]
    assert len(body) < 512 * 1024
    log = billing_pair.webhook.process
    log_before = len(log.log_text())
    before_stripe, before_firestore = len(standin.requests()), firestore_emulator.stats()
    response = post_event(billing_pair, body, signature_header(body, WEBHOOK_SECRET))
    assert response.status_code == 400, (shape, response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == "invalid_event", shape
    assert len(standin.requests()) == before_stripe, f"{shape}: Stripe was called"
    assert firestore_emulator.stats() == before_firestore, f"{shape}: Firestore was used"
    written = log.log_text()[log_before:]
    assert "Traceback" not in written, f"{shape}: {written[-2000:]}"
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    assert [(line["severity"], line.get("code")) for line in lines] == [
        ("WARNING", "invalid_event")
    ], (shape, lines)


# --- finding (issue 19): a signature timestamp in the future was accepted ------------------


@pytest.mark.parametrize("ahead", [301, 100_000])
def test_a_signature_timestamp_more_than_300_s_in_the_future_is_400_and_nothing_is_touched(
    billing_pair, standin, dev_issuer, new_uid, firestore_emulator, ahead
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin.client(), customer, new_price(standin.client()))
    body = json.dumps(raw_event(standin, held_ids(standin)[-1])).encode()
    header = signature_header(body, WEBHOOK_SECRET, int(time.time()) + ahead)
    before_stripe, before_firestore = len(standin.requests()), firestore_emulator.stats()
    response = post_event(billing_pair, body, header)
    assert response.status_code == 400, (ahead, response.text)
    assert response.json()["error"]["code"] == "invalid_signature"
    assert len(standin.requests()) == before_stripe
    assert firestore_emulator.stats() == before_firestore


def test_held_a_signature_timestamp_a_little_ahead_of_the_clock_is_accepted(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    # Clocks differ by seconds: within the 300 s the event is Stripe's and is acted on.
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin.client(), customer, new_price(standin.client()))
    body = json.dumps(raw_event(standin, held_ids(standin)[-1])).encode()
    header = signature_header(body, WEBHOOK_SECRET, int(time.time()) + 60)
    response = post_event(billing_pair, body, header)
    assert response.status_code == 200, response.text
    assert stored_state(firestore_db, billing_pair, new_uid)["customer"] == customer
