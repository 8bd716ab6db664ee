"""The shared budget against Stripe's limiter (the stand-in's 429 switch), measured from the
stand-in's own request log: under the limit no request is refused and no one-second window holds
more than the budget; over it, the 429s slow the whole run down and it still finishes cleanly."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from tests.function.conftest import function_env
from tests.function.test_http_webhook import new_price, stored_state, stripe_state, subscribe
from tools import adopt, backfill
from tools.adoptplan import Rule

pytestmark = pytest.mark.integration

USERS = 15


class _Pair:  # what stored_state reads: the collection
    def __init__(self, collection: str) -> None:
        self.collection = collection


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second (a window starting at a request)."""
    times = sorted(times)
    return max((sum(1 for t in times if start <= t < start + 1.0) for start in times), default=0)


@pytest.fixture
def env(fresh_stripe_standin, firestore_emulator, dev_issuer, monkeypatch):
    built = function_env(
        fresh_stripe_standin,
        firestore_emulator,
        dev_issuer,
        CUSTOMERS_COLLECTION=f"customers_{uuid.uuid4().hex[:10]}",
    )
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", built["FIRESTORE_EMULATOR_HOST"])
    return built


def test_under_stripes_limit_nothing_is_refused_and_the_budget_holds_then_over_it_429s_slow_all(
    fresh_stripe_standin, firestore_db, env, tmp_path
):
    standin = fresh_stripe_standin
    sdk = standin.client()
    price = new_price(sdk)
    tag = os.urandom(3).hex()
    uids = [f"rate-{n}-{tag}" for n in range(USERS)]
    customers = [
        sdk.v1.customers.create(params={"metadata": {"firebaseUID": uid}}).id for uid in uids
    ]
    for customer in customers[::3]:
        subscribe(sdk, customer, price)
    start = len(standin.requests())

    standin.set_rate_limit(10)
    budget = 8
    report = adopt.run(
        env,
        rule=Rule(metadata_key="firebaseUID"),
        apply=True,
        rate=budget,
        workers=8,
        stderr=io.StringIO(),
    )
    entries = standin.requests()[start:]
    assert report.errors == [] and report.done["mappings"] == USERS
    assert [e for e in entries if e["status"] == 429] == []
    assert busiest_second([e["time"] for e in entries]) <= budget + 1
    assert len(entries) >= 3 * USERS  # a mark and two list calls per user, at least

    # Over the limit: the budget is set above Stripe's; the run is slowed, not failed.
    start = len(standin.requests())
    summary = backfill.run(
        env,
        checkpoint_path=tmp_path / "checkpoint.json",
        restart=True,
        rate=40,
        workers=8,
        stderr=io.StringIO(),
    )
    entries = standin.requests()[start:]
    assert summary.errors == 0 and summary.users == USERS
    assert summary.rate_limited >= 1 and any(e["status"] == 429 for e in entries)
    accepted = [e["time"] for e in entries if e["status"] != 429]
    assert busiest_second(accepted) <= 10  # Stripe's (the stand-in's) limit, never exceeded
    for uid, customer in zip(uids, customers, strict=True):
        state = stored_state(firestore_db, _Pair(env["CUSTOMERS_COLLECTION"]), uid)
        assert state["subscriptions"] == stripe_state(standin, customer)
