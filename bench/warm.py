"""Warm latency over HTTP against the floor: the same Stripe and Firestore work done directly.

- Returning user (mapping cached on the instance): the floor is one portal session create.
- New user: the floor is one customer create + one Firestore `create()` + one session create.
- Hello-world round trip: the HTTP hop itself (client → functions-framework → client), which
  every function pays and which the floor, called in-process, does not.

Floor calls run in this process with the same libraries and client settings as the function's
(`StripeClient` over one kept-alive `requests.Session`, retries on as deployed, which also makes
the SDK send an idempotency key on every POST; a `google.cloud.firestore.Client`), minus
anything a direct call need not do (see `floor_stripe_client`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import stripe

from bench import client
from bench.measure import Summary, interleaved
from bench.servers import DEFAULT_RETURN_URL, PROJECT, STRIPE_KEY, FrameworkServer, LocalParts

METADATA_USER_KEY = "app_user_id"  # what the function puts in the customer's metadata
WARMUP_ROUNDS = 10


def floor_stripe_client(parts: LocalParts) -> stripe.StripeClient:
    """The leanest direct Stripe client: one kept-alive session, timeouts, retries as deployed.

    Retries stay on (the function's default, 2) because with them the SDK sends an idempotency
    key on every POST, which the server then handles. `trust_env` is off: a direct call need
    not look up ~/.netrc and the proxy variables on every request, as requests otherwise does.
    """
    session = requests.Session()
    session.trust_env = False
    return stripe.StripeClient(
        STRIPE_KEY,
        base_addresses={"api": parts.standin.url},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=(3.0, 10.0), session=session),
    )


@dataclass
class Users:
    """Makes user ids and ID tokens (minted before any timing: RSA signing costs ~1 ms)."""

    parts: LocalParts
    prefix: str

    def fresh(self, count: int) -> list[tuple[str, str]]:
        """`count` new (uid, token) pairs with a verified email, like a Firebase user's."""
        users = []
        for _ in range(count):
            uid = f"{self.prefix}-{uuid.uuid4().hex[:12]}"
            token = self.parts.issuer.mint(
                uid, email=f"{uid}@example.test", email_verified=True, exp_in=6 * 3600
            )
            users.append((uid, token))
        return users


def customers_by_user(parts: LocalParts) -> dict[str, str]:
    """User id → the Stripe customer the function created for it (the stand-in's records)."""
    found = {}
    for customer in parts.standin.customers():
        uid = (customer.get("metadata") or {}).get(METADATA_USER_KEY)
        if uid:
            found[uid] = str(customer["id"])
    return found


def customer_of(parts: LocalParts, uid: str) -> str:
    """The Stripe customer the function created for `uid`."""
    customer = customers_by_user(parts).get(uid)
    if customer is None:
        raise client.BenchError(f"the function created no customer for {uid}")
    return customer


def _summaries(samples: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    return {name: Summary.of(values).as_dict() for name, values in samples.items()}


def warm_latency(
    parts: LocalParts,
    function: FrameworkServer,
    hello: FrameworkServer,
    *,
    floor_collection: str,
    returning_rounds: int,
    new_rounds: int,
    latency_ms: int,
) -> dict[str, Any]:
    """Returning-user and new-user latency with their floors, at one stand-in latency."""
    parts.standin.set_latency(latency_ms)
    try:
        return {
            "stripe_latency_ms": latency_ms,
            "returning": _returning(parts, function, hello, returning_rounds),
            "new": _new(parts, function, floor_collection, new_rounds),
        }
    finally:
        parts.standin.set_latency(0)


def _returning(
    parts: LocalParts, function: FrameworkServer, hello: FrameworkServer, rounds: int
) -> dict[str, Any]:
    ((uid, token),) = Users(parts, "bench-returning").fresh(1)
    session = requests.Session()
    client.post_ok(session, function.url, token)  # creates the customer and the mapping
    customer_id = customer_of(parts, uid)
    stripe_client = floor_stripe_client(parts)
    hello_session = requests.Session()

    def call_function(_: int) -> None:
        client.post_ok(session, function.url, token)

    def call_floor(_: int) -> None:
        stripe_client.v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": DEFAULT_RETURN_URL}
        )

    def call_hello(_: int) -> None:
        client.post_ok(hello_session, hello.url, token)

    calls: dict[str, Callable[[int], None]] = {
        "function": call_function,
        "floor": call_floor,
        "hello": call_hello,
    }
    interleaved(calls, min(WARMUP_ROUNDS, rounds))
    samples = interleaved(calls, rounds)
    result = _summaries(samples)
    result["ratio_p50"] = round(result["function"]["p50"] / result["floor"]["p50"], 3)
    result["overhead_p50_ms"] = round(result["function"]["p50"] - result["floor"]["p50"], 3)
    return result


def _new(
    parts: LocalParts, function: FrameworkServer, floor_collection: str, rounds: int
) -> dict[str, Any]:
    warmup = min(WARMUP_ROUNDS, rounds)
    users = Users(parts, "bench-new")
    function_users = users.fresh(warmup + rounds)
    floor_users = [uid for uid, _ in users.fresh(warmup + rounds)]
    session = requests.Session()
    stripe_client = floor_stripe_client(parts)
    db = parts.firestore.client(PROJECT)
    collection = db.collection(floor_collection)
    offset = {"value": 0}

    def call_function(index: int) -> None:
        client.post_ok(session, function.url, function_users[offset["value"] + index][1])

    def call_floor(index: int) -> None:
        uid = floor_users[offset["value"] + index]
        customer = stripe_client.v1.customers.create(
            params={"metadata": {METADATA_USER_KEY: uid}},
            options={"idempotency_key": f"bench-floor-{uid}"},
        )
        collection.document(uid).create(
            {
                "stripe_customer_id": customer.id,
                "livemode": bool(customer.livemode),
                "generation": 0,
                "created_at": datetime.datetime.now(datetime.UTC),
            }
        )
        stripe_client.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "return_url": DEFAULT_RETURN_URL}
        )

    calls: dict[str, Callable[[int], None]] = {"function": call_function, "floor": call_floor}
    interleaved(calls, warmup)
    offset["value"] = warmup
    samples = interleaved(calls, rounds)
    db.close()
    result = _summaries(samples)
    result["ratio_p50"] = round(result["function"]["p50"] / result["floor"]["p50"], 3)
    result["overhead_p50_ms"] = round(result["function"]["p50"] - result["floor"]["p50"], 3)
    return result


def calls_per_request(
    parts: LocalParts, function: FrameworkServer, *, requests_each: int
) -> dict[str, Any]:
    """Stripe and Firestore calls one warm request makes, counted at the servers, in isolation."""
    session = requests.Session()
    ((_, returning_token),) = Users(parts, "bench-calls").fresh(1)
    client.post_ok(session, function.url, returning_token)
    new_tokens = [token for _, token in Users(parts, "bench-calls-new").fresh(requests_each)]

    def counted(run: Callable[[], None]) -> dict[str, float]:
        stripe_before = len(parts.standin.requests(path_prefix="/v1/"))
        firestore_before = parts.firestore.stats()
        run()
        stripe_calls = len(parts.standin.requests(path_prefix="/v1/")) - stripe_before
        firestore_after = parts.firestore.stats()
        firestore_calls = sum(firestore_after.values()) - sum(firestore_before.values())
        by_method = {
            name: firestore_after.get(name, 0) - firestore_before.get(name, 0)
            for name in firestore_after
            if firestore_after.get(name, 0) != firestore_before.get(name, 0)
        }
        return {
            "stripe": round(stripe_calls / requests_each, 2),
            "firestore": round(firestore_calls / requests_each, 2),
            "firestore_by_method": {k: round(v / requests_each, 2) for k, v in by_method.items()},
        }

    def send(tokens: list[str]) -> Callable[[], None]:
        def run() -> None:
            for token in tokens:
                client.post_ok(session, function.url, token)

        return run

    returning = counted(send([returning_token] * requests_each))
    new = counted(send(new_tokens))
    return {"requests_each": requests_each, "returning": returning, "new": new}
