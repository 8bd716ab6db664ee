"""Deep links only into the caller's own subscriptions, over real HTTP.

The function checks ownership itself (one Stripe read) before it asks for a session; it does not
rely on Stripe to refuse, so a refused deep link never reaches the session endpoint.
"""

from __future__ import annotations

import pytest

from tests.function.conftest import customers_of
from tests.support.stripe_objects import subscribe as new_subscription

pytestmark = pytest.mark.integration


def session_creates(standin) -> int:
    return len(standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST"))


def customer_of_user(server, issuer, standin, uid: str) -> str:
    assert server.post(issuer.mint(uid)).status_code == 200
    return customers_of(standin, uid)[0]["id"]


def subscribe(standin, customer: str) -> dict:
    return new_subscription(standin.client(), customer)


@pytest.mark.parametrize("kind", ["subscription_cancel", "subscription_update"])
def test_a_deep_link_into_the_callers_own_subscription_opens_that_flow(
    function_server, dev_issuer, stripe_standin, new_uid, kind
):
    subscription = subscribe(
        stripe_standin, customer_of_user(function_server, dev_issuer, stripe_standin, new_uid)
    )
    flow = {"type": kind, "subscription": subscription["id"]}
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text
    sent = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")[-1]
    assert sent["params"]["flow_data"] == {kind: {"subscription": subscription["id"]}, "type": kind}


def test_confirming_an_update_of_the_callers_own_items_opens_that_flow(
    function_server, dev_issuer, stripe_standin, new_uid
):
    subscription = subscribe(
        stripe_standin, customer_of_user(function_server, dev_issuer, stripe_standin, new_uid)
    )
    item = subscription["items"]["data"][0]
    flow = {
        "type": "subscription_update_confirm",
        "subscription": subscription["id"],
        "items": [{"id": item["id"], "quantity": 1}],
    }
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "kind", ["subscription_cancel", "subscription_update", "subscription_update_confirm"]
)
def test_a_deep_link_into_another_users_subscription_is_404_and_no_session(
    function_server, dev_issuer, stripe_standin, new_uid, kind
):
    victim = subscribe(
        stripe_standin,
        customer_of_user(function_server, dev_issuer, stripe_standin, "v-" + new_uid),
    )
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    flow = {"type": kind, "subscription": victim["id"]}
    if kind == "subscription_update_confirm":
        flow["items"] = [{"id": victim["items"]["data"][0]["id"], "quantity": 9}]
    before = session_creates(stripe_standin)
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "subscription_not_found"
    assert session_creates(stripe_standin) == before, "the session endpoint was never asked"


def test_a_deep_link_into_a_missing_subscription_is_404_no_session_and_no_new_customer(
    function_server, dev_issuer, stripe_standin, new_uid
):
    customer = customer_of_user(function_server, dev_issuer, stripe_standin, new_uid)
    before = session_creates(stripe_standin)
    flow = {"type": "subscription_cancel", "subscription": f"sub_{customer}"}
    for _ in range(5):
        response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "subscription_not_found"
    assert session_creates(stripe_standin) == before
    assert [c["id"] for c in customers_of(stripe_standin, new_uid)] == [customer]


def test_a_new_user_with_a_subscription_deep_link_gets_404_and_no_customer(
    function_server, dev_issuer, stripe_standin, new_uid
):
    flow = {"type": "subscription_update", "subscription": "sub_NoSuchThing0001"}
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 404, response.text
    assert customers_of(stripe_standin, new_uid) == []


def test_confirming_an_item_that_is_not_of_that_subscription_is_400_and_no_session(
    function_server, dev_issuer, stripe_standin, new_uid
):
    customer = customer_of_user(function_server, dev_issuer, stripe_standin, new_uid)
    mine, other = subscribe(stripe_standin, customer), subscribe(stripe_standin, customer)
    flow = {
        "type": "subscription_update_confirm",
        "subscription": mine["id"],
        "items": [{"id": other["items"]["data"][0]["id"], "quantity": 2}],
    }
    before = session_creates(stripe_standin)
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_flow"
    assert session_creates(stripe_standin) == before


# ---------------------------------------------------------------------------- pause


def pausing_function(function_factory, standin):
    """A function on a configuration that enables pausing, told so as `pulumi up` tells it."""
    configuration = standin.client().v1.billing_portal.configurations.create(
        params={
            "features": {"invoice_history": {"enabled": True}},
            "default_return_url": "https://app.example.com/account",
        }
    )
    standin.client().v1.billing_portal.configurations.update(
        configuration.id, params={"features": {"subscription_pause": {"enabled": True}}}
    )
    return function_factory(
        "pause",
        PORTAL_CONFIGURATION_ID=configuration.id,
        PORTAL_SUBSCRIPTION_PAUSE="true",
    )


def test_a_pause_deep_link_into_a_portal_without_pause_is_400_and_no_session(
    function_server, dev_issuer, stripe_standin, new_uid
):
    subscription = subscribe(
        stripe_standin, customer_of_user(function_server, dev_issuer, stripe_standin, new_uid)
    )
    before = session_creates(stripe_standin)
    flow = {"type": "subscription_pause", "subscription": subscription["id"]}
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "flow_not_enabled"
    assert session_creates(stripe_standin) == before


def test_a_pause_deep_link_into_the_callers_own_subscription_opens_the_pause_flow(
    function_factory, dev_issuer, stripe_standin, new_uid
):
    server = pausing_function(function_factory, stripe_standin)
    subscription = subscribe(
        stripe_standin, customer_of_user(server, dev_issuer, stripe_standin, new_uid)
    )
    flow = {"type": "subscription_pause", "subscription": subscription["id"]}
    response = server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text
    sent = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")[-1]
    assert sent["params"]["flow_data"] == {
        "subscription_pause": {"subscription": subscription["id"]},
        "type": "subscription_pause",
    }
    # the same ownership rule as the other subscription flows
    victim = subscribe(
        stripe_standin, customer_of_user(server, dev_issuer, stripe_standin, "v-" + new_uid)
    )
    before = session_creates(stripe_standin)
    flow = {"type": "subscription_pause", "subscription": victim["id"]}
    response = server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "subscription_not_found"
    assert session_creates(stripe_standin) == before


def test_the_stand_in_refuses_a_pause_flow_where_the_configuration_does_not_enable_it(
    stripe_standin,
):
    import stripe

    sdk = stripe_standin.client()
    customer = sdk.v1.customers.create(params={}).id
    subscription = subscribe(stripe_standin, customer)["id"]
    configuration = sdk.v1.billing_portal.configurations.create(
        params={
            "features": {"invoice_history": {"enabled": True}},
            "default_return_url": "https://app.example.com/account",
        }
    ).id
    params = {
        "customer": customer,
        "configuration": configuration,
        "flow_data": {
            "type": "subscription_pause",
            "subscription_pause": {"subscription": subscription},
        },
    }
    with pytest.raises(stripe.InvalidRequestError, match="subscription_pause"):
        sdk.v1.billing_portal.sessions.create(params=params)
    sdk.v1.billing_portal.configurations.update(
        configuration, params={"features": {"subscription_pause": {"enabled": True}}}
    )
    session = sdk.v1.billing_portal.sessions.create(params=params)
    assert session.flow.type == "subscription_pause"


# ---------------------------------------------------------------------------- the catalog
#
# A `subscription_update_confirm` deep link names what the customer is about to buy: a price and
# a quantity. The function refuses, itself, anything the stack's portal does not sell (its
# plan-switching prices, each with its product's adjustable-quantity bounds, in PORTAL_PRICES),
# with a 400 the frontend can show, and asks Stripe nothing for it.


def stripe_calls(standin) -> int:
    return len(standin.requests())


def confirm(subscription: dict, **item) -> dict:
    """A `subscription_update_confirm` deep link for the subscription's first item."""
    return {
        "type": "subscription_update_confirm",
        "subscription": subscription["id"],
        "items": [{"id": subscription["items"]["data"][0]["id"], **item}],
    }


@pytest.fixture(scope="module")
def catalog(stripe_standin):
    """Two prices the stack's portal offers: `team` (quantity 1–25) and `solo` (not adjustable),
    and a price of the same account that the portal does not offer."""
    from tests.support.stripe_objects import monthly_price

    client = stripe_standin.client()
    return {
        "team": monthly_price(client, 2900),
        "solo": monthly_price(client, 900),
        "unsold": monthly_price(client, 100),
    }


@pytest.fixture(scope="module")
def catalog_server(function_factory, catalog):
    """A function told its portal's catalog, as the Pulumi program and the local run tell it."""
    return function_factory("catalog", PORTAL_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}")


def own_subscription(server, issuer, standin, uid: str, price: str | None = None) -> dict:
    customer = customer_of_user(server, issuer, standin, uid)
    return new_subscription(standin.client(), customer, price)


def assert_refused(server, standin, token: str, flow: dict, code: str) -> None:
    """400 `code`, and the refused request made no Stripe call at all."""
    before = stripe_calls(standin)
    response = server.post(token, {"flow": flow})
    assert response.status_code == 400, f"{flow}: {response.status_code} {response.text}"
    assert response.json()["error"]["code"] == code, f"{flow}: {response.text}"
    assert stripe_calls(standin) == before, f"{flow}: Stripe was called for a refused deep link"


def test_a_price_the_portal_does_not_offer_is_400_price_not_allowed_and_no_stripe_call(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    subscription = own_subscription(
        catalog_server, dev_issuer, stripe_standin, new_uid, catalog["team"]
    )
    token = dev_issuer.mint(new_uid)
    for price in ("price_nope", catalog["unsold"]):
        flow = confirm(subscription, price=price)
        assert_refused(catalog_server, stripe_standin, token, flow, "price_not_allowed")


def test_a_quantity_outside_the_products_bounds_is_400_invalid_quantity_and_no_stripe_call(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    subscription = own_subscription(
        catalog_server, dev_issuer, stripe_standin, new_uid, catalog["team"]
    )
    token = dev_issuer.mint(new_uid)
    for quantity in (0, 26, 10**30):
        flow = confirm(subscription, price=catalog["team"], quantity=quantity)
        assert_refused(catalog_server, stripe_standin, token, flow, "invalid_quantity")


def test_a_quantity_other_than_1_of_a_price_without_adjustable_quantity_is_400(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    subscription = own_subscription(
        catalog_server, dev_issuer, stripe_standin, new_uid, catalog["team"]
    )
    token = dev_issuer.mint(new_uid)
    for quantity in (0, 2):
        flow = confirm(subscription, price=catalog["solo"], quantity=quantity)
        assert_refused(catalog_server, stripe_standin, token, flow, "invalid_quantity")


@pytest.mark.parametrize("count", [2, 20])
def test_more_than_one_item_is_400_too_many_items_and_no_stripe_call(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid, count
):
    subscription = own_subscription(
        catalog_server, dev_issuer, stripe_standin, new_uid, catalog["team"]
    )
    item = {"id": subscription["items"]["data"][0]["id"], "price": catalog["team"], "quantity": 2}
    flow = {
        "type": "subscription_update_confirm",
        "subscription": subscription["id"],
        "items": [item] * count,
    }
    token = dev_issuer.mint(new_uid)
    assert_refused(catalog_server, stripe_standin, token, flow, "too_many_items")


def test_a_switch_to_an_offered_price_within_its_bounds_opens_the_confirm_flow(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    subscription = own_subscription(
        catalog_server, dev_issuer, stripe_standin, new_uid, catalog["solo"]
    )
    for price, quantity in ((catalog["team"], 25), (catalog["team"], 1), (catalog["solo"], 1)):
        flow = confirm(subscription, price=price, quantity=quantity)
        response = catalog_server.post(dev_issuer.mint(new_uid), {"flow": flow})
        assert response.status_code == 200, f"{price} x{quantity}: {response.text}"
        sent = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")
        items = sent[-1]["params"]["flow_data"]["subscription_update_confirm"]["items"]
        # as sent on the wire (form-encoded): one item, the price and quantity asked for
        assert items == {
            "0": {"id": flow["items"][0]["id"], "price": price, "quantity": str(quantity)}
        }, items


def test_a_quantity_change_alone_is_bounded_by_the_items_current_price(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    team = own_subscription(catalog_server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    solo = new_subscription(stripe_standin.client(), team["customer"], catalog["solo"])
    token = dev_issuer.mint(new_uid)
    assert catalog_server.post(token, {"flow": confirm(team, quantity=7)}).status_code == 200
    for subscription, quantity in ((team, 26), (solo, 2)):
        before = session_creates(stripe_standin)
        response = catalog_server.post(token, {"flow": confirm(subscription, quantity=quantity)})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_quantity", response.text
        assert session_creates(stripe_standin) == before


def test_without_a_catalog_no_price_and_no_quantity_above_1_is_passed_to_stripe(
    function_server, dev_issuer, stripe_standin, new_uid
):
    # The findings, as reported: a stack whose portal offers no plan switching (no PORTAL_PRICES).
    subscription = own_subscription(function_server, dev_issuer, stripe_standin, new_uid)
    token = dev_issuer.mint(new_uid)
    price = subscription["items"]["data"][0]["price"]["id"]
    for flow, code in (
        (confirm(subscription, price="price_nope"), "price_not_allowed"),
        (confirm(subscription, price=price), "price_not_allowed"),
        (confirm(subscription, price=price, quantity=10**30), "price_not_allowed"),
    ):
        assert_refused(function_server, stripe_standin, token, flow, code)
    before = session_creates(stripe_standin)
    response = function_server.post(token, {"flow": confirm(subscription, quantity=10**30)})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_quantity"
    assert session_creates(stripe_standin) == before


def test_a_switch_without_a_quantity_is_bounded_by_the_new_price_at_the_items_current_quantity(
    catalog_server, catalog, dev_issuer, stripe_standin, new_uid
):
    # Issue 19, second review: a link that names a price and no quantity keeps the item's own
    # quantity (Stripe changes only what the link names), so 20 seats of `team` became 20 of
    # `solo`, whose quantity is not adjustable, with a session opened for it.
    customer = customer_of_user(catalog_server, dev_issuer, stripe_standin, new_uid)
    team = new_subscription(stripe_standin.client(), customer, catalog["team"], quantity=20)
    token = dev_issuer.mint(new_uid)
    before = session_creates(stripe_standin)
    response = catalog_server.post(token, {"flow": confirm(team, price=catalog["solo"])})
    assert response.status_code == 400, f"20 seats of solo: {response.text}"
    assert response.json()["error"]["code"] == "invalid_quantity", response.text
    assert session_creates(stripe_standin) == before, "no session for a refused deep link"
    response = catalog_server.post(token, {"flow": confirm(team, price=catalog["team"])})
    assert response.status_code == 200, f"20 seats of team stay within 1-25: {response.text}"
