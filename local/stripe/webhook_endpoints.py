"""Webhook endpoints and event delivery, as Stripe (and ``stripe listen --forward-to``) do it.

The API: ``POST/GET/DELETE /v1/webhook_endpoints`` (``secret`` ``whsec_…`` is returned by the
create only). Every recorded event (``local.stripe.events``) is POSTed to each enabled endpoint
of its mode whose ``enabled_events`` match (``*`` matches all), and to the forward target set
through the control API (what ``stripe listen --forward-to URL`` does), signed exactly as Stripe
signs: ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

Delivery runs on one background thread, in the order the events were recorded; a non-2xx
answer (or no answer) is retried a bounded number of times with a doubling delay, after the
deliveries already queued, as Stripe's retries may arrive after later events. For tests, the
control API can hold deliveries and release them, and deliver chosen events in a chosen order,
twice, or all at once (``deliver``).
"""

from __future__ import annotations

import copy
import heapq
import hmac
import itertools
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from typing import TYPE_CHECKING, Any

import requests

from local.stripe.core.control_routes import mode_state
from local.stripe.core.errors import StripeError, check_url
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import merge_metadata, new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.store import ModeState, Store
from local.stripe.events import type_matches

if TYPE_CHECKING:
    from local.stripe.core.server import StripeServer

DELIVERY_TIMEOUT_SECONDS = 15.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_RETRY_DELAY_MS = 500
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def new_secret() -> str:
    """A webhook signing secret shaped like Stripe's."""
    return "whsec_" + secrets.token_hex(16)


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``, exactly as Stripe computes it. Pure
    (given ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(event: Payload) -> bytes:
    """The body Stripe POSTs: the event as (pretty-printed) JSON."""
    return json.dumps(event, indent=2).encode("utf-8")


# --- the API -------------------------------------------------------------------------------


def _public(endpoint: Payload) -> Payload:
    return {key: value for key, value in endpoint.items() if key != "secret"}


def create_endpoint(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/webhook_endpoints``: the new endpoint, with its ``secret`` (this once)."""
    check_url(params["url"], "url")
    endpoint = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": int(time.time()),
        "description": params.get("description") or None,
        "enabled_events": list(params["enabled_events"]),
        "livemode": state.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "secret": new_secret(),
        "status": "enabled",
        "url": params["url"],
    }
    state.webhook_endpoints[endpoint["id"]] = endpoint
    return 200, copy.deepcopy(endpoint)


def _require(api: StripeApi, state: ModeState, endpoint_id: str) -> Payload:
    return api.store.require(state, "webhook_endpoints", endpoint_id, param="id", status=404)


def retrieve_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/webhook_endpoints/{id}`` (no ``secret``, as Stripe)."""
    return 200, _public(_require(api, state, id))


def update_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/webhook_endpoints/{id}``: url, enabled_events, disabled, description, metadata."""
    endpoint = _require(api, state, id)
    if "url" in params:
        check_url(params["url"], "url")
        endpoint["url"] = params["url"]
    if "enabled_events" in params:
        endpoint["enabled_events"] = list(params["enabled_events"])
    if "disabled" in params:
        endpoint["status"] = "disabled" if params["disabled"] else "enabled"
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    return 200, _public(endpoint)


def delete_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``DELETE /v1/webhook_endpoints/{id}``."""
    _require(api, state, id)
    del state.webhook_endpoints[id]
    return 200, {"id": id, "object": "webhook_endpoint", "deleted": True}


def list_endpoints(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/webhook_endpoints``, newest first."""
    endpoints = [_public(endpoint) for endpoint in state.webhook_endpoints.values()]
    return 200, list_page("/v1/webhook_endpoints", endpoints, params)


def _no_unknown_event_types(params: Payload) -> None:
    if "enabled_events" in params and not params["enabled_events"]:
        raise StripeError(400, "enabled_events must not be empty.", param="enabled_events")


def _create(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    _no_unknown_event_types(params)
    return create_endpoint(api, state, params)


def _update(api: StripeApi, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
    _no_unknown_event_types(params)
    return update_endpoint(api, state, params, id)


ROUTES = (
    route("POST", "/v1/webhook_endpoints", _create, schema="POST /v1/webhook_endpoints"),
    route("GET", "/v1/webhook_endpoints", list_endpoints, query=LIST_PARAMS),
    route("GET", "/v1/webhook_endpoints/{id}", retrieve_endpoint),
    route(
        "POST",
        "/v1/webhook_endpoints/{id}",
        _update,
        schema="POST /v1/webhook_endpoints/{webhook_endpoint}",
        allow_unset=True,
    ),
    route("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint, query=frozenset()),
)


# --- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where an event goes and how it is signed."""

    url: str
    secret: str
    via: str  # "endpoint:we_…" or "forward"


@dataclass(frozen=True)
class Forward:
    """``stripe listen --forward-to``: every event of ``mode`` matching ``events`` to ``url``."""

    url: str
    secret: str
    mode: str = "test"
    events: tuple[str, ...] = ("*",)


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    event: Payload = field(compare=False)
    target: Target = field(compare=False)
    attempt: int = field(compare=False, default=1)


class Deliverer:
    """The stand-in's webhook sender: a queue of deliveries and the thread that sends them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cond = threading.Condition()
        self._queue: list[_Delivery] = []
        self._held: list[_Delivery] = []
        self._seq = itertools.count()
        self._log: list[dict[str, Any]] = []
        self._busy = 0
        self._stopped = False
        self.forward: Forward | None = None
        self.hold = False
        self.max_attempts = DEFAULT_MAX_ATTEMPTS
        self.retry_delay_ms = DEFAULT_RETRY_DELAY_MS
        self._http = requests.Session()
        self._http.trust_env = False
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        store.subscribe(self._on_event)

    def start(self) -> None:
        """Start the sending thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sending (pending deliveries are dropped)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget the forward target, queued and held deliveries, the log and the settings."""
        with self._cond:
            self._queue.clear()
            self._held.clear()
            self._log.clear()
            self.forward = None
            self.hold = False
            self.max_attempts = DEFAULT_MAX_ATTEMPTS
            self.retry_delay_ms = DEFAULT_RETRY_DELAY_MS

    def targets(self, state: ModeState, event_type: str) -> list[Target]:
        """Every enabled endpoint of the mode that wants this type, then the forward target."""
        found = [
            Target(endpoint["url"], endpoint["secret"], f"endpoint:{endpoint['id']}")
            for endpoint in state.webhook_endpoints.values()
            if endpoint["status"] == "enabled"
            and any(type_matches(wanted, event_type) for wanted in endpoint["enabled_events"])
        ]
        forward = self.forward
        mode = "live" if state.livemode else "test"
        if (
            forward is not None
            and forward.mode == mode
            and any(type_matches(wanted, event_type) for wanted in forward.events)
        ):
            found.append(Target(forward.url, forward.secret, "forward"))
        return found

    def _on_event(self, state: ModeState, event: Payload) -> None:
        # Under the store's lock: only enqueue.
        targets = self.targets(state, event["type"])
        event["pending_webhooks"] = len(targets)
        snapshot = copy.deepcopy(event)
        with self._cond:
            for target in targets:
                delivery = _Delivery(time.monotonic(), next(self._seq), snapshot, target)
                (self._held if self.hold else self._queue).append(delivery)
            heapq.heapify(self._queue)
            self._cond.notify_all()

    def set_hold(self, hold: bool) -> int:
        """Hold deliveries (queue them aside) or release the held ones, in order; returns how
        many were released."""
        with self._cond:
            self.hold = hold
            if hold:
                return 0
            released = len(self._held)
            now = time.monotonic()
            for delivery in self._held:
                delivery.due = now
                delivery.seq = next(self._seq)
                heapq.heappush(self._queue, delivery)
            self._held.clear()
            self._cond.notify_all()
            return released

    def held(self) -> list[dict[str, Any]]:
        """The held deliveries, oldest first: event id, type and target."""
        with self._cond:
            return [
                {"event": d.event["id"], "type": d.event["type"], "via": d.target.via}
                for d in self._held
            ]

    def discard_held(self) -> int:
        """Drop the held deliveries; returns how many."""
        with self._cond:
            count = len(self._held)
            self._held.clear()
            return count

    def log(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far, oldest first."""
        with self._cond:
            return copy.deepcopy(self._log)

    def idle(self) -> bool:
        """True when nothing is queued or being sent (held deliveries do not count)."""
        with self._cond:
            return not self._queue and self._busy == 0

    def deliver_now(
        self, event: Payload, target: Target, *, timestamp: int | None = None
    ) -> dict[str, Any]:
        """Send one event to one target once, now, on the caller's thread; the attempt's record."""
        payload = event_payload(event)
        record: dict[str, Any] = {
            "event": event["id"],
            "type": event["type"],
            "url": target.url,
            "via": target.via,
            "time": time.time(),
            "status": None,
            "error": None,
        }
        try:
            response = requests.post(
                target.url,
                data=payload,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                    "Stripe-Signature": signature_header(payload, target.secret, timestamp),
                },
                timeout=DELIVERY_TIMEOUT_SECONDS,
            )
            record["status"] = response.status_code
            record["body"] = response.text[:500]
        except requests.RequestException as error:
            record["error"] = type(error).__name__
        return record

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._queue or self._queue[0].due > time.monotonic()
                ):
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(timeout=wait)
                if self._stopped:
                    return
                delivery = heapq.heappop(self._queue)
                self._busy += 1
            try:
                record = self.deliver_now(delivery.event, delivery.target)
            finally:
                with self._cond:
                    self._busy -= 1
            record["attempt"] = delivery.attempt
            ok = record["status"] is not None and 200 <= record["status"] < 300
            with self._cond:
                self._log.append(record)
                if not ok and delivery.attempt < self.max_attempts:
                    delay = self.retry_delay_ms / 1000 * 2 ** (delivery.attempt - 1)
                    delivery.attempt += 1
                    delivery.due = time.monotonic() + delay
                    delivery.seq = next(self._seq)
                    heapq.heappush(self._queue, delivery)
                self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or being sent, or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=min(remaining, 0.05))
            return True


# --- the control API -----------------------------------------------------------------------


def _deliverer(standin: StripeServer) -> Deliverer:
    return standin.webhooks  # type: ignore[attr-defined,no-any-return]


def _set_forward(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    url = payload.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError("'url' must be an http(s) URL")
    secret = payload.get("secret") or new_secret()
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ValueError("'secret' must be a whsec_… string")
    events = payload.get("events") or ["*"]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValueError("'events' must be a list of event types")
    mode = payload.get("mode", "test")
    mode_state(standin.store, mode)
    deliverer = _deliverer(standin)
    for name in ("max_attempts", "retry_delay_ms"):
        if name in payload:
            value = payload[name]
            if not isinstance(value, int) or value < (1 if name == "max_attempts" else 0):
                raise ValueError(f"'{name}' must be a positive integer")
            setattr(deliverer, name, value)
    deliverer.forward = Forward(url, secret, mode, tuple(events))
    return 200, {"url": url, "secret": secret, "mode": mode, "events": events}


def _stop_forward(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    _deliverer(standin).forward = None
    return 200, {"ok": True}


def _hold(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    hold = payload.get("hold")
    if not isinstance(hold, bool):
        raise ValueError("'hold' must be true or false")
    released = _deliverer(standin).set_hold(hold)
    return 200, {"hold": hold, "released": released}


def _held(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    return 200, {"held": _deliverer(standin).held()}


def _discard(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    return 200, {"discarded": _deliverer(standin).discard_held()}


def _deliveries(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    return 200, {"deliveries": _deliverer(standin).log()}


def _wait(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    timeout = payload.get("timeout", 10)
    if not isinstance(timeout, int | float) or timeout < 0:
        raise ValueError("'timeout' must be a non-negative number of seconds")
    return 200, {"idle": _deliverer(standin).wait_idle(float(timeout))}


def _deliver(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Any:
    """Send the named events, in the order given (repeats allowed), to the forward target,
    each once and now; ``parallel`` sends them all at once. The answers, in the same order."""
    deliverer = _deliverer(standin)
    forward = deliverer.forward
    if forward is None:
        raise ValueError("no forward target; POST /_standin/webhooks/forward first")
    ids = payload.get("events")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("'events' must be a list of event ids")
    timestamp = payload.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, int):
        raise ValueError("'timestamp' must be a Unix time in seconds")
    store = standin.store
    with store.lock:
        state = mode_state(store, forward.mode)
        missing = [i for i in ids if i not in state.events]
        if missing:
            return 404, {"error": f"no such event: {missing[0]}"}
        events = [copy.deepcopy(state.events[i]) for i in ids]
    target = Target(forward.url, forward.secret, "control")

    def send(event: Payload) -> dict[str, Any]:
        return deliverer.deliver_now(event, target, timestamp=timestamp)

    if payload.get("parallel"):
        with ThreadPoolExecutor(max_workers=max(1, min(64, len(events)))) as pool:
            results = list(pool.map(send, events))
    else:
        results = [send(event) for event in events]
    return 200, {"results": results}


CONTROL_ROUTES = (
    route("POST", "/_standin/webhooks/forward", _set_forward),
    route("DELETE", "/_standin/webhooks/forward", _stop_forward),
    route("POST", "/_standin/webhooks/hold", _hold),
    route("GET", "/_standin/webhooks/held", _held),
    route("DELETE", "/_standin/webhooks/held", _discard),
    route("GET", "/_standin/webhooks/deliveries", _deliveries),
    route("POST", "/_standin/webhooks/wait", _wait),
    route("POST", "/_standin/webhooks/deliver", _deliver),
)
