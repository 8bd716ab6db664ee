"""The stand-in's rate-limit switch: Stripe's 429 over N requests a second, and nothing else."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from local.stripe import TEST_KEY
from local.stripe.core.ratelimit import RateLimiter

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _get(standin, path="/v1/customers"):
    return requests.get(standin.url + path, headers=AUTH, timeout=10)


def test_over_the_rate_a_request_is_stripes_429_with_its_reason_header(fresh_stripe_standin, sdk):
    fresh_stripe_standin.set_rate_limit(3)
    statuses = [_get(fresh_stripe_standin).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    limited = _get(fresh_stripe_standin)
    assert limited.status_code == 429
    assert limited.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    assert "Retry-After" not in limited.headers  # Stripe documents none
    error = limited.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    with pytest.raises(stripe.RateLimitError):
        sdk.v1.customers.list()


def test_a_refused_request_creates_nothing(fresh_stripe_standin):
    fresh_stripe_standin.set_rate_limit(1)
    _get(fresh_stripe_standin)
    refused = requests.post(fresh_stripe_standin.url + "/v1/customers", headers=AUTH, timeout=10)
    assert refused.status_code == 429
    assert fresh_stripe_standin.customers() == []


def test_the_window_slides_a_second_later_requests_pass_again(fresh_stripe_standin):
    fresh_stripe_standin.set_rate_limit(2)
    assert [_get(fresh_stripe_standin).status_code for _ in range(3)][-1] == 429
    time.sleep(1.05)
    assert _get(fresh_stripe_standin).status_code == 200


def test_reset_and_null_turn_the_limit_off(fresh_stripe_standin):
    fresh_stripe_standin.set_rate_limit(1)
    fresh_stripe_standin.reset()
    assert {_get(fresh_stripe_standin).status_code for _ in range(5)} == {200}
    fresh_stripe_standin.set_rate_limit(1)
    fresh_stripe_standin.set_rate_limit(None)
    assert {_get(fresh_stripe_standin).status_code for _ in range(5)} == {200}


@pytest.mark.parametrize("value", [0, -1, 1.5, "5", True])
def test_a_rate_that_is_not_a_positive_integer_is_refused(fresh_stripe_standin, value):
    answer = requests.post(
        fresh_stripe_standin.url + "/_standin/rate_limit", json={"per_second": value}, timeout=10
    )
    assert answer.status_code == 400


def test_the_limiter_admits_at_most_n_in_any_one_second_window():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.set(3)
    admitted = []
    for step in range(40):  # a request every 0.1 s
        now[0] = step * 0.1
        if limiter.admit():
            admitted.append(now[0])
    for start in admitted:
        inside = [t for t in admitted if start <= t < start + 1.0]
        assert len(inside) <= 3
    assert len(admitted) >= 3 * 3  # ~3 per second over 4 s: it is a rate, not a one-off cap
