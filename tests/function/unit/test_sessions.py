"""A deep link's subscription: the pure decisions of sessions.py, called directly.

Which subscription a link points into, whether its flow is enabled, and whether the subscription
and the items it names are the caller's (`check_deep_link`). The catalog rules are
test_deep_links.py's; the HTTP tier (test_http_deep_links.py) proves the whole path.
"""

from __future__ import annotations

import pytest

from billing_portal.errors import BadRequest, NotFound
from billing_portal.sessions import (
    SUBSCRIPTION_FLOWS,
    check_deep_link,
    check_flow_enabled,
    flow_items,
    flow_subscription,
)
from billing_portal.settings import build_environment, load_settings
from billing_portal.stripe_api import SubscriptionOwner

OWNER = SubscriptionOwner(customer_id="cus_1", item_prices={"si_1": "price_1", "si_2": None})


def flow(kind: str, **fields: object) -> dict:
    return {"type": kind, kind: {"subscription": "sub_1", **fields}}


def confirm(*item_ids: str) -> dict:
    return flow("subscription_update_confirm", items=[{"id": item} for item in item_ids])


def settings(pause: bool):
    env = build_environment(
        stripe_secret_key="sk_test_inProcessTier0123456789",
        default_return_url="https://app.example.test/billing",
        google_cloud_project="in-process-tests",
        portal_subscription_pause="true" if pause else "false",
    )
    return load_settings(env)


@pytest.mark.parametrize("kind", SUBSCRIPTION_FLOWS)
def test_a_subscription_flow_points_into_its_subscription(kind):
    assert flow_subscription(flow(kind)) == "sub_1"


@pytest.mark.parametrize("link", [None, {}, {"type": "payment_method_update"}])
def test_other_flows_and_no_flow_point_into_no_subscription(link):
    assert flow_subscription(link) is None


def test_the_items_a_link_names_are_its_item_ids():
    assert flow_items(confirm("si_1", "si_2")) == frozenset({"si_1", "si_2"})
    assert flow_items(flow("subscription_cancel")) == frozenset()


def test_a_pause_link_is_refused_unless_the_stacks_portal_lets_customers_pause():
    with pytest.raises(BadRequest) as caught:
        check_flow_enabled(flow("subscription_pause"), settings(pause=False))
    assert (caught.value.status, caught.value.code) == (400, "flow_not_enabled")
    check_flow_enabled(flow("subscription_pause"), settings(pause=True))
    check_flow_enabled(flow("subscription_cancel"), settings(pause=False))
    check_flow_enabled(None, settings(pause=False))


def test_a_link_into_the_callers_subscription_and_its_items_passes_with_its_owner():
    assert check_deep_link(confirm("si_1", "si_2"), OWNER, "cus_1") is OWNER
    assert check_deep_link(flow("subscription_cancel"), OWNER, "cus_1") is OWNER


@pytest.mark.parametrize(
    ("owner", "customer"),
    [(None, "cus_1"), (OWNER, None), (OWNER, "cus_2"), (None, None)],
    ids=["no-such-subscription", "caller-without-customer", "another-customers", "neither"],
)
def test_a_subscription_not_the_callers_is_the_same_404_whether_or_not_it_exists(owner, customer):
    with pytest.raises(NotFound) as caught:
        check_deep_link(flow("subscription_cancel"), owner, customer)
    error = caught.value
    assert (error.status, error.code, error.message) == (
        404,
        "subscription_not_found",
        "No such subscription among yours; check flow.subscription.",
    )


def test_an_item_not_on_the_callers_subscription_is_400_naming_its_index():
    with pytest.raises(BadRequest) as caught:
        check_deep_link(confirm("si_1", "si_other"), OWNER, "cus_1")
    error = caught.value
    assert (error.status, error.code) == (400, "invalid_flow")
    assert "flow.items[1].id" in error.message
