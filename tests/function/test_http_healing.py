"""Self-healing is for a deleted customer only, and at most once per user within the cap.

Over real HTTP: function server ↔ Firestore emulator ↔ Stripe stand-in.
"""

from __future__ import annotations

import pytest

from tests.function.conftest import customers_of

pytestmark = pytest.mark.integration


def first_customer(server, issuer, standin, uid: str) -> str:
    assert server.post(issuer.mint(uid)).status_code == 200
    return customers_of(standin, uid)[0]["id"]


@pytest.mark.parametrize("subscription", ["own-customer-id", "sub_DoesNotExist123"])
def test_a_missing_subscription_in_a_deep_link_never_replaces_the_customer(
    function_server, dev_issuer, stripe_standin, new_uid, subscription
):
    customer = first_customer(function_server, dev_issuer, stripe_standin, new_uid)
    if subscription == "own-customer-id":
        # Stripe's message for it ("No such subscription: 'sub_cus_…'") contains the customer
        # id; that alone used to count as "customer deleted".
        subscription = f"sub_{customer}"
    # Stripe's answer to a deep link into a missing subscription, should the request get there.
    stripe_standin.inject_fault(
        status=400,
        code="resource_missing",
        param="flow_data[subscription_cancel][subscription]",
        message=f"No such subscription: '{subscription}'",
        path_prefix="/v1/billing_portal/sessions",
        count=50,
    )
    flow = {"type": "subscription_cancel", "subscription": subscription}
    try:
        statuses = [
            function_server.post(dev_issuer.mint(new_uid), {"flow": flow}).status_code
            for _ in range(5)
        ]
    finally:
        stripe_standin.clear_faults()
    assert all(400 <= status < 500 for status in statuses), statuses
    assert [c["id"] for c in customers_of(stripe_standin, new_uid)] == [customer]


def test_resource_missing_on_customer_for_a_customer_that_exists_does_not_heal(
    function_server, dev_issuer, stripe_standin, new_uid
):
    customer = first_customer(function_server, dev_issuer, stripe_standin, new_uid)
    stripe_standin.inject_fault(
        status=400,
        code="resource_missing",
        param="customer",
        message=f"No such customer: '{customer}'",
        path_prefix="/v1/billing_portal/sessions",
        count=2,
    )
    try:
        response = function_server.post(dev_issuer.mint(new_uid))
    finally:
        stripe_standin.clear_faults()
    assert response.status_code == 502, response.text
    assert [c["id"] for c in customers_of(stripe_standin, new_uid)] == [customer]


def test_a_second_deletion_within_the_cap_does_not_create_a_third_customer(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid
):
    original = first_customer(function_server, dev_issuer, stripe_standin, new_uid)
    stripe_standin.delete_customer(original)
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    doc = firestore_db.collection(function_server.collection).document(new_uid).get().to_dict()
    assert doc["generation"] == 1 and doc["healed_at"] is not None

    stripe_standin.delete_customer(doc["stripe_customer_id"])
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "customer_replace_throttled"
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert len(customers_of(stripe_standin, new_uid)) == 2
    again = firestore_db.collection(function_server.collection).document(new_uid).get().to_dict()
    assert again["generation"] == 1, "the mapping is left as it was"
