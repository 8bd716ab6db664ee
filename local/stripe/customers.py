"""Customers: create, retrieve, update, delete, list, search; and deleting one as the Dashboard
would (control API).

A deleted customer keeps its last state in the store: the API shows Stripe's ``deleted`` stub,
the control API the object. Deleting a customer cancels its subscriptions at once. Creating,
updating and deleting one record its ``customer.*`` event.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from local.stripe import events
from local.stripe.core.control_routes import listed, mode_state
from local.stripe.core.errors import StripeError
from local.stripe.core.listing import LIST_PARAMS, list_limit, list_page
from local.stripe.core.objects import merge, merge_metadata, new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.server import StripeServer
from local.stripe.core.store import ModeState, Store
from local.stripe.subscriptions import cancel_subscriptions_of

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
# Accepted on create/update but with no visible effect here (payments, tax, test clocks…).
IGNORED_CUSTOMER_PARAMS = {
    "cash_balance",
    "expand",
    "payment_method",
    "source",
    "tax",
    "tax_id_data",
    "validate",
}
_SEARCH_CLAUSE = re.compile(
    r"""^\s*(?:metadata\[(?P<kq>['"])(?P<mkey>.+?)(?P=kq)\]|(?P<field>email|name|phone))"""
    r"""\s*:\s*(?P<vq>['"])(?P<value>.*?)(?P=vq)\s*$"""
)


# --- the object ----------------------------------------------------------------------------


def _address(value: dict[str, Any]) -> dict[str, Any]:
    address = dict.fromkeys(ADDRESS_FIELDS)
    merge(address, value)
    return address


def new_customer(customer_id: str, *, livemode: bool, created: int) -> dict[str, Any]:
    """A customer with every field Stripe returns (its published example's), before parameters
    are applied."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": livemode,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def apply_customer_params(customer: dict[str, Any], params: dict[str, Any]) -> None:
    """Apply create or update parameters to ``customer`` in place."""
    for key, value in params.items():
        if key in IGNORED_CUSTOMER_PARAMS:
            continue
        if key == "metadata":
            customer["metadata"] = merge_metadata(customer["metadata"], value)
        elif key == "address" and isinstance(value, dict):
            customer["address"] = _address({**(customer["address"] or {}), **value})
        elif key == "shipping" and isinstance(value, dict):
            shipping = {
                "address": None,
                "name": None,
                "phone": None,
                **(customer["shipping"] or {}),
            }
            merge(shipping, {k: v for k, v in value.items() if k != "address"})
            if "address" in value:
                shipping["address"] = _address({**(shipping["address"] or {}), **value["address"]})
            customer["shipping"] = shipping
        elif key == "tax_exempt" and value == "":
            customer["tax_exempt"] = "none"
        elif key == "invoice_settings" and isinstance(value, dict):
            _invoice_settings(customer["invoice_settings"], value)
        else:
            merge(customer, {key: value})


def _invoice_settings(current: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge `invoice_settings`; Stripe's `rendering_options` always has both its fields."""
    merge(current, {key: value for key, value in update.items() if key != "rendering_options"})
    if "rendering_options" in update:
        options = update["rendering_options"]
        current["rendering_options"] = (
            None
            if options == ""
            else {
                "amount_tax_display": options.get("amount_tax_display") or None,
                "template": options.get("template") or None,
            }
        )


def deleted_customer(customer_id: str) -> dict[str, Any]:
    """What Stripe returns for a deleted customer."""
    return {"id": customer_id, "object": "customer", "deleted": True}


def _delete(store: Store, state: ModeState, customer_id: str) -> dict[str, Any]:
    """Delete: its subscriptions end now (their events first), then ``customer.deleted`` with the
    customer's last state, as Stripe sends it."""
    cancel_subscriptions_of(store, state, customer_id)
    customer = state.customers.pop(customer_id)
    state.deleted_customers[customer_id] = customer
    events.record(store, state, "customer.deleted", customer)
    return deleted_customer(customer_id)


# --- the API -------------------------------------------------------------------------------


def create_customer(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/customers``."""
    customer = new_customer(new_id("cus"), livemode=state.livemode, created=int(time.time()))
    apply_customer_params(customer, params)
    state.customers[customer["id"]] = customer
    events.record(api.store, state, "customer.created", customer)
    return 200, customer


def retrieve_customer(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/customers/{id}``; a deleted customer comes back as a ``deleted`` stub."""
    if id in state.deleted_customers:
        return 200, deleted_customer(id)
    return 200, api.store.require(state, "customers", id, param="id", status=404)


def update_customer(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/customers/{id}``."""
    customer = api.store.require(state, "customers", id, param="id", status=404)
    before = copy.deepcopy(customer)
    apply_customer_params(customer, params)
    previous = events.previous_attributes(before, customer)
    if previous:
        events.record(api.store, state, "customer.updated", customer, previous)
    return 200, customer


def delete_customer(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``DELETE /v1/customers/{id}``."""
    api.store.require(state, "customers", id, param="id", status=404)
    return 200, _delete(api.store, state, id)


def list_customers(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/customers`` (newest first; ``email`` filter; cursor pagination)."""
    customers = list(state.customers.values())
    if "email" in params:
        customers = [c for c in customers if c["email"] == params["email"]]
    return 200, list_page("/v1/customers", customers, params)


def search_customers(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/customers/search`` for ``metadata['k']:'v'``, email, name, phone clauses."""
    if not params.get("query"):
        raise StripeError(
            400, "Missing required param: query.", code="parameter_missing", param="query"
        )
    predicates = [_search_clause(clause) for clause in params["query"].split(" AND ")]
    found = [
        customer
        for customer in reversed(state.customers.values())
        if all(predicate(customer) for predicate in predicates)
    ]
    limit = list_limit(params)
    return 200, {
        "object": "search_result",
        "data": found[:limit],
        "has_more": len(found) > limit,
        "next_page": None,
        "url": "/v1/customers/search",
    }


def _search_clause(clause: str) -> Callable[[Payload], bool]:
    match = _SEARCH_CLAUSE.match(clause)
    if match is None:
        raise StripeError(
            400,
            "The Stripe stand-in supports search clauses of the form metadata['key']:'value', "
            f"email:'…', name:'…' or phone:'…' joined by AND; got {clause!r}.",
            param="query",
        )
    value = match["value"]
    if match["mkey"] is not None:
        key = match["mkey"]
        return lambda customer: customer["metadata"].get(key) == value
    field = match["field"]
    return lambda customer: customer[field] == value


ROUTES = (
    route(
        "GET",
        "/v1/customers/search",
        search_customers,
        query=frozenset({"query", "limit", "page", "expand"}),
    ),
    route("POST", "/v1/customers", create_customer, schema="POST /v1/customers"),
    route(
        "GET",
        "/v1/customers",
        list_customers,
        query=frozenset(LIST_PARAMS | {"email", "created", "test_clock"}),
    ),
    route("GET", "/v1/customers/{id}", retrieve_customer),
    route(
        "POST",
        "/v1/customers/{id}",
        update_customer,
        schema="POST /v1/customers",
        allow_unset=True,
    ),
    route("DELETE", "/v1/customers/{id}", delete_customer, query=frozenset()),
)


# --- the control API -----------------------------------------------------------------------


def _control_list(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any]
) -> tuple[int, Any]:
    """Customers of a mode; with ``include_deleted=true`` the deleted ones (last state) too."""
    store = standin.store
    with store.lock:
        customers = listed(standin, query, "customers")
        if query.get("include_deleted") == "true":
            state = mode_state(store, query.get("mode", "test"))
            deleted = [{**c, "deleted": True} for c in state.deleted_customers.values()]
            customers += json.loads(json.dumps(deleted))
    return 200, {"data": customers}


def _control_delete(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any], id: str
) -> tuple[int, Any]:
    """Delete as the Dashboard would: no key needed, either mode."""
    store = standin.store
    with store.lock:
        for state in store.modes.values():
            if id in state.customers:
                return 200, _delete(store, state, id)
    return 404, {"error": f"no such customer: {id}"}


CONTROL_ROUTES = (
    route("GET", "/_standin/customers", _control_list),
    route("DELETE", "/_standin/customers/{id}", _control_delete),
)
