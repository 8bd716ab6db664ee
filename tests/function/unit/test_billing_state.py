"""The billing state's pure pieces and `BillingState.sync` with scripted sources, directly.

`sync` is the one rebuild every webhook handler (and the backfill) ends with: write the sources,
read them again, repeat while they changed. Here the sources are a script (a list of what each
read returns) or the in-memory mapping store and Stripe reads of fakes.py, and the state
documents live in `MemoryFirestore`; the HTTP tier proves the same over the emulator.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest

from billing_portal.billing_state import (
    MAX_ROUNDS,
    BillingState,
    Sources,
    StateUnsettled,
    StoredState,
    parse_state,
    sources_of,
    summarize,
    summarize_all,
    user_sources,
    visible_state,
    visible_subscriptions,
)
from billing_portal.customers import Ownership
from billing_portal.entitlements import entitlement_keys
from billing_portal.errors import UpstreamError
from tests.function.unit.fakes import MappingStore, MemoryFirestore, StripeReads, mapping

NOW = datetime.datetime(2026, 12, 5, 9, 30, tzinfo=datetime.UTC)
STATE = "customers/u-1/billing/state"


def stripe_subscription(sub_id: str, created: int = 1, *items: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Stripe subscription `summarize` reads."""
    return {
        "id": sub_id,
        "object": "subscription",
        "status": "active",
        "cancel_at_period_end": False,
        "created": created,
        "items": {"object": "list", "data": list(items)},
    }


def entry(sub_id: str = "sub_1", **fields: Any) -> dict[str, Any]:
    """One subscription as the state document holds it (`GET`'s shape)."""
    return {
        "id": sub_id,
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_end": 1700000000,
        "items": [{"id": "si_1", "price": "price_1", "product": "prod_1", "quantity": 1}],
        **fields,
    }


def scripted(*reads: Sources | None) -> Callable[[], Sources | None]:
    """Sources that answer each read with the next of `reads` (the last one repeats)."""
    script = list(reads)
    return lambda: script.pop(0) if len(script) > 1 else script[0]


@pytest.fixture
def db() -> MemoryFirestore:
    return MemoryFirestore()


@pytest.fixture
def billing(db) -> BillingState:
    return BillingState(db, "customers", timeout_seconds=1, clock=lambda: NOW)


# --- summarize ----------------------------------------------------------------------------


def test_a_summary_keeps_what_get_shows_with_the_latest_items_period_end_and_ids_of_objects():
    price = {"id": "price_1", "object": "price", "product": {"id": "prod_1", "object": "product"}}
    items = (
        {"id": "si_1", "price": price, "quantity": 3, "current_period_end": 1700000100},
        {
            "id": "si_2",
            "price": {"id": "price_2", "object": "price", "product": "prod_2"},
            "quantity": 1,
            "current_period_end": 1700000900,
        },
    )
    summary = summarize(stripe_subscription("sub_1", 5, *items) | {"cancel_at_period_end": True})
    assert summary == {
        "id": "sub_1",
        "status": "active",
        "cancel_at_period_end": True,
        "current_period_end": 1700000900,
        "ended_at": None,
        "items": [
            {"id": "si_1", "price": "price_1", "product": "prod_1", "quantity": 3},
            {"id": "si_2", "price": "price_2", "product": "prod_2", "quantity": 1},
        ],
    }


def test_an_ended_subscription_says_when_it_ended():
    ended = stripe_subscription("sub_1") | {"status": "canceled", "ended_at": 1700000500}
    assert summarize(ended)["ended_at"] == 1700000500
    assert summarize(stripe_subscription("sub_1") | {"ended_at": "soon"})["ended_at"] is None


def test_a_state_document_written_before_ended_at_existed_is_still_read(billing, db):
    old = {key: value for key, value in entry().items() if key != "ended_at"}
    assert parse_state(
        "u-1", {"customer": "cus_1", "customer_deleted": False, "subscriptions": [old]}
    ).subscriptions == [old]


def test_a_state_document_with_a_non_integer_ended_at_is_malformed():
    bad = entry() | {"ended_at": "yesterday"}
    with pytest.raises(UpstreamError):
        parse_state("u-1", {"customer": "cus_1", "customer_deleted": False, "subscriptions": [bad]})


def test_a_subscription_without_items_has_no_period_end():
    assert summarize(stripe_subscription("sub_1"))["current_period_end"] is None


def test_summaries_are_newest_first_ties_broken_by_id():
    listed = [stripe_subscription("sub_a", 5), stripe_subscription("sub_c", 9)]
    listed.append(stripe_subscription("sub_b", 5))
    assert [s["id"] for s in summarize_all(listed)] == ["sub_c", "sub_b", "sub_a"]


# --- parse_state and visible_subscriptions ------------------------------------------------


def test_a_state_document_as_the_webhook_writes_it_is_parsed():
    data = {
        "uid": "u-1",
        "customer": "cus_1",
        "customer_deleted": False,
        "subscriptions": [entry()],
    }
    assert parse_state("u-1", data) == StoredState("u-1", "cus_1", False, [entry()])
    # written before entitlements were kept: none until the next sync
    assert parse_state("u-1", data).entitlements == []
    keys = ["export_csv", "seats"]
    assert parse_state("u-1", data | {"entitlements": keys}).entitlements == keys
    no_period = entry(current_period_end=None)
    assert parse_state("u-1", data | {"subscriptions": [no_period]}).subscriptions == [no_period]


@pytest.mark.parametrize(
    "change",
    [
        {"customer": None},
        {"customer": 7},
        {"customer_deleted": "false"},
        {"subscriptions": None},
        {"subscriptions": {"sub_1": entry()}},
        {"subscriptions": ["sub_1"]},
        {"subscriptions": [entry(sub_id=7)]},
        {"subscriptions": [entry(status=None)]},
        {"subscriptions": [entry(cancel_at_period_end="no")]},
        {"subscriptions": [entry(current_period_end=True)]},
        {"subscriptions": [entry(current_period_end="1700000000")]},
        {"subscriptions": [entry(items=None)]},
        {"subscriptions": [entry(items=[{"price": "price_1"}])]},
        {"entitlements": None},
        {"entitlements": "export_csv"},
        {"entitlements": ["seats", "export_csv"]},  # not sorted: not what the webhook writes
        {"entitlements": ["seats", "seats"]},
        {"entitlements": [""]},
        {"entitlements": [7]},
        {"entitlements": ["x" * 81]},
    ],
)
def test_a_state_document_of_any_other_shape_is_502_state_malformed(change):
    data = {"customer": "cus_1", "customer_deleted": False, "subscriptions": [entry()]} | change
    with pytest.raises(UpstreamError) as caught:
        parse_state("u-1", data)
    assert (caught.value.status, caught.value.code) == (502, "state_malformed"), change


def test_get_shows_the_states_subscriptions_only_for_the_customer_it_is_of():
    state = StoredState("u-1", "cus_1", False, [entry()])
    assert visible_subscriptions(state, "cus_1") == [entry()]
    assert visible_subscriptions(state, "cus_2") is None, "a stale mapping must be read again"
    assert visible_subscriptions(StoredState("u-1", "cus_1", True, [entry()]), "cus_1") == []
    assert visible_subscriptions(None, "cus_1") == []
    assert visible_subscriptions(state, None) == []


def test_get_shows_the_entitlements_beside_the_subscriptions_for_the_same_customer_only():
    state = StoredState("u-1", "cus_1", False, [entry()], ["export_csv"])
    assert visible_state(state, "cus_1") == {
        "subscriptions": [entry()],
        "entitlements": ["export_csv"],
    }
    assert visible_state(state, "cus_2") is None
    deleted = StoredState("u-1", "cus_1", True, [entry()], ["export_csv"])
    empty = {"subscriptions": [], "entitlements": []}
    assert visible_state(deleted, "cus_1") == empty
    assert visible_state(None, "cus_1") == empty and visible_state(state, None) == empty


def test_what_get_shows_is_a_copy_of_the_states_list():
    state = StoredState("u-1", "cus_1", False, [entry()])
    visible_subscriptions(state, "cus_1").clear()
    assert state.subscriptions == [entry()]


# --- the sources ---------------------------------------------------------------------------


def test_the_sources_of_a_mapping_are_stripes_list_of_its_customer_summarized():
    stripe = StripeReads()
    stripe.lists["cus_1"] = [[stripe_subscription("sub_1", 1), stripe_subscription("sub_2", 2)]]
    stripe.entitlements["cus_1"] = [["sso", "export_csv"]]
    sources = sources_of(
        mapping("cus_1"), stripe.customer_subscriptions, stripe.customer_entitlements
    )
    assert sources == Sources(
        "cus_1", False, summarize_all(stripe.lists["cus_1"][0]), ["export_csv", "sso"]
    )


def test_the_two_stripe_lists_of_the_sources_are_read_beside_each_other():
    # Each list waits for the other to have started: read one after the other, they time out.
    both_started = threading.Barrier(2, timeout=5)

    def subscriptions(customer_id: str) -> list[dict[str, Any]]:
        both_started.wait()
        return [stripe_subscription("sub_1")]

    def entitlements(customer_id: str) -> list[dict[str, Any]]:
        both_started.wait()
        return []

    sources = sources_of(mapping("cus_1"), subscriptions, entitlements)
    assert [s["id"] for s in sources.subscriptions] == ["sub_1"]


def test_a_failed_entitlements_list_fails_the_sources_like_a_failed_subscriptions_list():
    def refused(customer_id: str) -> list[dict[str, Any]]:
        raise UpstreamError("Stripe refused the list.")

    with pytest.raises(UpstreamError, match="refused the list"):
        sources_of(mapping("cus_1"), lambda customer_id: [], refused)
    with pytest.raises(UpstreamError, match="refused the list"):
        sources_of(mapping("cus_1"), refused, lambda customer_id: [])


def test_the_sources_of_a_customer_stripe_deleted_are_empty_without_asking_stripe():
    stripe = StripeReads()
    deleted = dataclasses.replace(mapping("cus_1"), deleted_customer_id="cus_1")
    assert sources_of(
        deleted, stripe.customer_subscriptions, stripe.customer_entitlements
    ) == Sources("cus_1", True, [], [])
    assert stripe.calls == []


@pytest.mark.parametrize(
    ("mappings", "whose", "expected"),
    [
        ({}, None, None),
        ({"u-1": mapping("cus_1")}, Ownership.FOREIGN, None),
        ({"u-1": mapping("cus_1")}, Ownership.UNVERIFIED, Sources("cus_1", False, [])),
        ({"u-1": mapping("cus_1")}, Ownership.OWNED, Sources("cus_1", False, [])),
    ],
)
def test_a_users_sources_need_a_mapping_not_recorded_as_another_users(mappings, whose, expected):
    store = MappingStore(**mappings)
    if whose is not None:
        store.ownership["u-1"] = whose
    assert user_sources(store, StripeReads(), "u-1") == expected


# --- BillingState: the document and sync --------------------------------------------------


def test_a_write_replaces_the_whole_document_with_every_field(billing, db):
    billing.write("u-1", Sources("cus_1", False, [entry()]))
    billing.write("u-1", Sources("cus_2", True, []))
    assert db.documents[STATE] == {
        "uid": "u-1",
        "customer": "cus_2",
        "customer_deleted": True,
        "subscriptions": [],
        "entitlements": [],
        "updated_at": NOW,
    }


def test_a_state_document_recording_another_user_reads_as_none(billing, db):
    billing.write("u-1", Sources("cus_1", False, [entry()]))
    assert billing.read("u-1") == StoredState("u-1", "cus_1", False, [entry()])
    db.documents[STATE]["uid"] = "u-2"
    assert billing.read("u-1") is None
    assert billing.read("u-3") is None


def test_the_state_this_instance_last_read_is_remembered_for_max_age_seconds(db):
    now = [100.0]
    billing = BillingState(db, "customers", timeout_seconds=1, monotonic=lambda: now[0])
    billing.write("u-1", Sources("cus_1", False, [entry()]))
    assert billing.last_read("u-1", max_age=60) is None  # never read here
    read = billing.read("u-1")
    now[0] += 59
    remembered = billing.last_read("u-1", max_age=60)
    assert remembered is not None and remembered.state == read
    now[0] += 1
    assert billing.last_read("u-1", max_age=60) is None


def test_no_state_document_is_remembered_as_read_and_absent(billing):
    assert billing.read("u-9") is None
    remembered = billing.last_read("u-9", max_age=60)
    assert remembered is not None and remembered.state is None


def test_a_write_by_this_instance_forgets_what_it_read_of_that_user(billing):
    billing.write("u-1", Sources("cus_1", False, []))
    billing.read("u-1")
    billing.read("u-2")
    billing.write("u-1", Sources("cus_1", False, [entry()]))
    assert billing.last_read("u-1", max_age=60) is None
    assert billing.last_read("u-2", max_age=60) is not None


def test_sync_writes_once_when_the_sources_are_unchanged_on_the_check(billing, db):
    sources = Sources("cus_1", False, [entry()])
    assert billing.sync("u-1", scripted(sources)) == sources
    assert [document["subscriptions"] for _, document in db.writes] == [[entry()]]


def test_sync_writes_again_when_the_sources_changed_before_the_check(billing, db):
    first, second = Sources("cus_1", False, [entry()]), Sources("cus_1", False, [])
    assert billing.sync("u-1", scripted(first, second)) == second
    assert [document["subscriptions"] for _, document in db.writes] == [[entry()], []]
    assert billing.read("u-1") == StoredState("u-1", "cus_1", False, [])


def test_sync_gives_up_with_503_after_max_rounds_of_changing_sources(billing, db):
    rounds = [Sources("cus_1", False, [entry(f"sub_{n}")]) for n in range(MAX_ROUNDS + 2)]
    with pytest.raises(StateUnsettled) as caught:
        billing.sync("u-1", scripted(*rounds))
    assert (caught.value.status, caught.value.code) == (503, "state_unsettled")
    assert caught.value.headers == {"Retry-After": "5"}
    assert len(db.writes) == MAX_ROUNDS


def test_sync_writes_nothing_for_a_user_without_a_mapping(billing, db):
    assert billing.sync("u-1", scripted(None)) is None
    assert db.writes == []


def test_sync_stops_once_the_mapping_is_gone_on_the_check(billing, db):
    assert billing.sync("u-1", scripted(Sources("cus_1", False, []), None)) is None
    assert len(db.writes) == 1


def test_sync_over_the_users_sources_follows_stripe_changing_between_reads(billing, db):
    store = MappingStore(**{"u-1": mapping("cus_1")})
    stripe = StripeReads()
    before, after = [stripe_subscription("sub_1", 1)], [stripe_subscription("sub_2", 2)]
    stripe.lists["cus_1"] = [before, after]
    written = billing.sync("u-1", lambda: user_sources(store, stripe, "u-1"))
    assert written == Sources("cus_1", False, summarize_all(after))
    assert len(db.writes) == 2 and store.reads == ["u-1"] * 3


def test_the_synced_state_knows_a_subscriptions_owner_and_its_items_prices(billing):
    billing.write("u-1", Sources("cus_1", False, [entry()]))
    owner = billing.subscription_owner("u-1", "cus_1", "sub_1")
    assert owner is not None and dict(owner.item_prices) == {"si_1": "price_1"}
    assert billing.subscription_owner("u-1", "cus_2", "sub_1") is None
    assert billing.subscription_owner("u-1", "cus_1", "sub_9") is None


def test_stripes_active_entitlements_are_kept_as_sorted_distinct_lookup_keys():
    listed = [{"lookup_key": key} for key in ("sso", "export_csv", "sso", "seats")]
    assert entitlement_keys(listed) == ["export_csv", "seats", "sso"]
    assert entitlement_keys([]) == []


@pytest.mark.parametrize("bad", [None, "", 7, "x" * 81])
def test_an_active_entitlement_without_a_valid_lookup_key_is_stripes_malformed_answer(bad):
    with pytest.raises(UpstreamError) as caught:
        entitlement_keys([{"lookup_key": "seats"}, {"lookup_key": bad}])
    assert caught.value.status == 502
