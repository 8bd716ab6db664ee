"""`python -m tools.backfill` against the stand-in and the emulator: rebuilds every mapped
user's state, resumable, idempotent, and waits out Stripe's 429."""

from __future__ import annotations

import io
import os

import pytest

from tests.function.conftest import function_env
from tests.function.test_http_webhook import (
    customer_of_user,
    new_price,
    stored_state,
    stripe_state,
    subscribe,
)
from tools import backfill

pytestmark = pytest.mark.integration


@pytest.fixture
def env(billing_pair, fresh_stripe_standin, firestore_emulator, dev_issuer, monkeypatch):
    """The session function's environment; the Firestore client reads the emulator host."""
    built = function_env(
        fresh_stripe_standin,
        firestore_emulator,
        dev_issuer,
        CUSTOMERS_COLLECTION=billing_pair.collection,
    )
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", built["FIRESTORE_EMULATOR_HOST"])
    return built


def test_backfill_rebuilds_resumes_and_waits_out_rate_limits(
    billing_pair, fresh_stripe_standin, dev_issuer, firestore_db, env, tmp_path
):
    standin = fresh_stripe_standin
    sdk = standin.client()
    price = new_price(sdk)
    seats = sdk.v1.entitlements.features.create(params={"lookup_key": "seats", "name": "Seats"})
    product = sdk.v1.prices.retrieve(price).product
    sdk.v1.products.features.create(str(product), params={"entitlement_feature": seats.id})
    users = [f"backfill-{n}-{os.urandom(4).hex()}" for n in range(3)]
    customers = [customer_of_user(billing_pair, dev_issuer, standin, uid) for uid in users]
    for n, customer in enumerate(customers):
        for _ in range(n):
            subscribe(sdk, customer, price)  # 0, 1 and 2 subscriptions; no webhook configured
    checkpoint = tmp_path / "checkpoint.json"
    mapped = len(list(firestore_db.collection(billing_pair.collection).stream()))

    first = backfill.run(env, checkpoint_path=checkpoint, max_users=1, stderr=io.StringIO())
    assert first.users == 1 and checkpoint.exists()

    waits: list[float] = []
    standin.inject_fault(status=429, count=2, path_prefix="/v1/subscriptions", method="GET")
    bar = io.StringIO()
    second = backfill.run(env, checkpoint_path=checkpoint, stderr=bar, sleep=waits.append)
    assert second.users + second.skipped == mapped  # cumulative over both runs
    assert second.errors == 0 and second.rate_limited >= 1 and waits
    assert f"{mapped}/{mapped} users" in bar.getvalue()
    for uid, customer in zip(users, customers, strict=True):
        assert stored_state(firestore_db, billing_pair, uid)["subscriptions"] == stripe_state(
            standin, customer
        )
    # the backfill fills the entitlements too: the users with a subscription have the feature
    assert [stored_state(firestore_db, billing_pair, uid)["entitlements"] for uid in users] == [
        [],
        ["seats"],
        ["seats"],
    ]

    again = backfill.run(env, checkpoint_path=checkpoint, restart=True, stderr=io.StringIO())
    assert again.errors == 0 and again.subscriptions == second.subscriptions  # idempotent
