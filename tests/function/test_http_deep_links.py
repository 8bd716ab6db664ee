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
        "items": [{"id": item["id"], "quantity": 2}],
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
