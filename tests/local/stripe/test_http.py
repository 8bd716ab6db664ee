"""The stand-in at the HTTP level: auth, errors, keep-alive, concurrency, the request log."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
import stripe

from local.stripe import StripeStandin

KEY = "sk_test_" + "a1B2c3D4e5F6g7H8i9J0" + "abcd"


def post(standin, path, data=None, key=KEY, **kwargs):
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return requests.post(standin.url + path, data=data, headers=headers, timeout=10, **kwargs)


def test_unknown_key_form_is_401_with_the_key_masked(fresh_stripe_standin):
    bad = "sk_test_" + "Z" * 20 + "wxyz"
    response = post(fresh_stripe_standin, "/v1/customers", key="sk_nope_" + bad[8:])
    assert response.status_code == 401, f"POST /v1/customers with a malformed key: {response.text}"
    error = response.json()["error"]
    assert error == {
        "type": "invalid_request_error",
        "message": "Invalid API Key provided: ****wxyz",
    }
    assert bad[8:] not in response.text


def test_key_not_in_the_accepted_list_is_401_masked_like_stripe():
    with StripeStandin(api_keys=[KEY]) as standin:
        other = "sk_test_" + "Q" * 20 + "abcd"
        refused = post(standin, "/v1/customers", key=other)
        accepted = post(standin, "/v1/customers", key=KEY)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "Invalid API Key provided: sk_test_****abcd"
    assert accepted.status_code == 200, accepted.text


def test_missing_authorization_is_401_explaining_bearer_auth(fresh_stripe_standin):
    response = requests.get(fresh_stripe_standin.url + "/v1/customers", timeout=10)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


def test_bad_key_surfaces_as_authentication_error_in_the_sdk(fresh_stripe_standin):
    client = fresh_stripe_standin.client("pk_test_" + "x" * 24, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.create()


def test_unrecognized_url_is_404_like_stripe(fresh_stripe_standin):
    response = post(fresh_stripe_standin, "/v1/charges")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "Unrecognized request URL (POST: /v1/charges)"
    )


def test_unknown_query_parameter_on_a_list_is_parameter_unknown(fresh_stripe_standin):
    response = requests.get(
        fresh_stripe_standin.url + "/v1/customers",
        params={"colour": "red"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "colour"


def test_responses_carry_request_id_and_stripe_version(fresh_stripe_standin):
    response = post(
        fresh_stripe_standin, "/v1/customers", headers={"Stripe-Version": "2026-10-28.endive"}
    )
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Stripe-Version"] == "2026-10-28.endive"


def test_two_requests_share_one_kept_alive_connection(fresh_stripe_standin):
    url = urlsplit(fresh_stripe_standin.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    statuses = []
    for _ in range(2):
        connection.request(
            "POST", "/v1/customers", body="", headers={"Authorization": f"Bearer {KEY}"}
        )
        response = connection.getresponse()
        response.read()
        statuses.append((response.status, response.getheader("Connection")))
    connection.close()
    assert statuses == [(200, None), (200, None)]


def test_fifty_concurrent_sdk_requests_all_succeed(fresh_stripe_standin):
    client = fresh_stripe_standin.client(max_network_retries=0)

    def create(index: int) -> str:
        return client.v1.customers.create(params={"metadata": {"n": str(index)}}).id

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = list(pool.map(create, range(50)))
    assert len(set(ids)) == 50
    assert len(fresh_stripe_standin.customers()) == 50


def test_request_log_records_the_request_without_the_key(fresh_stripe_standin):
    post(
        fresh_stripe_standin,
        "/v1/customers",
        data={"metadata[app_user_id]": "u1", "email": "ann@example.test"},
        headers={"Idempotency-Key": "idem-1"},
    )
    (entry,) = fresh_stripe_standin.requests(path_prefix="/v1/customers", method="POST")
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/customers"
    assert entry["params"] == {"metadata": {"app_user_id": "u1"}, "email": "ann@example.test"}
    assert entry["idempotency_key"] == "idem-1"
    assert (entry["status"], entry["livemode"]) == (200, False)
    assert KEY not in json.dumps(entry)
    assert KEY[8:] not in json.dumps(fresh_stripe_standin.requests())


def test_request_log_filters_by_method_and_path_prefix(fresh_stripe_standin):
    post(fresh_stripe_standin, "/v1/customers")
    requests.get(
        fresh_stripe_standin.url + "/v1/account",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert [e["path"] for e in fresh_stripe_standin.requests(method="GET")] == ["/v1/account"]
    assert [e["method"] for e in fresh_stripe_standin.requests(path_prefix="/v1/cust")] == ["POST"]


def test_reset_clears_objects_log_and_faults(fresh_stripe_standin):
    post(fresh_stripe_standin, "/v1/customers")
    fresh_stripe_standin.inject_fault(status=500, count=5)
    fresh_stripe_standin.reset()
    assert fresh_stripe_standin.customers() == []
    assert fresh_stripe_standin.requests() == []
    assert fresh_stripe_standin.pending_faults() == []
    assert post(fresh_stripe_standin, "/v1/customers").status_code == 200


def test_control_api_deletion_looks_like_a_dashboard_deletion(fresh_stripe_standin):
    customer = post(fresh_stripe_standin, "/v1/customers").json()
    fresh_stripe_standin.delete_customer(customer["id"])
    assert fresh_stripe_standin.customers() == []
    (gone,) = fresh_stripe_standin.customers(include_deleted=True)
    assert (gone["id"], gone["deleted"]) == (customer["id"], True)


def test_accepted_keys_can_be_narrowed_and_widened_at_run_time(fresh_stripe_standin):
    other = "sk_test_" + "R" * 24
    try:
        fresh_stripe_standin.accept_keys([KEY])
        assert post(fresh_stripe_standin, "/v1/customers", key=other).status_code == 401
        assert post(fresh_stripe_standin, "/v1/customers", key=KEY).status_code == 200
    finally:
        fresh_stripe_standin.accept_keys(None)
    assert post(fresh_stripe_standin, "/v1/customers", key=other).status_code == 200
