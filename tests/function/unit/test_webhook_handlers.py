"""The webhook's handlers, one per event type, called directly with Stripe's events.

Each handler gets a fixture event of its type (tests/fixtures/stripe/events/<type>.json, shaped
as Stripe's published examples) and in-memory sources (fakes.py); the dispatch, a signed
request in, runs in-process through functions-framework's app (in_process.py). The HTTP tier
(test_http_webhook*.py) proves the same against the real server, emulator and stand-in.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from billing_portal import logs
from billing_portal.billing_state import BillingState, Sources, summarize_all
from billing_portal.customers import Ownership
from billing_portal.events import InvalidEvent
from billing_portal.lru import LruCache
from billing_portal.settings import WEBHOOK_EVENTS, build_environment, load_settings
from billing_portal.webhook_handlers import HANDLERS, Delivery, Ignored
from billing_portal.webhooks import WebhookApp
from local.stripe.webhook_endpoints import signature_header
from tests.function.unit import in_process
from tests.function.unit.fakes import MappingStore, MemoryFirestore, StripeReads, mapping
from tests.local.stripe.shape_check import differences

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe" / "events"
SUBSCRIPTION_EVENTS = [kind for kind in WEBHOOK_EVENTS if kind.startswith("customer.subscription.")]
# The fixtures' customer and the user its metadata names (customer.deleted.json).
CUSTOMER = "cus_QXg1o8vcGmoR32"
USER = "user-fixture-1"
SECRET = "whsec_inProcessTier0123456789"
STATE = f"customers/{USER}/billing/state"


def fixture(kind: str) -> dict[str, Any]:
    """Stripe's event of `kind`, as the fixture file has it (a fresh copy)."""
    return json.loads((FIXTURES / f"{kind}.json").read_text(encoding="utf-8"))


class World:
    """One instance's sources and stores, in memory, and a delivery over them."""

    def __init__(self) -> None:
        self.db = MemoryFirestore()
        self.billing = BillingState(self.db, "customers", timeout_seconds=1)
        self.mappings = MappingStore()
        self.stripe = StripeReads()
        self.users: LruCache[str, str] = LruCache(10)
        self.log: dict[str, Any] = {}

    def deliver(self, event: dict[str, Any]) -> None:
        """Run the handler of `event`'s type, as the webhook does after its checks."""
        self.log = {}
        delivery = Delivery(
            livemode=False,
            directory=self.mappings,
            billing=self.billing,
            stripe=self.stripe,
            users=self.users,
            log=self.log,
        )
        HANDLERS[event["type"]](delivery, event)

    def state(self) -> Sources | None:
        document = self.db.documents.get(STATE)
        if document is None:
            return None
        return Sources(
            document["customer"],
            document["customer_deleted"],
            document["subscriptions"],
            document["entitlements"],
        )


@pytest.fixture
def world() -> World:
    """A user whose mapping names the fixtures' customer, which Stripe knows as theirs."""
    built = World()
    built.mappings.mappings[USER] = mapping(CUSTOMER, uid=USER)
    built.stripe.customers[CUSTOMER] = USER
    return built


def subscription(sub_id: str, status: str, created: int) -> dict[str, Any]:
    """A subscription of the fixtures' customer, from the created event's object."""
    obj = fixture("customer.subscription.created")["data"]["object"]
    obj.update(id=sub_id, status=status, created=created)
    return obj


# --- the table -----------------------------------------------------------------------------


def test_the_table_has_one_row_per_event_the_endpoint_enables_in_the_same_order():
    assert list(HANDLERS) == list(WEBHOOK_EVENTS), (
        "webhook_handlers.HANDLERS and settings.WEBHOOK_EVENTS (the endpoint's enabled events) "
        f"differ: {sorted(set(HANDLERS) ^ set(WEBHOOK_EVENTS))}"
    )


@pytest.mark.parametrize("kind", WEBHOOK_EVENTS)
def test_each_event_types_fixture_is_shaped_as_stripes_example(kind):
    event = fixture(kind)
    assert (event["type"], event["object"], event["livemode"]) == (kind, "event", False)
    allowed = (
        {("event", "data.previous_attributes", "extra")} if kind.endswith(".updated") else set()
    )
    found = {difference.key for difference in differences(event)}
    assert found <= allowed, (
        f"{kind}.json differs from Stripe's examples: {sorted(found - allowed)}"
    )


# --- each handler with its fixture ---------------------------------------------------------


@pytest.mark.parametrize("kind", SUBSCRIPTION_EVENTS)
def test_a_subscription_event_rebuilds_its_owners_state_from_stripes_list_not_the_event(
    world, kind
):
    listed = [
        subscription("sub_Older1", "canceled", 1700000000),
        subscription("sub_Newer2", "active", 1720000000),
    ]
    world.stripe.lists[CUSTOMER] = [listed]
    world.deliver(fixture(kind))
    assert world.state() == Sources(CUSTOMER, False, summarize_all(listed)), kind
    assert [item["id"] for item in world.state().subscriptions] == ["sub_Newer2", "sub_Older1"]
    assert world.log == {
        "customer": CUSTOMER,
        "user": logs.user_ref(USER),
        "subscriptions": 2,
        "entitlements": 0,
    }
    assert world.mappings.marks == [], f"{kind} marked the mapping"


def test_customer_deleted_marks_the_mapping_then_writes_an_empty_state_without_asking_stripe(
    world,
):
    world.deliver(fixture("customer.deleted"))
    assert world.mappings.marks == [(USER, CUSTOMER)]
    assert world.state() == Sources(CUSTOMER, True, [])
    assert world.stripe.calls == [], "a deleted customer's subscriptions were read from Stripe"


def test_customer_deleted_of_a_customer_already_marked_writes_without_marking_again(world):
    world.mappings.mark_customer_deleted(USER, CUSTOMER)
    world.mappings.marks.clear()
    world.deliver(fixture("customer.deleted"))
    assert world.mappings.marks == []
    assert world.state() == Sources(CUSTOMER, True, [])


def test_customer_deleted_naming_no_user_is_ignored_before_any_read(world):
    event = fixture("customer.deleted")
    event["data"]["object"]["metadata"] = {}
    with pytest.raises(Ignored, match="unknown_customer"):
        world.deliver(event)
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])


def test_a_subscription_event_of_a_customer_naming_no_user_is_ignored_and_nothing_is_written(
    world,
):
    world.stripe.customers[CUSTOMER] = None
    with pytest.raises(Ignored, match="unknown_customer"):
        world.deliver(fixture("customer.subscription.updated"))
    assert (world.mappings.reads, world.db.writes) == ([], [])


def test_a_subscription_event_of_a_deleted_customer_is_ignored_as_customer_deleted(world):
    del world.stripe.customers[CUSTOMER]
    with pytest.raises(Ignored, match="customer_deleted"):
        world.deliver(fixture("customer.subscription.deleted"))
    assert world.db.writes == []


def test_the_customers_user_is_retrieved_once_per_instance(world):
    world.deliver(fixture("customer.subscription.created"))
    world.deliver(fixture("customer.subscription.updated"))
    retrieved = [call for call in world.stripe.calls if call[0] == "customer_state"]
    assert retrieved == [("customer_state", CUSTOMER)]


@pytest.mark.parametrize(
    ("whose", "livemode"), [(Ownership.FOREIGN, False), (Ownership.OWNED, True)]
)
def test_a_mapping_of_another_user_or_mode_is_ignored_and_nothing_is_written(
    world, whose, livemode
):
    world.mappings.mappings[USER] = mapping(CUSTOMER, uid=USER, livemode=livemode)
    world.mappings.ownership[USER] = whose
    for kind in ("customer.subscription.updated", "customer.deleted"):
        with pytest.raises(Ignored, match="unknown_customer"):
            world.deliver(fixture(kind))
    assert (world.mappings.marks, world.db.writes) == ([], [])


@pytest.mark.parametrize("kind", ["customer.subscription.updated", "customer.deleted"])
def test_an_event_of_the_users_former_customer_rebuilds_their_current_state_and_is_ignored(
    world, kind
):
    world.mappings.mappings[USER] = mapping("cus_Replacement2", uid=USER)
    current = [subscription("sub_OfTheNewCustomer", "active", 1720000000)]
    world.stripe.lists["cus_Replacement2"] = [current]
    with pytest.raises(Ignored, match="unknown_customer"):
        world.deliver(fixture(kind))
    assert world.state() == Sources("cus_Replacement2", False, summarize_all(current))
    assert world.mappings.marks == [], "the former customer's deletion marked the current one"


def test_a_completed_checkout_rebuilds_its_customers_owner_state_from_stripes_list(world):
    listed = [subscription("sub_FromCheckout1", "active", 1721954100)]
    world.stripe.lists[CUSTOMER] = [listed]
    world.deliver(fixture("checkout.session.completed"))
    assert world.state() == Sources(CUSTOMER, False, summarize_all(listed))
    assert world.log == {
        "customer": CUSTOMER,
        "user": logs.user_ref(USER),
        "subscriptions": 1,
        "entitlements": 0,
    }


def test_a_completed_checkout_trusts_the_customers_metadata_not_client_reference_id(world):
    event = fixture("checkout.session.completed")
    event["data"]["object"]["client_reference_id"] = "someone-else"
    world.stripe.lists[CUSTOMER] = [[]]
    world.deliver(event)
    assert world.state() == Sources(CUSTOMER, False, [])
    assert world.db.documents.get("customers/someone-else/billing/state") is None


def test_a_completed_checkout_without_a_customer_is_ignored_before_any_read(world):
    event = fixture("checkout.session.completed")
    event["data"]["object"]["customer"] = None
    with pytest.raises(Ignored, match="no_customer"):
        world.deliver(event)
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])


@pytest.mark.parametrize("customer", ["cus_", "sub_123", 42, {"id": "nope"}])
def test_a_completed_checkout_whose_customer_is_not_an_id_is_invalid_event(world, customer):
    event = fixture("checkout.session.completed")
    event["data"]["object"]["customer"] = customer
    with pytest.raises(InvalidEvent):
        world.deliver(event)
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])


@pytest.mark.parametrize("kind", WEBHOOK_EVENTS)
def test_an_object_not_shaped_as_stripes_is_invalid_event_before_anything_is_read(world, kind):
    event = fixture(kind)
    event["data"]["object"]["object"] = "invoice"
    with pytest.raises(InvalidEvent):
        world.deliver(event)
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])


SUMMARY = "entitlements.active_entitlement_summary.updated"


def test_an_entitlement_summary_rebuilds_the_state_from_stripes_lists_not_the_event(world):
    listed = [subscription("sub_Newer2", "active", 1720000000)]
    world.stripe.lists[CUSTOMER] = [listed]
    world.stripe.entitlements[CUSTOMER] = [["sso", "export_csv", "sso"]]
    event = fixture(SUMMARY)
    # the event's own summary names a feature Stripe no longer lists: never written
    event["data"]["object"]["entitlements"]["data"][0]["lookup_key"] = "stale_feature"
    world.deliver(event)
    assert world.state() == Sources(CUSTOMER, False, summarize_all(listed), ["export_csv", "sso"])
    assert world.log["entitlements"] == 2 and world.log["customer"] == CUSTOMER
    assert ("customer_entitlements", CUSTOMER) in world.stripe.calls


@pytest.mark.parametrize("kind", [*SUBSCRIPTION_EVENTS, SUMMARY])
def test_every_rebuild_keeps_the_active_entitlements_stripe_lists(world, kind):
    world.stripe.entitlements[CUSTOMER] = [["seats"]]
    world.deliver(fixture(kind))
    assert world.state().entitlements == ["seats"], kind


def test_entitlements_that_change_while_written_are_written_again(world):
    # Stripe drops a feature between the write and its check: the second round writes that
    world.stripe.entitlements[CUSTOMER] = [["export_csv", "seats"], ["seats"]]
    world.deliver(fixture(SUMMARY))
    assert world.state().entitlements == ["seats"]
    writes = [document["entitlements"] for _, document in world.db.writes]
    assert writes == [["export_csv", "seats"], ["seats"]]


def test_a_deleted_customers_state_has_no_entitlements_without_asking_stripe(world):
    world.stripe.entitlements[CUSTOMER] = [["seats"]]
    world.deliver(fixture("customer.deleted"))
    assert world.state() == Sources(CUSTOMER, True, [], [])


@pytest.mark.parametrize(
    "change",
    [
        {"customer": None},
        {"customer": "cus_QXg1o8vcGmoR32\n"},
        {"customer": {"id": "cus_QXg1o8vcGmoR32"}},
        {"customer": 42},
        {"object": "entitlements.active_entitlement"},
    ],
)
def test_a_summary_not_shaped_as_stripes_is_invalid_event_before_anything_is_read(world, change):
    event = fixture(SUMMARY)
    event["data"]["object"].update(change)
    with pytest.raises(InvalidEvent):
        world.deliver(event)
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])


# --- dispatch, in-process through functions-framework's app --------------------------------


def webhook_app(world: World, handlers=HANDLERS) -> WebhookApp:
    env = build_environment(
        stripe_secret_key="sk_test_inProcessTier0123456789",
        default_return_url="https://app.example.test/billing",
        google_cloud_project="in-process-tests",
        stripe_webhook_secret=SECRET,
        function_target="stripe_webhook",
    )
    return WebhookApp(
        load_settings(env),
        directory=world.mappings,
        billing=world.billing,
        stripe_gateway=world.stripe,
        handlers=handlers,
    )


def signed(event: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """Keyword arguments of a test client's POST of `event`, signed as Stripe signs it now."""
    body = json.dumps(event).encode()
    return {
        "data": body,
        "headers": {"Stripe-Signature": signature_header(body, secret, int(time.time()))},
        "content_type": "application/json",
    }


def made_up_event() -> dict[str, Any]:
    event = fixture("customer.subscription.created")
    event["type"] = "customer.discount.made_up"
    event["data"]["object"] = {"object": "discount", "id": "di_MadeUp1"}
    return event


def test_a_made_up_event_type_is_one_handler_and_one_row(world, capsys):
    seen: list[dict[str, Any]] = []

    def made_up(delivery: Delivery, event: dict[str, Any]) -> None:
        delivery.log["made_up"] = event["data"]["object"]["id"]
        seen.append(event)

    event = made_up_event()
    client = in_process.client(webhook_app(world, {**HANDLERS, event["type"]: made_up}))
    answer = client.post("/", **signed(event))
    assert (answer.status_code, answer.get_json()) == (200, {"received": True}), answer.text
    assert seen == [event], "the made-up type's handler did not get the event"
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (line["event"]["type"], line["made_up"]) == (event["type"], "di_MadeUp1"), line
    assert (world.mappings.reads, world.stripe.calls, world.db.writes) == ([], [], [])
    # the deployment's own table has no such row: the same event is ignored there
    answer = in_process.client(webhook_app(world)).post("/", **signed(event))
    assert answer.get_json() == {"received": True, "ignored": "unhandled_type"}


def test_no_handler_runs_before_the_signature_the_envelope_and_the_mode_are_checked(world):
    calls: list[str] = []
    kind = "customer.subscription.updated"
    client = in_process.client(
        webhook_app(world, {kind: lambda delivery, event: calls.append(event["id"])})
    )
    event = fixture(kind)
    not_stripes = copy.deepcopy(event)
    not_stripes["data"] = {"object": "sub_1"}
    other_mode = {**event, "livemode": True}
    refused = {
        "invalid_signature": signed(event, "whsec_notTheEndpoints0123"),
        "invalid_event": signed(not_stripes),
        "mode_mismatch": signed(other_mode),
    }
    for code, request in refused.items():
        answer = client.post("/", **request)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, code)
    assert calls == [], "a handler ran for a refused event"
    assert client.post("/", **signed(event)).status_code == 200
    assert calls == [event["id"]]
