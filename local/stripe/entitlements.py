"""Entitlements: features, the features attached to products, and each customer's active
entitlements, as Stripe derives them from the customer's subscriptions.

- ``POST/GET /v1/entitlements/features`` (and ``GET …/{id}``): a feature's ``lookup_key`` is
  unique among the account's features (Stripe's rule for active ones; the stand-in never
  archives).
- ``POST/GET /v1/products/{id}/features``, ``GET/DELETE …/features/{id}``: attach a feature to
  a product (once), list, detach (Stripe's ``deleted_product_feature`` stub).
- ``GET /v1/entitlements/active_entitlements?customer=…``: one active entitlement per feature
  attached to a product of one of the customer's entitling subscriptions (``ENTITLING``).

``refresh(store, state, customer)`` recomputes a customer's set and, when it changed, records
``entitlements.active_entitlement_summary.updated`` (the whole set, features expanded as in
Stripe's example; ``previous_attributes`` the set before). The subscription topic calls it after
every create, update and cancel; attaching or detaching a feature refreshes every customer
subscribed to the product. An active entitlement keeps its id while it stays active.

Which subscription statuses entitle: Stripe documents that a customer keeps an entitlement "as
long as [they maintain] an active subscription"; ``ENTITLING`` takes the statuses in which the
subscription has not ended and is not waiting for its first payment. The stand-in makes only
``active`` and ``canceled`` subscriptions, so only that split is exercised.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from local.stripe import events
from local.stripe.core.errors import StripeError
from local.stripe.core.listing import LIST_PARAMS, list_page
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.store import ModeState, Store

ENTITLING = frozenset({"active", "trialing", "past_due", "paused"})
SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"


# ---------------------------------------------------------------------------- objects (pure)


def new_feature(feature_id: str, params: Payload, *, livemode: bool) -> Payload:
    """An ``entitlements.feature`` from validated create parameters."""
    return {
        "id": feature_id,
        "object": "entitlements.feature",
        "active": True,
        "livemode": livemode,
        "lookup_key": params["lookup_key"],
        "metadata": dict(params.get("metadata") or {}),
        "name": params["name"],
    }


def product_feature(attachment_id: str, feature: Payload, *, livemode: bool) -> Payload:
    """A ``product_feature``: the attachment, its feature expanded (as Stripe answers)."""
    return {
        "id": attachment_id,
        "object": "product_feature",
        "entitlement_feature": copy.deepcopy(feature),
        "livemode": livemode,
    }


def active_entitlement(entitlement_id: str, feature: Payload, *, livemode: bool) -> Payload:
    """An ``entitlements.active_entitlement``; ``feature`` as an id (expandable)."""
    return {
        "id": entitlement_id,
        "object": "entitlements.active_entitlement",
        "feature": feature["id"],
        "livemode": livemode,
        "lookup_key": feature["lookup_key"],
    }


def entitled_features(
    subscriptions: Iterable[Payload], attachments: dict[str, dict[str, str]], customer: str
) -> list[str]:
    """The feature ids ``customer``'s entitling subscriptions grant, each once, in the order
    of the subscriptions' items. Pure."""
    found: dict[str, None] = {}
    for subscription in subscriptions:
        if subscription["customer"] != customer or subscription["status"] not in ENTITLING:
            continue
        for item in subscription["items"]["data"]:
            product = (item.get("price") or {}).get("product")
            found.update(dict.fromkeys((attachments.get(product) or {}).values()))
    return list(found)


def summary(state: ModeState, customer: str, entitlements: dict[str, Payload]) -> Payload:
    """The ``entitlements.active_entitlement_summary`` of a set, features expanded."""
    data = [
        {**copy.deepcopy(entitlement), "feature": copy.deepcopy(state.features[feature_id])}
        for feature_id, entitlement in entitlements.items()
    ]
    return {
        "object": "entitlements.active_entitlement_summary",
        "customer": customer,
        "entitlements": {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/customer/{customer}/entitlements",
        },
        "livemode": state.livemode,
    }


# ---------------------------------------------------------------------------- the summary event


def refresh(store: Store, state: ModeState, customer: str) -> None:
    """Recompute ``customer``'s active entitlements; record the summary event if they changed.
    Called under the store's lock by the handler that changed a subscription or attachment."""
    wanted = entitled_features(state.subscriptions.values(), state.product_features, customer)
    before = state.active_entitlements.get(customer, {})
    if list(before) == wanted:
        return
    after = {
        feature_id: before.get(feature_id)
        or active_entitlement(new_id("ent"), state.features[feature_id], livemode=state.livemode)
        for feature_id in wanted
    }
    state.active_entitlements[customer] = after
    previous = summary(state, customer, before)["entitlements"]
    events.record(
        store, state, SUMMARY_EVENT, summary(state, customer, after), {"entitlements": previous}
    )


def _refresh_subscribers(store: Store, state: ModeState, product: str) -> None:
    customers = {
        subscription["customer"]
        for subscription in state.subscriptions.values()
        if any(
            (i.get("price") or {}).get("product") == product for i in subscription["items"]["data"]
        )
    }
    for customer in sorted(customers):
        refresh(store, state, customer)


# ---------------------------------------------------------------------------- handlers


def create_feature(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/entitlements/features``."""
    lookup_key = params["lookup_key"]
    if any(feature["lookup_key"] == lookup_key for feature in state.features.values()):
        raise StripeError(
            400,
            f"A feature with lookup_key '{lookup_key}' already exists.",
            param="lookup_key",
        )
    feature = new_feature(new_id("feat"), params, livemode=state.livemode)
    state.features[feature["id"]] = feature
    return 200, feature


def list_features(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/entitlements/features`` with the ``lookup_key`` filter."""
    features = list(state.features.values())
    if "lookup_key" in params:
        features = [f for f in features if f["lookup_key"] == params["lookup_key"]]
    return 200, list_page("/v1/entitlements/features", features, params)


def retrieve_feature(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/entitlements/features/{id}``."""
    return 200, api.store.require(state, "features", id, param="id", status=404)


def attach_feature(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/products/{id}/features``: attach a feature (once) to a product."""
    product = api.store.require(state, "products", id, param="product", status=404)
    feature = api.store.require(
        state, "features", params["entitlement_feature"], param="entitlement_feature", status=400
    )
    attached = state.product_features.setdefault(product["id"], {})
    if feature["id"] in attached.values():
        raise StripeError(
            400,
            f"The feature '{feature['id']}' is already attached to product '{product['id']}'.",
            param="entitlement_feature",
        )
    attachment_id = new_id("prodft")
    attached[attachment_id] = feature["id"]
    _refresh_subscribers(api.store, state, product["id"])
    return 200, product_feature(attachment_id, feature, livemode=state.livemode)


def _attachments(api: StripeApi, state: ModeState, product_id: str) -> dict[str, str]:
    api.store.require(state, "products", product_id, param="product", status=404)
    return state.product_features.setdefault(product_id, {})


def list_product_features(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/products/{id}/features``."""
    attached = _attachments(api, state, id)
    objects = [
        product_feature(attachment_id, state.features[feature_id], livemode=state.livemode)
        for attachment_id, feature_id in attached.items()
    ]
    return 200, list_page(f"/v1/products/{id}/features", objects, params)


def _attachment(api: StripeApi, state: ModeState, product: str, id: str) -> dict[str, str]:
    attached = _attachments(api, state, product)
    if id not in attached:
        raise StripeError(
            404, f"No such product_feature: '{id}'", code="resource_missing", param="id"
        )
    return attached


def retrieve_product_feature(
    api: StripeApi, state: ModeState, params: Payload, product: str, id: str
) -> tuple[int, Payload]:
    """``GET /v1/products/{product}/features/{id}``."""
    attached = _attachment(api, state, product, id)
    feature = state.features[attached[id]]
    return 200, product_feature(id, feature, livemode=state.livemode)


def detach_feature(
    api: StripeApi, state: ModeState, params: Payload, product: str, id: str
) -> tuple[int, Payload]:
    """``DELETE /v1/products/{product}/features/{id}``: Stripe's deleted stub."""
    attached = _attachment(api, state, product, id)
    del attached[id]
    _refresh_subscribers(api.store, state, product)
    return 200, {"id": id, "object": "product_feature", "deleted": True}


def list_active_entitlements(
    api: StripeApi, state: ModeState, params: Payload
) -> tuple[int, Payload]:
    """``GET /v1/entitlements/active_entitlements?customer=…`` (``customer`` required)."""
    customer = params.get("customer")
    if not customer:
        raise StripeError(
            400, "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    if not isinstance(customer, str):
        raise StripeError(400, "Invalid string: customer", param="customer")
    # An unknown customer has none, as the stand-in's subscription list answers for one (what
    # Stripe answers for an unknown customer here is not verified; docs/local.md).
    entitlements = list(state.active_entitlements.get(customer, {}).values())
    # list_page shows the newest first; Stripe documents no order for this list.
    return 200, list_page("/v1/entitlements/active_entitlements", entitlements, params)


def retrieve_active_entitlement(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/entitlements/active_entitlements/{id}``."""
    for entitlements in state.active_entitlements.values():
        for entitlement in entitlements.values():
            if entitlement["id"] == id:
                return 200, entitlement
    raise StripeError(
        404, f"No such active_entitlement: '{id}'", code="resource_missing", param="id"
    )


ROUTES = (
    route(
        "POST",
        "/v1/entitlements/features",
        create_feature,
        schema="POST /v1/entitlements/features",
    ),
    route(
        "GET",
        "/v1/entitlements/features",
        list_features,
        query=frozenset(LIST_PARAMS | {"archived", "lookup_key"}),
    ),
    route("GET", "/v1/entitlements/features/{id}", retrieve_feature),
    route(
        "GET",
        "/v1/entitlements/active_entitlements",
        list_active_entitlements,
        query=frozenset(LIST_PARAMS | {"customer"}),
    ),
    route("GET", "/v1/entitlements/active_entitlements/{id}", retrieve_active_entitlement),
    route(
        "POST",
        "/v1/products/{id}/features",
        attach_feature,
        schema="POST /v1/products/{product}/features",
    ),
    route(
        "GET",
        "/v1/products/{id}/features",
        list_product_features,
        query=frozenset(LIST_PARAMS),
    ),
    route("GET", "/v1/products/{product}/features/{id}", retrieve_product_feature),
    route("DELETE", "/v1/products/{product}/features/{id}", detach_feature),
)
