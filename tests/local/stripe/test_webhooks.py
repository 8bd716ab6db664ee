"""Events and webhook delivery in the stand-in: what changes record, and how they are sent."""

from __future__ import annotations

import hmac
import json
import threading
from hashlib import sha256

import pytest
import stripe

from local.servers import HTTPServerThread, KeepAliveHandler
from tests.local.stripe.test_subscriptions import recurring_price, subscribe

SECRET = "whsec_testStandinForward0001"


class _Receiver(KeepAliveHandler):
    def do_POST(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        body = self.read_body()
        with owner.lock:
            owner.received.append((dict(self.headers), body))
            status = owner.statuses.pop(0) if owner.statuses else 200
        self.send_bytes(status, b"{}", "application/json")


class Receiver(HTTPServerThread):
    """A webhook receiver that records what it got and answers the queued statuses."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver, name="receiver")
        self.lock = threading.Lock()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def test_changes_record_events_with_the_object_after_the_change(sdk, fresh_stripe_standin):
    customer = sdk.v1.customers.create().id
    sub = subscribe(sdk, customer, recurring_price(sdk))
    sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert [e["type"] for e in fresh_stripe_standin.events()] == [
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
    ]  # the catalog (products, prices) records none: the stand-in models only what is used
    updated = sdk.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.object["cancel_at_period_end"] is True
    assert updated.data.previous_attributes["cancel_at_period_end"] is False
    assert updated.id.startswith("evt_") and updated.livemode is False
    assert sdk.v1.events.retrieve(updated.id).type == "customer.subscription.updated"


def test_price_switch_quantity_pause_and_cancel_now(sdk):
    customer = sdk.v1.customers.create().id
    basic, pro = recurring_price(sdk), recurring_price(sdk)
    sub = subscribe(sdk, customer, basic)
    item = sub["items"].data[0].id
    switched = sdk.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item, "price": pro, "quantity": 4}]}
    )
    (new_item,) = switched["items"].data
    assert (new_item.id, new_item.price.id, new_item.quantity) == (item, pro, 4)
    paused = sdk.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    assert paused.pause_collection.behavior == "void"
    canceled = sdk.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.ended_at is not None
    assert sdk.v1.subscriptions.list(params={"customer": customer}).data == []
    assert [
        s.id for s in sdk.v1.subscriptions.list(params={"customer": customer, "status": "all"})
    ] == [sub.id]
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    kinds = [e.type for e in sdk.v1.events.list(params={"type": "customer.subscription.*"})]
    assert kinds[0] == "customer.subscription.deleted"


def test_undo_cancel_at_period_end(sdk):
    sub = subscribe(sdk, sdk.v1.customers.create().id, recurring_price(sdk))
    sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    again = sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    assert again.cancel_at_period_end is False and again.cancel_at is None


def test_deleting_a_customer_ends_its_subscriptions_and_records_customer_deleted(
    sdk, fresh_stripe_standin
):
    customer = sdk.v1.customers.create(params={"metadata": {"app_user_id": "u1"}}).id
    sub = subscribe(sdk, customer, recurring_price(sdk))
    sdk.v1.customers.delete(customer)
    last = fresh_stripe_standin.events()[-2:]
    assert [e["type"] for e in last] == ["customer.subscription.deleted", "customer.deleted"]
    assert last[0]["data"]["object"]["id"] == sub.id
    assert last[1]["data"]["object"]["metadata"] == {"app_user_id": "u1"}


def test_webhook_endpoint_secret_only_on_create(sdk):
    created = sdk.v1.webhook_endpoints.create(
        params={"url": "https://example.test/hook", "enabled_events": ["customer.deleted"]}
    )
    assert created.secret.startswith("whsec_") and created.status == "enabled"
    fetched = sdk.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched and fetched.enabled_events == ["customer.deleted"]
    assert [e.id for e in sdk.v1.webhook_endpoints.list()] == [created.id]
    sdk.v1.webhook_endpoints.delete(created.id)
    assert sdk.v1.webhook_endpoints.list().data == []


def _verify(headers: dict[str, str], body: bytes, secret: str) -> None:
    t, v1 = (part.split("=", 1)[1] for part in headers["Stripe-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, sha256).hexdigest()
    assert hmac.compare_digest(expected, v1)
    stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], secret, 300)


def test_endpoints_get_the_events_they_enabled_signed_as_stripe_signs(
    sdk, receiver, fresh_stripe_standin
):
    endpoint = sdk.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.subscription.created"]}
    )
    customer = sdk.v1.customers.create().id
    sub = subscribe(sdk, customer, recurring_price(sdk))
    assert fresh_stripe_standin.wait_webhooks(10)
    ((headers, body),) = receiver.received
    _verify(headers, body, endpoint.secret)
    event = json.loads(body)
    assert event["type"] == "customer.subscription.created"
    assert event["data"]["object"]["id"] == sub.id


def test_forwarding_retries_a_failed_delivery(sdk, receiver, fresh_stripe_standin):
    forward = fresh_stripe_standin.forward_webhooks(receiver.url, secret=SECRET, retry_delay_ms=50)
    receiver.statuses = [500, 503]
    customer = sdk.v1.customers.create().id
    assert fresh_stripe_standin.wait_webhooks(10)
    statuses = [d["status"] for d in fresh_stripe_standin.webhook_deliveries()]
    assert statuses == [500, 503, 200]
    assert {e["data"]["object"]["id"] for e in receiver.events()} == {customer}
    for headers, body in receiver.received:
        _verify(headers, body, forward["secret"])


def test_hold_release_and_deliver_in_a_chosen_order(sdk, receiver, fresh_stripe_standin):
    fresh_stripe_standin.forward_webhooks(receiver.url, secret=SECRET)
    fresh_stripe_standin.hold_webhooks(True)
    first = sdk.v1.customers.create().id
    second = sdk.v1.customers.create().id
    held = fresh_stripe_standin.held_webhooks()
    assert [h["type"] for h in held] == ["customer.created", "customer.created"]
    ids = [h["event"] for h in held]
    results = fresh_stripe_standin.deliver_events([ids[1], ids[0], ids[1]])
    assert [r["status"] for r in results] == [200, 200, 200]
    objects = [e["data"]["object"]["id"] for e in receiver.events()]
    assert objects == [second, first, second]
    assert fresh_stripe_standin.hold_webhooks(False) == 2
    assert fresh_stripe_standin.wait_webhooks(10)
    assert [e["data"]["object"]["id"] for e in receiver.events()][3:] == [first, second]
