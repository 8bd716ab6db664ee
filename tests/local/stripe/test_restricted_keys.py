"""Restricted keys: the stand-in refuses what a key's permissions do not cover, as Stripe does."""

from __future__ import annotations

import uuid

import pytest
import requests

from local.stripe.core.permissions import resource_of


def restricted_key() -> str:
    """A restricted key no other test has given permissions to."""
    return "rk_test_" + uuid.uuid4().hex


def call(standin, method, path, key, data=None):
    headers = {"Authorization": f"Bearer {key}"}
    return requests.request(method, standin.url + path, data=data, headers=headers, timeout=10)


def test_a_key_without_the_resource_gets_stripes_403_before_the_endpoint_runs(
    fresh_stripe_standin,
):
    key = restricted_key()
    fresh_stripe_standin.restrict_key(key, {"customers": "write"})
    answer = call(fresh_stripe_standin, "GET", "/v1/subscriptions/sub_doesNotExist", key)
    assert answer.status_code == 403, f"GET /v1/subscriptions/… unpermitted: {answer.text}"
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and "code" not in error
    # Stripe's own wording (stripe/stripe-node#2246, tylerjrichards/st-paywall#36): the key,
    # "for this endpoint on account 'acct_…'", then the permission that would allow it.
    message = error["message"]
    assert "does not have the required permissions for this endpoint on account " in message
    account = fresh_stripe_standin.client().v1.accounts.retrieve_current().id
    assert f"on account '{account}'. Having the 'rak_subscriptions_read'" in message
    assert key not in answer.text  # masked, as every message of the stand-in


def test_read_allows_reads_and_refuses_writes(fresh_stripe_standin):
    key = restricted_key()
    fresh_stripe_standin.restrict_key(key, {"subscriptions": "read"})
    listed = call(fresh_stripe_standin, "GET", "/v1/subscriptions?limit=1", key)
    assert listed.status_code == 200, f"GET /v1/subscriptions with read: {listed.text}"
    written = call(fresh_stripe_standin, "POST", "/v1/subscriptions/sub_doesNotExist", key)
    assert written.status_code == 403, f"POST /v1/subscriptions/… with read: {written.text}"
    assert "'rak_subscriptions_write'" in written.json()["error"]["message"]


def test_write_allows_reads_and_writes(fresh_stripe_standin):
    key = restricted_key()
    fresh_stripe_standin.restrict_key(key, {"customers": "write"})
    created = call(fresh_stripe_standin, "POST", "/v1/customers", key)
    assert created.status_code == 200, f"POST /v1/customers with write: {created.text}"
    read = call(fresh_stripe_standin, "GET", f"/v1/customers/{created.json()['id']}", key)
    assert read.status_code == 200, f"GET /v1/customers/… with write: {read.text}"


def test_a_permitted_request_for_a_missing_object_is_resource_missing(fresh_stripe_standin):
    key = restricted_key()
    fresh_stripe_standin.restrict_key(key, {"customers": "read"})
    answer = call(fresh_stripe_standin, "GET", "/v1/customers/cus_doesNotExist", key)
    assert answer.status_code == 404, f"GET /v1/customers/… with read: {answer.text}"
    assert answer.json()["error"]["code"] == "resource_missing"


def test_keys_never_restricted_may_do_anything(fresh_stripe_standin):
    answer = call(fresh_stripe_standin, "GET", "/v1/subscriptions?limit=1", restricted_key())
    assert answer.status_code == 200, f"GET /v1/subscriptions, unrestricted rk_: {answer.text}"


def test_only_restricted_keys_take_permissions(fresh_stripe_standin):
    with pytest.raises(Exception, match="only a restricted key"):
        fresh_stripe_standin.restrict_key(fresh_stripe_standin.test_key, {"customers": "read"})


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/v1/customers", "customers"),
        ("/v1/customers/cus_1/tax_ids", "customers"),
        ("/v1/billing_portal/sessions", "billing_portal"),
        ("/v1/checkout/sessions", "checkout_sessions"),
        ("/v1/checkout/sessions/cs_test_1/expire", "checkout_sessions"),
        ("/v1/account", "accounts"),
        ("/v1/accounts/acct_1", "accounts"),
    ],
)
def test_a_request_needs_the_permission_of_its_urls_resource(path, resource):
    assert resource_of(path) == resource


def test_active_entitlements_need_the_entitlements_read_permission(fresh_stripe_standin):
    key = restricted_key()
    fresh_stripe_standin.restrict_key(key, {"customers": "write", "subscriptions": "read"})
    customer = fresh_stripe_standin.client().v1.customers.create().id
    path = f"/v1/entitlements/active_entitlements?customer={customer}"
    refused = call(fresh_stripe_standin, "GET", path, key)
    assert refused.status_code == 403
    assert "'rak_entitlements_read'" in refused.json()["error"]["message"]
    fresh_stripe_standin.restrict_key(key, {"customers": "write", "entitlements": "read"})
    assert call(fresh_stripe_standin, "GET", path, key).status_code == 200
