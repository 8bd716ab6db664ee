"""The shared request budget: one bucket for every worker; a 429 slows all of them."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import stripe

from tools.ratelimit import (
    MAX_PAUSE_SECONDS,
    RECOVERY_SECONDS,
    TokenBucket,
    default_rate,
    meter,
    pause_seconds,
    recovered_rate,
)


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_the_default_is_a_safe_fraction_of_stripes_limits_per_mode():
    # test mode: 25/s per account; live: 100/s per account but 25/s per endpoint.
    assert default_rate(False) == pytest.approx(20.0)
    assert default_rate(True) == pytest.approx(20.0)


def test_requests_are_spaced_by_the_rate():
    fake = FakeTime()
    bucket = TokenBucket(10, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(21):
        bucket.acquire()
        starts.append(fake.now)
    assert starts[-1] == pytest.approx(2.0)  # 21 requests at 10/s: the last at t = 2 s


def test_many_threads_share_one_budget():
    bucket = TokenBucket(200)
    stamps: list[float] = []

    def worker() -> None:
        for _ in range(10):
            bucket.acquire()
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    # 80 requests at 200/s: they span ~0.4 s whatever the number of threads.
    assert stamps[-1] - stamps[0] >= 79 / 200 - 0.02


def test_a_429_pauses_everyone_then_the_rate_recovers():
    fake = FakeTime()
    bucket = TokenBucket(10, clock=fake.clock, sleep=fake.sleep)
    bucket.acquire()
    pause = bucket.throttled(None)
    assert pause == 1.0
    bucket.acquire()
    assert fake.now >= 1.0  # the next request of any worker waits the pause out
    assert bucket.rate() == pytest.approx(5.0)  # halved
    fake.now += RECOVERY_SECONDS + 1
    assert bucket.rate() == pytest.approx(10.0)


def test_consecutive_429s_double_the_pause_and_retry_after_wins():
    assert [pause_seconds(None, n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert pause_seconds(None, 20) == MAX_PAUSE_SECONDS
    assert pause_seconds("7", 1) == 7.0
    assert pause_seconds("junk", 2) == 2.0


def test_recovery_is_linear_back_to_the_budget():
    assert recovered_rate(20, 10, 0) == 10
    assert recovered_rate(20, 10, RECOVERY_SECONDS / 2) == 15
    assert recovered_rate(20, 10, RECOVERY_SECONDS * 3) == 20


def test_the_sdks_own_retries_spend_the_budget_too(fresh_stripe_standin):
    fresh_stripe_standin.inject_fault(status=500, count=1, path_prefix="/v1/customers")
    session = requests.Session()
    bucket = TokenBucket(1000)
    meter(session, bucket)  # as the tools meter the function's own client's session
    client = fresh_stripe_standin.client(
        max_network_retries=2, http_client=stripe.RequestsClient(session=session)
    )
    client.v1.customers.list()
    assert [e["status"] for e in fresh_stripe_standin.requests()] == [500, 200]
    assert bucket.stats.requests == 2


def test_a_429_from_stripe_throttles_the_bucket(fresh_stripe_standin):
    fresh_stripe_standin.set_rate_limit(1)
    session = requests.Session()
    bucket = TokenBucket(1000)
    meter(session, bucket)
    auth = {"Authorization": f"Bearer {fresh_stripe_standin.test_key}"}
    statuses = [
        session.get(fresh_stripe_standin.url + "/v1/customers", headers=auth).status_code
        for _ in range(2)
    ]
    assert statuses == [200, 429] and bucket.stats.throttled == 1


def test_429s_of_one_burst_pause_once_not_once_each():
    fake = FakeTime()
    bucket = TokenBucket(10, clock=fake.clock, sleep=fake.sleep)
    first = bucket.throttled(None)
    for _ in range(5):  # other workers' answers to requests sent before the pause
        bucket.throttled(None)
    assert first == 1.0 and bucket.rate() == pytest.approx(5.0)
    fake.now += 1.5
    assert bucket.throttled(None) == 2.0  # a 429 after the pause: the next strike


def test_a_429_lock_timeout_is_an_object_lock_not_a_rate_limit(fresh_stripe_standin):
    # Stripe answers a locked object with 429 `lock_timeout` and no Stripe-Rate-Limited-Reason:
    # one object is busy, the account is not over its rate; the run is not slowed for it.
    fresh_stripe_standin.inject_fault(status=429, count=1, code="lock_timeout")
    session = requests.Session()
    bucket = TokenBucket(1000)
    meter(session, bucket)
    auth = {"Authorization": f"Bearer {fresh_stripe_standin.test_key}"}
    answer = session.get(fresh_stripe_standin.url + "/v1/customers", headers=auth)
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "lock_timeout"
    assert bucket.stats.throttled == 0
