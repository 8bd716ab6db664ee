"""Webhook endpoints: create, retrieve, list, update, delete — what `pulumi up` and the drift check
do to the stack's endpoint.

As in Stripe, the signing secret (`whsec_…`) is returned by the create call only; retrieve and
list leave it out. The stand-in keeps it (`ModeState.webhook_secrets`) for whatever signs events.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from local.stripe.core.errors import StripeError
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import merge_metadata, new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.store import ModeState

COLLECTION = "webhook_endpoints"


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StripeError(400, f"Invalid URL: {url}", param="url")


def new_endpoint(params: dict[str, Any], *, livemode: bool, created: int) -> dict[str, Any]:
    """A webhook endpoint with every field Stripe returns (but the secret), from create params."""
    return {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": created,
        "description": params.get("description") or None,
        "enabled_events": list(params["enabled_events"]),
        "livemode": livemode,
        "metadata": dict(params.get("metadata") or {}),
        "status": "enabled",
        "url": params["url"],
    }


def create_endpoint(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/webhook_endpoints``: the endpoint, with its signing secret this once."""
    _check_url(params["url"])
    endpoint = new_endpoint(params, livemode=state.livemode, created=int(time.time()))
    secret = new_id("whsec")
    state.webhook_endpoints[endpoint["id"]] = endpoint
    state.webhook_secrets[endpoint["id"]] = secret
    return 200, {**endpoint, "secret": secret}


def retrieve_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/webhook_endpoints/{id}``."""
    return 200, api.store.require(state, COLLECTION, id, param="id", status=404)


def update_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/webhook_endpoints/{id}``: url, events, description, metadata, `disabled`."""
    endpoint = api.store.require(state, COLLECTION, id, param="id", status=404)
    if "url" in params:
        _check_url(params["url"])
        endpoint["url"] = params["url"]
    if "enabled_events" in params:
        endpoint["enabled_events"] = list(params["enabled_events"])
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    if "disabled" in params:
        endpoint["status"] = "disabled" if params["disabled"] else "enabled"
    return 200, endpoint


def delete_endpoint(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``DELETE /v1/webhook_endpoints/{id}``."""
    api.store.require(state, COLLECTION, id, param="id", status=404)
    del state.webhook_endpoints[id]
    state.webhook_secrets.pop(id, None)
    return 200, {"id": id, "object": "webhook_endpoint", "deleted": True}


def list_endpoints(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/webhook_endpoints`` (newest first; cursor pagination)."""
    return 200, list_page("/v1/webhook_endpoints", list(state.webhook_endpoints.values()), params)


ROUTES = (
    route("POST", "/v1/webhook_endpoints", create_endpoint, schema="POST /v1/webhook_endpoints"),
    route("GET", "/v1/webhook_endpoints", list_endpoints, query=LIST_PARAMS),
    route("GET", "/v1/webhook_endpoints/{id}", retrieve_endpoint),
    route(
        "POST",
        "/v1/webhook_endpoints/{id}",
        update_endpoint,
        schema="POST /v1/webhook_endpoints/{webhook_endpoint}",
        allow_unset=True,
    ),
    route("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint, query=frozenset()),
)
