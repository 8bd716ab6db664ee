"""Idempotency-Key handling as Stripe does it: replay, refusal on reuse, one object under races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from local.stripe import LIVE_KEY, TEST_KEY


def create_customer(standin, data, key="idem-key", api_key=TEST_KEY):
    return requests.post(
        standin.url + "/v1/customers",
        data=data,
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key},
        timeout=10,
    )


def test_same_key_and_parameters_replays_the_first_response_byte_for_byte(fresh_stripe_standin):
    first = create_customer(fresh_stripe_standin, {"metadata[app_user_id]": "u1"})
    second = create_customer(fresh_stripe_standin, {"metadata[app_user_id]": "u1"})
    assert second.content == first.content, "the replay of POST /v1/customers differs"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Original-Request"] == first.headers["Request-Id"]
    assert "Idempotent-Replayed" not in first.headers
    assert len(fresh_stripe_standin.customers()) == 1


def test_same_key_with_different_parameters_is_400_idempotency_error(fresh_stripe_standin):
    create_customer(fresh_stripe_standin, {"metadata[app_user_id]": "u1"})
    reused = create_customer(fresh_stripe_standin, {"metadata[app_user_id]": "u2"})
    assert reused.status_code == 400, reused.text
    error = reused.json()["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with"
    )


def test_same_key_with_different_parameters_raises_idempotency_error_in_the_sdk(sdk):
    sdk.v1.customers.create(params={"email": "a@example.test"}, options={"idempotency_key": "k1"})
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.customers.create(
            params={"email": "b@example.test"}, options={"idempotency_key": "k1"}
        )


def test_same_key_on_another_endpoint_is_400_idempotency_error(fresh_stripe_standin):
    create_customer(fresh_stripe_standin, {}, key="shared")
    other = requests.post(
        fresh_stripe_standin.url + "/v1/billing_portal/configurations",
        data={"features[invoice_history][enabled]": "true"},
        headers={"Authorization": f"Bearer {TEST_KEY}", "Idempotency-Key": "shared"},
        timeout=10,
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


def test_thirty_concurrent_creates_with_one_key_make_one_customer(fresh_stripe_standin):
    client = fresh_stripe_standin.client(max_network_retries=0)

    def create(_: int) -> str:
        return client.v1.customers.create(
            params={"metadata": {"app_user_id": "racer"}},
            options={"idempotency_key": "race-key"},
        ).id

    with ThreadPoolExecutor(max_workers=30) as pool:
        ids = set(pool.map(create, range(30)))
    assert len(ids) == 1, f"30 concurrent POST /v1/customers with one key made {len(ids)}"
    assert len(fresh_stripe_standin.customers()) == 1
    replayed = [e for e in fresh_stripe_standin.requests(method="POST") if e["idempotent_replayed"]]
    assert len(replayed) == 29


def test_keys_are_scoped_per_mode(fresh_stripe_standin):
    test = create_customer(fresh_stripe_standin, {}, key="k", api_key=TEST_KEY)
    live = create_customer(fresh_stripe_standin, {}, key="k", api_key=LIVE_KEY)
    assert test.json()["id"] != live.json()["id"]
    assert "Idempotent-Replayed" not in live.headers


def test_rejected_parameters_are_not_remembered_under_the_key(fresh_stripe_standin):
    refused = create_customer(fresh_stripe_standin, {"bogus": "1"})
    fixed = create_customer(fresh_stripe_standin, {"email": "a@example.test"})
    assert refused.status_code == 400
    assert fixed.status_code == 200, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers


def test_sdk_retry_after_a_lost_response_gets_the_original_object(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(drop=True, when="after", path_prefix="/v1/customers")
    client = fresh_stripe_standin.client(max_network_retries=1)
    customer = client.v1.customers.create(params={"metadata": {"app_user_id": "u1"}})
    (stored,) = fresh_stripe_standin.customers()
    attempts = fresh_stripe_standin.requests(path_prefix="/v1/customers", method="POST")
    assert customer.id == stored["id"]
    assert [a["idempotent_replayed"] for a in attempts] == [False, True]
    assert attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"]
