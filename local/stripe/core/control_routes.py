"""The JSON control API (``/_standin/…``) tests use to drive the stand-in: health, reset, the
request log, faults, latency, accepted keys, and the objects of a mode.

The client is ``local.stripe.control.StandinControl``. Topic modules add their own control
routes (the account, connected accounts, deleting a customer).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.stripe.core.permissions import valid_permissions
from local.stripe.core.routing import route
from local.stripe.core.store import MODES, ModeState, Store

if TYPE_CHECKING:
    from local.stripe.core.server import StripeServer

Answer = tuple[int, Any]
# The collections `GET /_standin/<collection>?mode=` lists.
LISTED = frozenset(
    {
        "customers",
        "sessions",
        "configurations",
        "products",
        "prices",
        "subscriptions",
        "connected_accounts",
        "events",
        "webhook_endpoints",
        "checkout_sessions",
    }
)


def mode_state(store: Store, mode: Any) -> ModeState:
    """The state of a mode named in a control request; ``ValueError`` for an unknown one."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    return store.modes[mode]


def listed(standin: StripeServer, query: dict[str, str], collection: str) -> list[dict[str, Any]]:
    """The objects of one collection of a mode, oldest first, as JSON (a copy)."""
    store = standin.store
    with store.lock:
        state = mode_state(store, query.get("mode", "test"))
        return json.loads(json.dumps(list(getattr(state, collection).values())))


def _health(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    return 200, {"ok": True, "url": standin.url}


def _reset(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    standin.reset()
    return 200, {"ok": True}


def _requests(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    return 200, {"requests": standin.log.entries(query.get("path_prefix"), query.get("method"))}


def _add_fault(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    return 200, {"fault": standin.faults.add(payload).describe()}


def _faults(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    return 200, {"faults": standin.faults.pending()}


def _clear_faults(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    standin.faults.clear()
    return 200, {"ok": True}


def _latency(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    ms = payload.get("ms")
    if not isinstance(ms, int) or ms < 0:
        raise ValueError("'ms' must be a non-negative integer")
    standin.faults.latency_ms = ms
    return 200, {"latency_ms": ms}


def _rate_limit(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    standin.rate_limit.set(payload.get("per_second"))
    return 200, {"per_second": standin.rate_limit.per_second}


def _keys(standin: StripeServer, query: dict[str, str], payload: dict[str, Any]) -> Answer:
    accepted = payload.get("accept")
    if accepted is not None and not isinstance(accepted, list):
        raise ValueError("'accept' must be a list of keys, or null for any key")
    standin.keys.accept(accepted)
    return 200, {"accept": "any" if accepted is None else len(accepted)}


def _restricted_key(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any]
) -> Answer:
    standin.keys.restrict(payload.get("key"), valid_permissions(payload.get("permissions")))
    return 200, {"restricted": True}


def _objects(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any], collection: str
) -> Answer:
    if collection not in LISTED:
        return 404, {"error": f"no such control route: GET /_standin/{collection}"}
    return 200, {"data": listed(standin, query, collection)}


# The generic listing comes last: a topic's own `GET /_standin/…` route goes before it.
ROUTES = (
    route("GET", "/_standin/health", _health),
    route("POST", "/_standin/reset", _reset),
    route("GET", "/_standin/requests", _requests),
    route("POST", "/_standin/faults", _add_fault),
    route("GET", "/_standin/faults", _faults),
    route("DELETE", "/_standin/faults", _clear_faults),
    route("POST", "/_standin/latency", _latency),
    route("POST", "/_standin/rate_limit", _rate_limit),
    route("POST", "/_standin/keys", _keys),
    route("POST", "/_standin/keys/restricted", _restricted_key),
)
LISTING = (route("GET", "/_standin/{collection}", _objects),)
