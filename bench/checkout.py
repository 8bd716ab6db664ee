"""Checkout's rows: `POST /checkout` and the return `GET ?checkout_session=`, against their floors.

- `POST /checkout` of a returning user (mapped and cached, the synced state saying no
  subscription) whose page's `GET` this instance served a moment before (the page's flow): the
  floor is one Checkout Session create, done directly. Each round asks for another quantity, so
  each is a new session (a repeat of the same request in the key's window would be Stripe's
  replay, which the function then retrieves: a double click, not this row). Beside it (info, no
  target), a returning user whose state this instance has not read (another instance served
  the page; a new user each round) against the design's floor: one read of the user's state
  document (the 409 check) + the create.
- The return of a user whose session is complete (their first return: the sync runs): the floor
  is a session retrieve + one list of the customer's subscriptions + one Firestore `set()` of a
  state document, done directly and serially. Each round is another user (one sync per user per
  interval, by design).

Both at the stand-in's +100 ms (a Stripe-like latency). `python -m bench.checkout` runs only
these rows (a minute or so) and prints them; the full run (`python -m bench`) has them too.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from typing import Any

import requests

from bench import client
from bench.measure import Summary, interleaved
from bench.servers import (
    DEFAULT_RETURN_URL,
    FUNCTION_TARGET,
    PROJECT,
    FrameworkServer,
    LocalParts,
    function_env,
    local_parts,
    spawn_framework,
)
from bench.warm import WARMUP_ROUNDS, Users, customer_of, floor_stripe_client
from billing_portal.billing_state import BillingState, Sources, state_reference, summarize_all
from billing_portal.customers import document_id

STRIPE_LIKE_LATENCY_MS = 100


def new_price(parts: LocalParts) -> str:
    """A monthly price whose quantity the stack makes adjustable (1 or more)."""
    sdk = parts.standin.client()
    params = {
        "currency": "eur",
        "unit_amount": 900,
        "recurring": {"interval": "month"},
        "product_data": {"name": "Seats"},
    }
    return str(sdk.v1.prices.create(params=params).id)


def spawn_checkout(
    parts: LocalParts, function_dir: Any, threads: int, price: str
) -> FrameworkServer:
    """A session function told that it sells `price` (quantity 1 or more) through Checkout."""
    env = {**function_env(parts, threads=threads), "CHECKOUT_PRICES": f"{price}:1-"}
    return spawn_framework(
        "checkout-function", FUNCTION_TARGET, function_dir, env, parts.log_dir, wait=True
    )


def _post_checkout(session: requests.Session, url: str, token: str, body: dict) -> dict:
    response = session.post(url + "checkout", json=body, headers=client.headers(token), timeout=30)
    if response.status_code != 200:
        raise client.BenchError(f"POST /checkout answered {response.status_code}: {response.text}")
    return response.json()


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["p50"] / b["p50"], 3)


def _floor_params(customer: str, uid: str, price: str, quantity: int) -> dict[str, Any]:
    """What the function sends, for the floor's own create."""
    return {
        "mode": "subscription",
        "customer": customer,
        "line_items": [{"price": price, "quantity": quantity}],
        "success_url": f"{DEFAULT_RETURN_URL}?checkout_session={{CHECKOUT_SESSION_ID}}",
        "cancel_url": DEFAULT_RETURN_URL,
        "client_reference_id": uid,
        "subscription_data": {"metadata": {"app_user_id": uid}},
        "billing_address_collection": "auto",
    }


def _page_get(session: requests.Session, url: str, token: str) -> None:
    """The page's load: `GET` of the user's state, which shows no plan."""
    response = session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if response.status_code != 200 or response.json().get("subscriptions") != []:
        raise client.BenchError(f"GET answered {response.status_code}: {response.text}")


def checkout_latency(
    parts: LocalParts, function: FrameworkServer, price: str, *, rounds: int, latency_ms: int
) -> dict[str, Any]:
    """`POST /checkout` of a returning user against one direct Checkout Session create.

    Two kinds of returning user, in the same rounds: one whose page's `GET` this instance
    served (the page's flow: load, then "Choose a plan"), and ones it has never read the state
    of (another instance served the page), against the design's floor (state read + create).
    """
    warmup = min(WARMUP_ROUNDS, rounds)
    ((uid, token),) = Users(parts, "bench-checkout").fresh(1)
    cold_users = Users(parts, "bench-checkout-cold").fresh(warmup + rounds)
    ((floor_uid, _),) = Users(parts, "bench-checkout-floor").fresh(1)
    session = requests.Session()
    db = parts.firestore.client(PROJECT)
    collection = function.process.env["CUSTOMERS_COLLECTION"]
    billing = BillingState(db, collection, timeout_seconds=10)
    # Each user's first request creates the customer (returning from then on: mapped and cached
    # by this instance). Their synced state says no subscription, as the webhook (or a return)
    # writes it: Stripe's list, empty. The page user's page then loads it; the others' never do.
    _post_checkout(session, function.url, token, {"price": price, "quantity": 1})
    billing.write(uid, Sources(customer_of(parts, uid), False, []))
    _page_get(session, function.url, token)
    for cold_uid, cold_token in cold_users:
        client.post_ok(session, function.url, cold_token)  # a portal visit: mapped, cached
        billing.write(cold_uid, Sources(customer_of(parts, cold_uid), False, []))
    stripe_client = floor_stripe_client(parts)
    floor_customer = stripe_client.v1.customers.create(
        params={"metadata": {"app_user_id": floor_uid}}
    ).id
    offset = {"value": 2}  # a new quantity every round: a new session, never a replay

    def call_function(index: int) -> None:
        body = {"price": price, "quantity": offset["value"] + index}
        _post_checkout(session, function.url, token, body)

    unread = iter(cold_users)  # each round, a user this instance has not read the state of

    def call_cold(_: int) -> None:
        _, cold_token = next(unread)
        _post_checkout(session, function.url, cold_token, {"price": price, "quantity": 1})

    def call_floor(index: int) -> None:
        params = _floor_params(floor_customer, floor_uid, price, offset["value"] + index)
        stripe_client.v1.checkout.sessions.create(params=params)

    # The design's floor for a user whose state this instance has not read: read the user's
    # synced state (the 409 check) before the create. The function's own state document.
    # (Stripe's subscriptions list, the check of a state that says none, runs beside the create:
    # no part of either floor.)
    state_ref = state_reference(db.collection(collection), uid)

    def call_design_floor(index: int) -> None:
        if not state_ref.get().exists:
            raise client.BenchError("the returning user has no state document")
        call_floor(index)

    calls: dict[str, Callable[[int], None]] = {
        "function": call_function,
        "cold": call_cold,
        "floor": call_floor,
        "design_floor": call_design_floor,
    }
    parts.standin.set_latency(latency_ms)
    try:
        interleaved(calls, warmup)
        offset["value"] += warmup
        samples = interleaved(calls, rounds)
    finally:
        parts.standin.set_latency(0)
        db.close()
    result: dict[str, Any] = {name: Summary.of(v).as_dict() for name, v in samples.items()}
    result["stripe_latency_ms"] = latency_ms
    result["customer"] = customer_of(parts, uid)
    result["ratio_p50"] = _ratio(result["function"], result["floor"])
    result["ratio_p50_cold_design"] = _ratio(result["cold"], result["design_floor"])
    result["ratio_p50_cold"] = _ratio(result["cold"], result["floor"])
    return result


def return_latency(
    parts: LocalParts, function: FrameworkServer, price: str, *, rounds: int, latency_ms: int
) -> dict[str, Any]:
    """The first return of users whose sessions are complete, against the direct retrieve +
    list + write."""
    warmup = min(WARMUP_ROUNDS, rounds)
    users = Users(parts, "bench-return").fresh(warmup + rounds)
    session = requests.Session()
    returns = []
    for uid, token in users:  # set up at +0 ms: each user checks out and pays
        started = _post_checkout(session, function.url, token, {"price": price})
        parts.standin.complete_checkout_session(started["id"])
        returns.append((uid, token, started["id"], customer_of(parts, uid)))
    stripe_client = floor_stripe_client(parts)
    db = parts.firestore.client(PROJECT)
    floor_collection = f"{function.process.env['CUSTOMERS_COLLECTION']}_checkout_floor"
    offset = {"value": 0}

    def call_function(index: int) -> None:
        _, token, session_id, _ = returns[offset["value"] + index]
        response = session.get(
            f"{function.url}?checkout_session={session_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=client.TIMEOUT,
        )
        subscriptions = response.json().get("subscriptions") if response.ok else None
        if not subscriptions or subscriptions[0]["status"] != "active":
            raise client.BenchError(f"return answered {response.status_code}: {response.text}")

    def call_floor(index: int) -> None:
        uid, _, session_id, customer = returns[offset["value"] + index]
        stripe_client.v1.checkout.sessions.retrieve(session_id)
        page = stripe_client.v1.subscriptions.list(
            params={"customer": customer, "status": "all", "limit": 100}
        )
        state = db.collection(floor_collection).document(document_id(uid))
        state.set(
            {
                "uid": uid,
                "customer": customer,
                "customer_deleted": False,
                "subscriptions": summarize_all([s.to_dict() for s in page.data]),
                "updated_at": datetime.datetime.now(datetime.UTC),
            }
        )

    calls: dict[str, Callable[[int], None]] = {"function": call_function, "floor": call_floor}
    parts.standin.set_latency(latency_ms)
    try:
        interleaved(calls, warmup)
        offset["value"] = warmup
        samples = interleaved(calls, rounds)
    finally:
        parts.standin.set_latency(0)
        db.close()
    result: dict[str, Any] = {name: Summary.of(v).as_dict() for name, v in samples.items()}
    result["stripe_latency_ms"] = latency_ms
    result["ratio_p50"] = _ratio(result["function"], result["floor"])
    return result


def checkout_phase(
    parts: LocalParts, function_dir: Any, threads: int, *, rounds: int, return_rounds: int
) -> dict[str, Any]:
    """Both rows, on a session function of their own (it sells one adjustable price)."""
    price = new_price(parts)
    function = spawn_checkout(parts, function_dir, threads, price)
    try:
        return {
            "checkout": checkout_latency(
                parts, function, price, rounds=rounds, latency_ms=STRIPE_LIKE_LATENCY_MS
            ),
            "return": return_latency(
                parts, function, price, rounds=return_rounds, latency_ms=STRIPE_LIKE_LATENCY_MS
            ),
        }
    finally:
        function.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.checkout [ROUNDS]`: only these two rows, printed as in the table."""
    from bench import report
    from bench.servers import FUNCTION_DIR, LOG_DIR

    args = sys.argv[1:] if argv is None else argv
    rounds = int(args[0]) if args else 50
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ-checkout")
    with local_parts(LOG_DIR / stamp) as parts:
        result = checkout_phase(parts, FUNCTION_DIR, 8, rounds=rounds, return_rounds=rounds)
    rows, _ = report.checkout_rows(result)
    print(report.render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
