"""The webhook and `GET` rows: latency against their floors, calls per request, and a burst.

- Webhook (event → state written): the time from POSTing a signed `customer.subscription.updated`
  event (a real one, from the stand-in's events API, for a user the session function mapped) to
  its 200; likewise an `entitlements.active_entitlement_summary.updated` event (at +100 ms). The
  state is the subscriptions and the active entitlements, so its floors read both Stripe lists.
  Two floors, done directly in the same rounds:
  - the issue's: the two Stripe lists of the customer (subscriptions, active entitlements, read
    side by side as the function reads them) + one Firestore write of the state document (the
    least any handler that applies Stripe's current state must do);
  - the design's (write, then verify: docs/how-it-works.md): mapping read + both lists + write +
    mapping read + both lists, serially (each pair of lists side by side).
- `GET` (a returning user with a state document): against one direct Firestore read of it.
- Burst: `events` signed deliveries to one webhook instance, `in_flight` at a time — real events
  of several users, each delivered once or more, shuffled (late and duplicate deliveries), while
  a thread keeps changing the users' subscriptions in Stripe and its new events join the queue
  (twice each). A non-2xx answer or no answer is counted and redelivered, as Stripe would; at the
  end every user's state (the Firestore document and `GET`) is compared with the stand-in's.

The floors' clients are the same as the warm rows' (`warm.floor_stripe_client`, one Firestore
client of this process); the webhook is signed here, before the clock starts.
"""

from __future__ import annotations

import collections
import datetime
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import client
from bench.measure import Summary, interleaved
from bench.servers import (
    PROJECT,
    STRIPE_KEY,
    FrameworkServer,
    LocalParts,
    spawn_framework,
)
from bench.warm import WARMUP_ROUNDS, Users, customers_by_user, floor_stripe_client
from billing_portal.billing_state import state_reference, summarize_all
from billing_portal.customers import document_id
from local.contract import build_environment
from local.stripe.webhook_endpoints import event_payload, signature_header

WEBHOOK_TARGET = "stripe_webhook"
WEBHOOK_SECRET = "whsec_billingPortalBenchmark0123"  # noqa: S105 (a local test secret)
SUBSCRIPTION_EVENT = "customer.subscription."
SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"
REDELIVERY_ATTEMPTS = 4  # Stripe retries for days; a burst that needs more than this has failed
# What one event needs, by the design (write, then verify): Stripe lists the customer's
# subscriptions and active entitlements twice each; Firestore reads the mapping twice, writes once.
DESIGN_CALLS = {"stripe": 4, "firestore": 3}
ISSUE_CALLS = {"stripe": 2, "firestore": 1}
GET_DESIGN_CALLS = {"stripe": 0, "firestore": 1}


def webhook_env(env: dict[str, str]) -> dict[str, str]:
    """The session function's environment (same collection), serving the webhook entry point."""
    return {
        **env,
        **build_environment(function_target=WEBHOOK_TARGET, stripe_webhook_secret=WEBHOOK_SECRET),
    }


def spawn_webhook(
    env: dict[str, str], function_dir: Path, log_dir: Path, name: str = "webhook"
) -> FrameworkServer:
    """A webhook instance sharing the session function's mapping collection."""
    return spawn_framework(name, WEBHOOK_TARGET, function_dir, webhook_env(env), log_dir, wait=True)


def signed_headers(body: bytes) -> dict[str, str]:
    """What Stripe sends with an event."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature_header(body, WEBHOOK_SECRET),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


def raw_event(parts: LocalParts, event_id: str) -> dict[str, Any]:
    """An event as Stripe's events API returns it (plain JSON)."""
    response = requests.get(
        f"{parts.standin.url}/v1/events/{event_id}",
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def subscription_events(parts: LocalParts, customers: set[str]) -> list[dict[str, Any]]:
    """Every `customer.subscription.*` event of these customers, oldest first."""
    return [
        event
        for event in parts.standin.events()
        if event["type"].startswith(SUBSCRIPTION_EVENT)
        and event["data"]["object"].get("customer") in customers
    ]


@dataclass
class Subscriber:
    """A mapped user (customer created by the session function) with subscriptions."""

    uid: str
    token: str
    customer: str
    subscriptions: list[str] = field(default_factory=list)


def grant_feature(parts: LocalParts, price: str, lookup_key: str = "bench_feature") -> None:
    """Attach a feature to the price's product, so its subscribers have an entitlement (and the
    stand-in records a summary event when they gain or lose it)."""
    sdk = parts.standin.client()
    feature = sdk.v1.entitlements.features.create(
        params={"lookup_key": lookup_key, "name": "Bench feature"}
    )
    product = str(sdk.v1.prices.retrieve(price).product)
    sdk.v1.products.features.create(product, params={"entitlement_feature": feature.id})


def stripe_entitlements(parts: LocalParts, customer: str) -> list[str]:
    """The customer's active entitlements as the stand-in lists them: sorted lookup keys."""
    page = parts.standin.client().v1.entitlements.active_entitlements.list(
        params={"customer": customer, "limit": 100}
    )
    return sorted(entitlement.lookup_key for entitlement in page.data)


def new_price(parts: LocalParts) -> str:
    """A monthly price (with its product) in the stand-in."""
    return (
        parts.standin.client()
        .v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 900,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Pro"},
            }
        )
        .id
    )


def subscribers(
    parts: LocalParts, function: FrameworkServer, prefix: str, count: int, each: int, price: str
) -> list[Subscriber]:
    """`count` users mapped by the session function, each with `each` active subscriptions."""
    session = requests.Session()
    users = Users(parts, prefix).fresh(count)
    for _, token in users:
        client.post_ok(session, function.url, token)
    customers = customers_by_user(parts)
    sdk = parts.standin.client()
    found = []
    for uid, token in users:
        subscriber = Subscriber(uid, token, customers[uid])
        for _ in range(each):
            created = sdk.v1.subscriptions.create(
                params={"customer": subscriber.customer, "items": [{"price": price}]}
            )
            subscriber.subscriptions.append(created.id)
        found.append(subscriber)
    return found


def stripe_state(parts: LocalParts, customer: str) -> list[dict[str, Any]]:
    """The customer's subscriptions as the stand-in has them, in the state's shape."""
    return summarize_all([s for s in parts.standin.subscriptions() if s["customer"] == customer])


def _state_document(
    uid: str, customer: str, subscriptions: list[dict[str, Any]], entitlements: list[str]
) -> dict[str, Any]:
    return {
        "uid": uid,
        "customer": customer,
        "customer_deleted": False,
        "subscriptions": subscriptions,
        "entitlements": entitlements,
        "updated_at": datetime.datetime.now(datetime.UTC),
    }


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["p50"] / b["p50"], 3)


def webhook_latency(
    parts: LocalParts,
    webhook: FrameworkServer,
    subscriber: Subscriber,
    *,
    collection: str,
    floor_collection: str,
    rounds: int,
    latency_ms: int,
    event_type: str = "customer.subscription.updated",
) -> dict[str, Any]:
    """Event → state written, with the issue's and the design's floors, at one stand-in latency.

    The event is the subscriber's latest of `event_type`, re-signed each round (a redelivery, as
    Stripe's retries are: the handler's work is the same every time).
    """
    (event_id,) = [
        e["id"]
        for e in parts.standin.events()
        if e["type"] == event_type and e["data"]["object"].get("customer") == subscriber.customer
    ][-1:]
    body = event_payload(raw_event(parts, event_id))
    warmup = min(WARMUP_ROUNDS, rounds)
    # Signed before timing; a full run's rounds take well under the 300 s tolerance.
    signed = [signed_headers(body) for _ in range(warmup + rounds)]
    offset = {"value": 0}
    session = requests.Session()
    stripe_client = floor_stripe_client(parts)
    db = parts.firestore.client(PROJECT)
    mapping_ref = db.collection(collection).document(document_id(subscriber.uid))
    state_ref = state_reference(db.collection(floor_collection), subscriber.uid)
    customer = subscriber.customer

    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-lists")

    def listed() -> tuple[list[dict[str, Any]], list[str]]:
        # The two lists side by side, as the function reads them: the least a floor can do.
        active_read = beside.submit(
            stripe_client.v1.entitlements.active_entitlements.list,
            params={"customer": customer, "limit": 100},
        )
        page = stripe_client.v1.subscriptions.list(
            params={"customer": customer, "status": "all", "limit": 100}
        )
        active = active_read.result()
        keys = sorted({entitlement.lookup_key for entitlement in active.data})
        return summarize_all([s.to_dict() for s in page.data]), keys

    def call_function(index: int) -> None:
        response = session.post(
            webhook.url, data=body, headers=signed[offset["value"] + index], timeout=client.TIMEOUT
        )
        if response.status_code != 200 or response.json() != {"received": True}:
            raise client.BenchError(f"webhook answered {response.status_code}: {response.text}")

    def call_issue_floor(_: int) -> None:
        state_ref.set(_state_document(subscriber.uid, customer, *listed()))

    def call_design_floor(_: int) -> None:
        mapping_ref.get()
        sources = listed()
        state_ref.set(_state_document(subscriber.uid, customer, *sources))
        mapping_ref.get()
        if listed() != sources:
            raise client.BenchError("the subscriptions changed during the floor's rounds")

    calls: dict[str, Callable[[int], None]] = {
        "function": call_function,
        "issue_floor": call_issue_floor,
        "design_floor": call_design_floor,
    }
    parts.standin.set_latency(latency_ms)
    try:
        interleaved(calls, warmup)
        offset["value"] = warmup
        samples = interleaved(calls, rounds)
    finally:
        parts.standin.set_latency(0)
        db.close()
        beside.shutdown()
    result: dict[str, Any] = {
        name: Summary.of(values).as_dict() for name, values in samples.items()
    }
    result["stripe_latency_ms"] = latency_ms
    result["event_type"] = event_type
    result["ratio_p50_issue"] = _ratio(result["function"], result["issue_floor"])
    result["ratio_p50_design"] = _ratio(result["function"], result["design_floor"])
    return result


def get_latency(
    parts: LocalParts, function: FrameworkServer, subscriber: Subscriber, *, rounds: int
) -> dict[str, Any]:
    """`GET` of a returning user with a state document, against one direct read of it."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {subscriber.token}"}
    expected = stripe_state(parts, subscriber.customer)
    entitlements = stripe_entitlements(parts, subscriber.customer)
    db = parts.firestore.client(PROJECT)
    collection = function_collection(function)
    state_ref = state_reference(db.collection(collection), subscriber.uid)

    def call_function(_: int) -> None:
        response = session.get(function.url, headers=headers, timeout=client.TIMEOUT)
        answer = {"subscriptions": expected, "entitlements": entitlements}
        if response.status_code != 200 or response.json() != answer:
            raise client.BenchError(f"GET answered {response.status_code}: {response.text[:300]}")

    def call_floor(_: int) -> None:
        if not state_ref.get().exists:
            raise client.BenchError("no state document to read")

    calls: dict[str, Callable[[int], None]] = {"function": call_function, "floor": call_floor}
    try:
        interleaved(calls, min(WARMUP_ROUNDS, rounds))
        samples = interleaved(calls, rounds)
    finally:
        db.close()
    result: dict[str, Any] = {
        name: Summary.of(values).as_dict() for name, values in samples.items()
    }
    result["subscriptions"] = len(expected)
    result["ratio_p50"] = _ratio(result["function"], result["floor"])
    return result


def function_collection(function: FrameworkServer) -> str:
    """The mapping collection a function server was started with."""
    return str(function.process.env["CUSTOMERS_COLLECTION"])


def _counted(parts: LocalParts, run: Callable[[], None], each: int) -> dict[str, Any]:
    stripe_before = len(parts.standin.requests(path_prefix="/v1/"))
    firestore_before = parts.firestore.stats()
    run()
    stripe_calls = len(parts.standin.requests(path_prefix="/v1/")) - stripe_before
    after = parts.firestore.stats()
    by_method = {
        name: round((after.get(name, 0) - firestore_before.get(name, 0)) / each, 2)
        for name in after
        if after.get(name, 0) != firestore_before.get(name, 0)
    }
    return {
        "stripe": round(stripe_calls / each, 2),
        "firestore": round((sum(after.values()) - sum(firestore_before.values())) / each, 2),
        "firestore_by_method": by_method,
    }


def calls_per_request(
    parts: LocalParts,
    function: FrameworkServer,
    webhook: FrameworkServer,
    subscriber: Subscriber,
    *,
    each: int,
) -> dict[str, Any]:
    """Stripe requests and Firestore RPCs per warm webhook event and per `GET`, in isolation."""
    (event_id,) = [e["id"] for e in subscription_events(parts, {subscriber.customer})][-1:]
    body = event_payload(raw_event(parts, event_id))
    session = requests.Session()

    def events() -> None:
        for _ in range(each):
            headers = signed_headers(body)
            response = session.post(webhook.url, data=body, headers=headers, timeout=30)
            if response.status_code != 200:
                raise client.BenchError(f"webhook answered {response.status_code}")

    def gets() -> None:
        for _ in range(each):
            response = session.get(
                function.url, headers={"Authorization": f"Bearer {subscriber.token}"}, timeout=30
            )
            if response.status_code != 200:
                raise client.BenchError(f"GET answered {response.status_code}")

    return {
        "requests_each": each,
        "webhook": _counted(parts, events, each),
        "get": _counted(parts, gets, each),
    }


# --- the burst -----------------------------------------------------------------------------


@dataclass
class _Delivery:
    event_id: str
    attempt: int = 1


class _Queue:
    """The deliveries still to send; live events are inserted a little ahead of the end."""

    def __init__(self, items: list[_Delivery], rng: random.Random) -> None:
        self._items: collections.deque[_Delivery] = collections.deque(items)
        self._lock = threading.Condition()
        self._rng = rng
        self.producing = True
        self.outstanding = 0

    def insert_soon(self, delivery: _Delivery, within: int) -> None:
        with self._lock:
            position = self._rng.randint(0, min(within, len(self._items)))
            self._items.insert(position, delivery)
            self._lock.notify_all()

    def append(self, delivery: _Delivery) -> None:
        with self._lock:
            self._items.append(delivery)
            self._lock.notify_all()

    def take(self) -> _Delivery | None:
        with self._lock:
            while True:
                if self._items:
                    self.outstanding += 1
                    return self._items.popleft()
                if not self.producing and self.outstanding == 0:
                    return None
                self._lock.wait(0.05)

    def done(self) -> None:
        with self._lock:
            self.outstanding -= 1
            self._lock.notify_all()

    def stop_producing(self) -> None:
        with self._lock:
            self.producing = False
            self._lock.notify_all()


def change(sdk: Any, subscription: str, step: int) -> None:
    """One change a customer might make in the portal: cancel at period end or resume (whichever
    changes something), or a new quantity; every call changes the subscription (one event)."""
    current = sdk.v1.subscriptions.retrieve(subscription)
    if step % 2 == 0:
        flipped = not current["cancel_at_period_end"]
        sdk.v1.subscriptions.update(subscription, params={"cancel_at_period_end": flipped})
    else:
        item = current["items"].data[0]
        quantity = 1 + (item["quantity"] % 5)
        sdk.v1.subscriptions.update(
            subscription, params={"items": [{"id": item.id, "quantity": quantity}]}
        )


def burst(
    parts: LocalParts,
    function: FrameworkServer,
    webhook: FrameworkServer,
    subscribers_: list[Subscriber],
    *,
    events: int,
    in_flight: int,
    live_changes: int,
    seed: int = 14,
) -> dict[str, Any]:
    """`events` signed deliveries to one instance, `in_flight` at a time; see the module doc."""
    rng = random.Random(seed)
    sdk = parts.standin.client()
    customers = {s.customer for s in subscribers_}
    # Changes before the burst: every user's subscriptions have a history of events.
    for step, subscriber in enumerate(subscribers_):
        for index, subscription in enumerate(subscriber.subscriptions):
            change(sdk, subscription, step + index)
    recorded = subscription_events(parts, customers)
    bodies = {e["id"]: event_payload(raw_event(parts, e["id"])) for e in recorded}
    order = {e["id"]: n for n, e in enumerate(recorded)}
    customer_of = {e["id"]: e["data"]["object"]["customer"] for e in recorded}
    scheduled = max(len(recorded), events - 2 * live_changes)
    plan = [e["id"] for e in recorded]
    plan += [rng.choice(plan) for _ in range(scheduled - len(plan))]
    rng.shuffle(plan)
    queue = _Queue([_Delivery(event_id) for event_id in plan], rng)

    lock = threading.Lock()
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    first_attempt_failures: list[str] = []
    lost: list[str] = []
    redelivered = 0
    undeliverable: list[str] = []
    late = 0
    newest_sent: dict[str, int] = {}
    sent = 0

    def worker() -> None:
        nonlocal redelivered, late, sent
        http = requests.Session()
        http.trust_env = False
        while (delivery := queue.take()) is not None:
            try:
                body = bodies[delivery.event_id]
                with lock:
                    sent += 1
                    customer = customer_of[delivery.event_id]
                    position = order[delivery.event_id]
                    if position < newest_sent.get(customer, -1):
                        late += 1
                    newest_sent[customer] = max(position, newest_sent.get(customer, -1))
                headers = signed_headers(body)
                began = time.perf_counter()
                try:
                    response = http.post(webhook.url, data=body, headers=headers, timeout=30)
                    status: int | None = response.status_code
                    ok = response.status_code == 200 and response.json() == {"received": True}
                except requests.RequestException as error:
                    status, ok = None, False
                    with lock:
                        lost.append(f"{delivery.event_id}: {type(error).__name__}")
                elapsed = time.perf_counter() - began
                with lock:
                    statuses[str(status)] += 1
                    if ok:
                        latencies.append(elapsed)
                        continue
                    if delivery.attempt == 1:
                        first_attempt_failures.append(f"{delivery.event_id}: {status}")
                    if delivery.attempt >= REDELIVERY_ATTEMPTS:
                        undeliverable.append(delivery.event_id)
                        continue
                    redelivered += 1
                queue.append(_Delivery(delivery.event_id, delivery.attempt + 1))
            finally:
                queue.done()

    live = {"changes": 0, "events": 0}

    def changer() -> None:
        seen = set(bodies)
        planned = len(plan)
        spacing = max(1, len(plan) // (live_changes + 1))
        try:
            for step in range(live_changes):
                live["changes"] += 1
                # Spread the changes over the burst: the next one after `spacing` more sends.
                while True:
                    with lock:
                        if sent >= (step + 1) * spacing:
                            break
                    time.sleep(0.002)
                subscriber = rng.choice(subscribers_)
                change(sdk, rng.choice(subscriber.subscriptions), step)
                fresh = [
                    e
                    for e in reversed(_newest_events(parts, 5))
                    if e["id"] not in seen and e["type"].startswith(SUBSCRIPTION_EVENT)
                ]
                for event in fresh:
                    live["events"] += 1
                    seen.add(event["id"])
                    with lock:
                        bodies[event["id"]] = event_payload(event)
                        order[event["id"]] = len(order)
                        customer_of[event["id"]] = event["data"]["object"]["customer"]
                    for _ in range(2):  # each live event is delivered twice, soon, in any order
                        queue.insert_soon(_Delivery(event["id"]), within=4 * in_flight)
                        planned += 1
            # A change that changed nothing sends no event: make up the count with duplicates.
            known = sorted(seen)
            for _ in range(events - planned):
                queue.insert_soon(_Delivery(rng.choice(known)), within=events)
        finally:
            queue.stop_producing()

    threads = [threading.Thread(target=worker, name=f"burst-{n}") for n in range(in_flight)]
    producer = threading.Thread(target=changer, name="burst-changes")
    started = time.perf_counter()
    for thread in [*threads, producer]:
        thread.start()
    for thread in [producer, *threads]:
        thread.join(timeout=600)
    seconds = time.perf_counter() - started

    unequal = []
    get_session = requests.Session()
    for subscriber in subscribers_:
        expected = stripe_state(parts, subscriber.customer)
        stored = _stored(parts, function, subscriber.uid)
        answer = get_session.get(
            function.url, headers={"Authorization": f"Bearer {subscriber.token}"}, timeout=30
        )
        shown = answer.json().get("subscriptions") if answer.status_code == 200 else None
        if stored != expected or shown != expected:
            unequal.append(subscriber.uid)
    delivered = sum(statuses.values())
    return {
        "events_requested": events,
        "deliveries": sent,
        "answered": delivered - len(lost),
        "first_deliveries": sent - redelivered,
        "distinct_events": len(bodies),
        "users": len(subscribers_),
        "subscriptions": sum(len(s.subscriptions) for s in subscribers_),
        "live_changes": live["changes"],
        "live_events": live["events"],
        "late_deliveries": late,
        "in_flight": in_flight,
        "statuses": dict(statuses),
        "lost": len(lost),
        "errors": len(first_attempt_failures),
        "error_examples": sorted(set(first_attempt_failures))[:5] + lost[:5],
        "redelivered": redelivered,
        "undeliverable": len(undeliverable),
        "users_unequal": len(unequal),
        "state_equal": not unequal,
        "seconds": round(seconds, 3),
        "throughput_eps": round(sent / seconds, 1) if seconds > 0 else 0.0,
        "latency_ms": Summary.of(latencies).as_dict() if latencies else None,
    }


def _newest_events(parts: LocalParts, limit: int) -> list[dict[str, Any]]:
    response = requests.get(
        f"{parts.standin.url}/v1/events",
        params={"limit": limit},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["data"])


def _stored(parts: LocalParts, function: FrameworkServer, uid: str) -> list[Any] | None:
    db = parts.firestore.client(PROJECT)
    try:
        snapshot = state_reference(db.collection(function_collection(function)), uid).get()
    finally:
        db.close()
    return (snapshot.to_dict() or {}).get("subscriptions") if snapshot.exists else None
