"""Injected faults and latency, each observed through the SDK or plain HTTP."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from local.stripe import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def test_injected_500_surfaces_as_api_error(fresh_stripe_standin, sdk):
    fresh_stripe_standin.inject_fault(status=500, path_prefix="/v1/customers")
    with pytest.raises(stripe.APIError) as caught:
        sdk.v1.customers.create()
    assert caught.value.http_status == 500
    assert fresh_stripe_standin.customers() == [], "a failed-before request created a customer"


def test_sdk_retries_through_a_single_500(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(status=500, count=1, method="POST")
    client = fresh_stripe_standin.client(max_network_retries=2)
    customer = client.v1.customers.create()
    statuses = [e["status"] for e in fresh_stripe_standin.requests(method="POST")]
    assert customer.id
    assert statuses == [500, 200]


def test_injected_429_carries_retry_after_and_is_a_rate_limit_error(fresh_stripe_standin, sdk):
    fresh_stripe_standin.inject_fault(status=429, count=2, headers={"Retry-After": "7"})
    raw = requests.post(fresh_stripe_standin.url + "/v1/customers", headers=AUTH, timeout=10)
    assert raw.status_code == 429
    assert raw.headers["Retry-After"] == "7"
    assert raw.json()["error"]["code"] == "rate_limit"
    with pytest.raises(stripe.RateLimitError):
        sdk.v1.customers.create()


def test_injected_delay_makes_a_short_client_timeout_fire(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(delay_ms=1500, path_prefix="/v1/billing_portal/sessions")
    client = fresh_stripe_standin.client(
        max_network_retries=0, http_client=stripe.RequestsClient(timeout=0.3)
    )
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.billing_portal.sessions.create(params={"customer": "cus_x"})
    assert time.monotonic() - started < 1.4


def test_delay_alone_only_slows_the_request(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(delay_ms=200, method="GET")
    started = time.monotonic()
    response = requests.get(fresh_stripe_standin.url + "/v1/account", headers=AUTH, timeout=10)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_dropped_connection_is_a_connection_error(fresh_stripe_standin, sdk):
    fresh_stripe_standin.inject_fault(drop=True, count=2)
    with pytest.raises(requests.ConnectionError):
        requests.post(fresh_stripe_standin.url + "/v1/customers", headers=AUTH, timeout=10)
    with pytest.raises(stripe.APIConnectionError):
        sdk.v1.customers.create()
    assert fresh_stripe_standin.requests()[0]["status"] is None


def test_faults_only_hit_matching_requests_and_run_out(fresh_stripe_standin, sdk):
    fresh_stripe_standin.inject_fault(
        status=503, count=1, method="POST", path_prefix="/v1/billing_portal/sessions"
    )
    sdk.v1.customers.create()  # different path: unaffected
    assert len(fresh_stripe_standin.pending_faults()) == 1
    with pytest.raises(stripe.APIError):
        sdk.v1.billing_portal.sessions.create(params={"customer": "cus_x"})
    assert fresh_stripe_standin.pending_faults() == []


def test_fault_can_send_a_non_json_body(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(status=502, body="<html>Bad gateway</html>")
    response = requests.get(fresh_stripe_standin.url + "/v1/account", headers=AUTH, timeout=10)
    assert (response.status_code, response.text) == (502, "<html>Bad gateway</html>")


def test_request_log_names_the_fault_applied(fresh_stripe_standin, sdk):
    fault = fresh_stripe_standin.inject_fault(status=500)
    with pytest.raises(stripe.APIError):
        sdk.v1.customers.create()
    (entry,) = fresh_stripe_standin.requests()
    assert entry["fault"]["id"] == fault["id"]


def test_latency_is_added_to_every_api_request(fresh_stripe_standin):
    fresh_stripe_standin.set_latency(100)
    started = time.monotonic()
    for _ in range(3):
        requests.get(fresh_stripe_standin.url + "/v1/account", headers=AUTH, timeout=10)
    assert time.monotonic() - started >= 0.3
    fresh_stripe_standin.set_latency(0)


def test_bad_fault_description_is_refused(fresh_stripe_standin):
    response = requests.post(
        fresh_stripe_standin.url + "/_standin/faults", json={"count": 1, "colour": "red"}, timeout=5
    )
    assert response.status_code == 400
    assert "colour" in response.json()["error"]


def test_request_delayed_past_a_reset_leaves_no_trace_in_the_new_state(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(delay_ms=300, path_prefix="/v1/customers")
    with pytest.raises(requests.Timeout):
        requests.post(fresh_stripe_standin.url + "/v1/customers", headers=AUTH, timeout=0.1)
    fresh_stripe_standin.reset()
    time.sleep(0.4)
    assert fresh_stripe_standin.customers() == []
    assert fresh_stripe_standin.requests() == []


def test_injected_error_can_name_the_parameter_and_carry_any_message(fresh_stripe_standin, sdk):
    fresh_stripe_standin.inject_fault(
        status=400, code="resource_missing", param="customer", message="No such customer: 'x'"
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.create()
    assert caught.value.param == "customer"
    assert caught.value.code == "resource_missing"
    assert caught.value.user_message == "No such customer: 'x'"
