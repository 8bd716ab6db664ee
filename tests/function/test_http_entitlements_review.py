"""Review attacks on `entitlements.active_entitlement_summary.updated`, over real HTTP.

Each event here is signed with the endpoint's secret (so only the body is hostile): a summary
naming another user's customer, entitlements in the body that Stripe never granted, an expanded
or missing customer, the other mode, and a late summary after the customer is gone. The state
must always be Stripe's own list for the user's own customer, or nothing be written at all.
"""

from __future__ import annotations

import pytest

from tests.function.test_http_entitlements import (
    SUMMARY,
    plan,
    stripe_entitlements,
    summaries,
)
from tests.function.test_http_webhook import (
    customer_of_user,
    raw_event,
    signed_post,
    stored_state,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def plans(standin) -> dict[str, str]:
    """team grants seats; business grants seats and export_csv (price ids by plan), as in
    test_http_entitlements."""
    sdk = standin.client()
    seats, export = (
        sdk.v1.entitlements.features.create(params={"lookup_key": key, "name": key}).id
        for key in ("seats", "export_csv")
    )
    return {"team": plan(sdk, "Team", [seats]), "business": plan(sdk, "Business", [seats, export])}


def forged_entitlement(key: str) -> dict:
    """An active entitlement in Stripe's shape that Stripe never granted."""
    return {
        "id": f"ent_forged{key}",
        "object": "entitlements.active_entitlement",
        "feature": f"feat_forged{key}",
        "livemode": False,
        "lookup_key": key,
    }


def subscribe(standin, customer: str, price: str) -> str:
    sdk = standin.client()
    return sdk.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": price}]}
    ).id


def test_entitlements_in_the_summary_body_are_never_stored(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin, customer, plans["team"])
    (summary,) = summaries(standin)
    event = raw_event(standin, summary)
    event["data"]["object"]["entitlements"]["data"] = [
        forged_entitlement(key) for key in ("export_csv", "admin", "seats")
    ]
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == ["seats"]
    assert stripe_entitlements(standin, customer) == ["seats"]


def test_a_summary_naming_another_users_customer_touches_only_that_users_true_state(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    attacker, victim = new_uid, new_uid + "-victim"
    attackers = customer_of_user(billing_pair, dev_issuer, standin, attacker)
    victims = customer_of_user(billing_pair, dev_issuer, standin, victim)
    subscribe(standin, attackers, plans["business"])
    subscribe(standin, victims, plans["team"])
    attackers_summary = next(
        held
        for held in summaries(standin)
        if raw_event(standin, held)["data"]["object"]["customer"] == attackers
    )
    event = raw_event(standin, attackers_summary)
    event["data"]["object"]["customer"] = victims  # the business plan's entitlements stay
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, victim)["entitlements"] == ["seats"]
    assert stored_state(firestore_db, billing_pair, attacker) is None


def test_a_stranger_customer_whose_metadata_names_a_user_grants_that_user_nothing(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    # Anyone with the Stripe account (or the Dashboard) can write metadata.app_user_id on a
    # customer of their own: its summary must not put its entitlements in the user's state.
    customer_of_user(billing_pair, dev_issuer, standin, new_uid)  # no plan
    sdk = standin.client()
    stranger = sdk.v1.customers.create(params={"metadata": {"app_user_id": new_uid}}).id
    subscribe(standin, stranger, plans["business"])
    (summary,) = summaries(standin)
    (result,) = standin.deliver_events([summary])
    assert result["status"] == 200
    state = stored_state(firestore_db, billing_pair, new_uid)
    assert state is None or state["entitlements"] == []


@pytest.mark.parametrize(
    "case",
    [
        "expanded customer",
        "expanded customer of another id",
        "no customer",
        "customer with a newline",
        "customer as a number",
        "no object",
        "object of a subscription",
    ],
)
def test_a_hostile_summary_shape_is_400_and_nothing_is_written(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
    case,
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin, customer, plans["business"])
    (summary,) = summaries(standin)
    event = raw_event(standin, summary)
    obj = event["data"]["object"]
    if case == "expanded customer":
        obj["customer"] = {"id": customer, "object": "customer"}
    elif case == "expanded customer of another id":
        obj["customer"] = {"id": "cus_someoneElse", "object": "customer"}
    elif case == "no customer":
        del obj["customer"]
    elif case == "customer with a newline":
        obj["customer"] = customer + "\n"
    elif case == "customer as a number":
        obj["customer"] = 42
    elif case == "no object":
        del obj["object"]
    else:
        obj["object"] = "subscription"
    requests_before = len(standin.requests())
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_event"
    assert stored_state(firestore_db, billing_pair, new_uid) is None
    assert len(standin.requests()) == requests_before, "Stripe was called for a malformed event"


@pytest.mark.parametrize("livemode", [True, None, "false", 0])
def test_a_summary_of_the_other_or_no_mode_is_400_and_nothing_is_written(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
    livemode,
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin, customer, plans["business"])
    (summary,) = summaries(standin)
    event = raw_event(standin, summary)
    event["livemode"] = livemode
    requests_before = len(standin.requests())
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] in ("mode_mismatch", "invalid_event")
    assert stored_state(firestore_db, billing_pair, new_uid) is None
    assert len(standin.requests()) == requests_before


def test_a_summary_with_the_wrong_livemode_inside_its_object_grants_nothing(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    # The envelope decides the mode; the object's own livemode (and its entitlements') is body.
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin, customer, plans["team"])
    (summary,) = summaries(standin)
    event = raw_event(standin, summary)
    event["data"]["object"]["livemode"] = True
    event["data"]["object"]["entitlements"]["data"] = [forged_entitlement("export_csv")]
    answer = signed_post(billing_pair, event)
    assert answer.status_code == 200, answer.text
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == ["seats"]


def test_a_late_summary_after_the_customer_is_deleted_brings_back_nothing(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin, customer, plans["business"])
    (granted,) = summaries(standin)
    standin.client().v1.customers.delete(customer)
    deleted = [h["event"] for h in standin.held_webhooks() if h["type"] == "customer.deleted"]
    assert deleted, [h["type"] for h in standin.held_webhooks()]
    results = standin.deliver_events([*deleted, granted, granted])
    assert {r["status"] for r in results} == {200}, results
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == []


def test_a_summary_for_a_removed_feature_replayed_after_a_downgrade_brings_back_nothing(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(standin, customer, plans["business"])
    item = sdk.v1.subscriptions.retrieve(subscription)["items"].data[0].id
    sdk.v1.subscriptions.update(
        subscription, params={"items": [{"id": item, "price": plans["team"]}]}
    )
    granted, downgraded = summaries(standin)
    everything = [h["event"] for h in standin.held_webhooks() if h["type"] != SUMMARY]
    results = standin.deliver_events([downgraded, *everything, granted, granted])
    assert {r["status"] for r in results} == {200}, results
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == ["seats"]
    assert stripe_entitlements(standin, customer) == ["seats"]


def test_stale_and_fresh_summaries_delivered_at_once_leave_stripes_entitlements(
    billing_pair,
    standin,
    plans,
    dev_issuer,
    new_uid,
    firestore_db,
):
    # Instances race: the last write must still be Stripe's list now, never the stale summary's.
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk = standin.client()
    subscription = subscribe(standin, customer, plans["business"])
    item = sdk.v1.subscriptions.retrieve(subscription)["items"].data[0].id
    sdk.v1.subscriptions.update(
        subscription, params={"items": [{"id": item, "price": plans["team"]}]}
    )
    granted, downgraded = summaries(standin)
    results = standin.deliver_events([granted, downgraded] * 4, parallel=True)
    assert {r["status"] for r in results} == {200}, results
    assert stored_state(firestore_db, billing_pair, new_uid)["entitlements"] == ["seats"]
