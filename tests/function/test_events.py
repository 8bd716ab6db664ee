"""A signed event's shape and signature time, checked directly (pure; the HTTP tier is
test_http_webhook*.py)."""

from __future__ import annotations

import json
import time

import pytest

from billing_portal.errors import BadRequest
from billing_portal.events import (
    MAX_EVENT_DEPTH,
    InvalidEvent,
    Subject,
    event_subject,
    object_kind,
    parse_event,
)
from billing_portal.settings import WEBHOOK_EVENTS
from billing_portal.webhooks import signature_timestamp, verify_event
from local.stripe.webhook_endpoints import signature_header

SECRET = "whsec_eventsUnitTest0123"


def envelope(kind: str = "customer.subscription.updated", obj: object = None, **extra) -> dict:
    data = {"object": {"object": "subscription", "customer": "cus_A1"} if obj is None else obj}
    return {
        "id": "evt_1",
        "object": "event",
        "type": kind,
        "livemode": False,
        "data": data,
        **extra,
    }


def test_every_handled_type_names_the_object_its_events_carry():
    summary = "entitlements.active_entitlement_summary"
    expected = {
        "customer.deleted": "customer",
        "checkout.session.completed": "checkout.session",
        f"{summary}.updated": summary,
    }
    assert {kind: object_kind(kind) for kind in WEBHOOK_EVENTS} == {
        kind: expected.get(kind, "subscription") for kind in WEBHOOK_EVENTS
    }


@pytest.mark.parametrize(
    "text",
    [
        "[1]",
        '"evt"',
        "{not json",
        json.dumps(envelope(id=7)),
        json.dumps(envelope(id="")),
        json.dumps(envelope(id="e" * 256)),
        json.dumps(envelope(type=None)),
        json.dumps(envelope(livemode="false")),
        json.dumps({**envelope(), "data": [1]}),
        json.dumps({**envelope(), "data": {"object": "x"}}),
        json.dumps({**envelope(), "data": {"object": [1]}}),
        json.dumps({k: v for k, v in envelope().items() if k != "data"}),
        '{"id": "evt_1", "type": "x", "livemode": false, "data": {"object": {"a": '
        + "[" * 100_000
        + "]" * 100_000
        + "}}}",
    ],
)
def test_an_envelope_that_is_not_stripes_is_invalid_event(text):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(text)
    assert (caught.value.status, caught.value.code) == (400, "invalid_event")


def test_an_envelope_nesting_up_to_the_limit_is_parsed():
    inner: object = 1
    for _ in range(MAX_EVENT_DEPTH - 3):  # the envelope, data and its object: three levels
        inner = [inner]
    assert parse_event(json.dumps(envelope(obj={"x": inner})))["type"]
    with pytest.raises(InvalidEvent):
        parse_event(json.dumps(envelope(obj={"x": [inner]})))


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("customer.subscription.updated", {"object": "customer", "id": "cus_A1"}),
        ("customer.subscription.updated", {"object": "subscription", "customer": ["cus_A1"]}),
        ("customer.subscription.updated", {"object": "subscription", "customer": {"id": 5}}),
        ("customer.subscription.updated", {"object": "subscription", "customer": "cus_A1\n"}),
        ("customer.subscription.created", {"object": "subscription"}),
        ("customer.deleted", {"object": "subscription", "customer": "cus_A1"}),
        ("customer.deleted", {"object": "customer", "id": "cus_A1", "metadata": [1]}),
        ("customer.deleted", {"object": "customer", "id": "cus_A1", "metadata": None}),
        (
            "customer.deleted",
            {"object": "customer", "id": "cus_A1", "metadata": {"app_user_id": 7}},
        ),
        ("customer.deleted", {"object": "customer", "id": 7}),
    ],
)
def test_a_handled_types_object_that_is_not_stripes_is_invalid_event(kind, obj):
    with pytest.raises(InvalidEvent):
        event_subject(parse_event(json.dumps(envelope(kind, obj))))


def test_the_subject_of_a_subscription_event_is_its_customer_expanded_or_not():
    for customer in ("cus_A1", {"id": "cus_A1", "object": "customer"}):
        obj = {"object": "subscription", "customer": customer}
        assert event_subject(envelope(obj=obj)) == Subject("cus_A1")


def test_the_subject_of_customer_deleted_is_the_customer_and_the_user_its_metadata_names():
    obj = {"object": "customer", "id": "cus_A1", "metadata": {"app_user_id": "u-1"}}
    assert event_subject(envelope("customer.deleted", obj)) == Subject("cus_A1", "u-1")
    for metadata in ({}, {"app_user_id": ""}):
        obj = {"object": "customer", "id": "cus_A1", "metadata": metadata}
        assert event_subject(envelope("customer.deleted", obj)) == Subject("cus_A1", None)


def test_the_signature_timestamp_is_the_first_t_as_the_sdk_reads_it():
    assert signature_timestamp("t=12,v1=ab,t=99") == 12
    assert signature_timestamp("v1=ab,t=12=3") == 12
    with pytest.raises(ValueError):
        signature_timestamp("v1=ab")


@pytest.mark.parametrize("offset", [-301, 301, 100_000, 10**40])
def test_a_signature_made_more_than_300_s_from_now_either_way_is_invalid_signature(offset):
    now = int(time.time())  # at run time: the SDK checks the past against the real clock
    body = json.dumps(envelope()).encode()
    header = signature_header(body, SECRET, now + offset)
    with pytest.raises(BadRequest) as caught:
        verify_event(body, header, SECRET, now=now)
    assert caught.value.code == "invalid_signature"


@pytest.mark.parametrize("offset", [-290, 0, 300])
def test_a_signature_made_within_300_s_either_way_is_accepted(offset):
    now = int(time.time())  # at run time: the SDK checks the past against the real clock
    body = json.dumps(envelope()).encode()
    header = signature_header(body, SECRET, now + offset)
    assert verify_event(body, header, SECRET, now=now)["id"] == "evt_1"
