"""The Stripe API endpoints the project uses: routing, checks Stripe makes, and state changes.

Transport concerns (auth header, idempotency, faults, logging) live in ``server.py``; this
module turns (method, path, decoded params, key) into (status, JSON payload) or a StripeError.
Branding (files, accounts), catalog (products, prices) and subscription endpoints live in
``api_branding``, ``api_catalog`` and ``api_subscriptions``.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from local.stripe_standin import resources
from local.stripe_standin.api_branding import BrandingEndpoints, RawContent
from local.stripe_standin.api_catalog import CatalogEndpoints
from local.stripe_standin.api_subscriptions import (
    SubscriptionEndpoints,
    cancel_subscriptions_of,
    check_flow_subscription,
)
from local.stripe_standin.errors import StripeError
from local.stripe_standin.keys import ApiKey
from local.stripe_standin.listing import LIST_PARAMS, list_limit, list_page, parse_boolean
from local.stripe_standin.store import ModeState, Store
from local.stripe_standin.validation import ParamError, validate

Payload = dict[str, Any]
Handler = Callable[..., tuple[int, Payload]]

_SEARCH_CLAUSE = re.compile(
    r"""^\s*(?:metadata\[(?P<kq>['"])(?P<mkey>.+?)(?P=kq)\]|(?P<field>email|name|phone))"""
    r"""\s*:\s*(?P<vq>['"])(?P<value>.*?)(?P=vq)\s*$"""
)


@dataclass(frozen=True)
class Route:
    """One endpoint: how to match it, what it accepts, and what runs it."""

    method: str
    pattern: re.Pattern[str]
    handler: str
    schema: str | None = None  # key of the schema's "requests" for POST bodies
    allow_unset: bool = False
    query: frozenset[str] = frozenset({"expand"})  # accepted query parameters for GET/DELETE
    connect: bool = False  # may act as a connected account (Stripe-Account header)


def _route(method: str, path: str, handler: str, **options: Any) -> Route:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
    return Route(method, re.compile(regex), handler, **options)


ROUTES = (
    _route("GET", "/v1/account", "retrieve_account", connect=True),
    _route("POST", "/v1/files", "create_file", schema="POST /v1/files", connect=True),
    _route("GET", "/v1/files/{id}", "retrieve_file", connect=True),
    _route("GET", "/v1/files/{id}/contents", "file_contents", connect=True),
    _route("GET", "/v1/accounts/{id}", "retrieve_connected_account"),
    _route(
        "POST",
        "/v1/accounts/{id}",
        "update_connected_account",
        schema="POST /v1/accounts/{account}",
    ),
    _route("POST", "/v1/products", "create_product", schema="POST /v1/products"),
    _route(
        "GET",
        "/v1/products",
        "list_products",
        query=frozenset(LIST_PARAMS | {"active", "ids", "created", "shippable", "url"}),
    ),
    _route("GET", "/v1/products/{id}", "retrieve_product"),
    _route("POST", "/v1/prices", "create_price", schema="POST /v1/prices"),
    _route(
        "GET",
        "/v1/prices",
        "list_prices",
        query=frozenset(
            LIST_PARAMS | {"active", "product", "currency", "type", "created", "lookup_keys"}
        ),
    ),
    _route("GET", "/v1/prices/{id}", "retrieve_price"),
    _route(
        "GET",
        "/v1/customers/search",
        "search_customers",
        query=frozenset({"query", "limit", "page", "expand"}),
    ),
    _route("POST", "/v1/customers", "create_customer", schema="POST /v1/customers"),
    _route(
        "GET",
        "/v1/customers",
        "list_customers",
        query=frozenset(LIST_PARAMS | {"email", "created", "test_clock"}),
    ),
    _route("GET", "/v1/customers/{id}", "retrieve_customer"),
    _route(
        "POST",
        "/v1/customers/{id}",
        "update_customer",
        schema="POST /v1/customers",
        allow_unset=True,
    ),
    _route("DELETE", "/v1/customers/{id}", "delete_customer", query=frozenset()),
    _route("POST", "/v1/subscriptions", "create_subscription", schema="POST /v1/subscriptions"),
    _route(
        "GET",
        "/v1/subscriptions",
        "list_subscriptions",
        query=frozenset(LIST_PARAMS | {"customer", "price", "status"}),
    ),
    _route("GET", "/v1/subscriptions/{id}", "retrieve_subscription"),
    _route(
        "POST",
        "/v1/billing_portal/configurations",
        "create_configuration",
        schema="POST /v1/billing_portal/configurations",
    ),
    _route(
        "GET",
        "/v1/billing_portal/configurations",
        "list_configurations",
        query=frozenset(LIST_PARAMS | {"active", "is_default"}),
    ),
    _route("GET", "/v1/billing_portal/configurations/{id}", "retrieve_configuration"),
    _route(
        "POST",
        "/v1/billing_portal/configurations/{id}",
        "update_configuration",
        schema="POST /v1/billing_portal/configurations/{configuration}",
    ),
    _route(
        "POST",
        "/v1/billing_portal/sessions",
        "create_session",
        schema="POST /v1/billing_portal/sessions",
    ),
)


def unrecognized(method: str, path: str) -> StripeError:
    """Stripe's answer to a URL it does not serve."""
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
        idempotent_result=False,
    )


class StripeApi(BrandingEndpoints, CatalogEndpoints, SubscriptionEndpoints):
    """The endpoints, over a ``Store``; ``base_url`` makes portal, login and file URLs point
    here."""

    def __init__(self, store: Store, base_url: Callable[[], str]) -> None:
        self.store = store
        self.base_url = base_url

    def handle(
        self,
        method: str,
        path: str,
        params: Payload,
        key: ApiKey,
        stripe_account: str | None = None,
    ) -> tuple[int, Payload | RawContent]:
        """Run one API request, as the connected account ``stripe_account`` if one is named;
        raise ``StripeError`` for anything Stripe would refuse."""
        for route in ROUTES:
            match = route.pattern.match(path)
            if route.method == method and match:
                params = self._checked(route, params)
                handler: Handler = getattr(self, route.handler)
                groups: dict[str, Any] = match.groupdict()
                if stripe_account and not route.connect:
                    raise StripeError(
                        400,
                        "The Stripe stand-in does not act as a connected account (Stripe-Account "
                        f"header) on {method} {path}.",
                        idempotent_result=False,
                    )
                if route.connect:
                    groups["stripe_account"] = stripe_account
                with self.store.lock:
                    status, payload = handler(self.store.mode(key.livemode), params, **groups)
                    # The stored object keeps changing after the lock is released.
                    return status, copy.deepcopy(payload)
        raise unrecognized(method, path)

    def _checked(self, route: Route, params: Payload) -> Payload:
        if route.schema is not None:
            try:
                return validate(route.schema, params, allow_unset=route.allow_unset)
            except ParamError as error:
                raise StripeError.from_param_error(error) from None
        for name in params:
            if name not in route.query:
                raise StripeError(
                    400,
                    f"Received unknown parameter: {name}",
                    code="parameter_unknown",
                    param=name,
                    idempotent_result=False,
                )
        return params

    # --- customers -----------------------------------------------------------------------

    def create_customer(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``POST /v1/customers``."""
        customer = resources.new_customer(
            resources.new_id("cus"), livemode=state.livemode, created=int(time.time())
        )
        resources.apply_customer_params(customer, params)
        state.customers[customer["id"]] = customer
        return 200, customer

    def retrieve_customer(self, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        """``GET /v1/customers/{id}``; a deleted customer comes back as a ``deleted`` stub."""
        if id in state.deleted_customers:
            return 200, resources.deleted_customer(id)
        return 200, self.store.require(state, "customers", id, param="id", status=404)

    def update_customer(self, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        """``POST /v1/customers/{id}``."""
        customer = self.store.require(state, "customers", id, param="id", status=404)
        resources.apply_customer_params(customer, params)
        return 200, customer

    def delete_customer(self, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        """``DELETE /v1/customers/{id}``."""
        self.store.require(state, "customers", id, param="id", status=404)
        state.deleted_customers[id] = state.customers.pop(id)
        cancel_subscriptions_of(state, id, int(time.time()))
        return 200, resources.deleted_customer(id)

    def list_customers(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``GET /v1/customers`` (newest first; ``email`` filter; cursor pagination)."""
        customers = list(state.customers.values())
        if "email" in params:
            customers = [c for c in customers if c["email"] == params["email"]]
        return 200, list_page("/v1/customers", customers, params)

    def search_customers(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
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

    # --- portal configurations -------------------------------------------------------------

    def _login_url(self) -> str:
        return f"{self.base_url()}/p/login/{resources.new_id('test').removeprefix('test_')}"

    def create_configuration(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``POST /v1/billing_portal/configurations``."""
        now = int(time.time())
        configuration = resources.new_configuration(
            resources.new_id("bpc"), livemode=state.livemode, created=now
        )
        resources.apply_configuration_params(
            configuration, params, login_url=self._login_url(), updated=now
        )
        state.configurations[configuration["id"]] = configuration
        return 200, configuration

    def retrieve_configuration(
        self, state: ModeState, params: Payload, id: str
    ) -> tuple[int, Payload]:
        """``GET /v1/billing_portal/configurations/{id}``."""
        return 200, self.store.require(state, "configurations", id, param="id", status=404)

    def update_configuration(
        self, state: ModeState, params: Payload, id: str
    ) -> tuple[int, Payload]:
        """``POST /v1/billing_portal/configurations/{id}``."""
        configuration = self.store.require(state, "configurations", id, param="id", status=404)
        login_url = configuration["login_page"]["url"] or self._login_url()
        resources.apply_configuration_params(
            configuration, params, login_url=login_url, updated=int(time.time())
        )
        return 200, configuration

    def list_configurations(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``GET /v1/billing_portal/configurations`` with ``active`` / ``is_default`` filters."""
        configurations = list(state.configurations.values())
        for name in ("active", "is_default"):
            if name in params:
                wanted = parse_boolean(params[name], name)
                configurations = [c for c in configurations if c[name] is wanted]
        return 200, list_page("/v1/billing_portal/configurations", configurations, params)

    # --- portal sessions -------------------------------------------------------------------

    def create_session(self, state: ModeState, params: Payload) -> tuple[int, Payload]:
        """``POST /v1/billing_portal/sessions``."""
        if "customer_account" in params:
            raise StripeError(
                400,
                "The Stripe stand-in does not support customer_account; pass customer.",
                param="customer_account",
            )
        if "customer" not in params:
            raise StripeError(
                400, "Missing required param: customer.", code="parameter_missing", param="customer"
            )
        customer = self.store.require(
            state, "customers", params["customer"], param="customer", status=400
        )
        if "configuration" in params:
            configuration = self.store.require(
                state, "configurations", params["configuration"], param="configuration", status=400
            )
            if not configuration["active"]:
                raise StripeError(
                    400,
                    f"The configuration {configuration['id']} is not active. Activate it or pass "
                    "a different configuration.",
                    param="configuration",
                )
        else:
            configuration = state.default_configuration
        _check_flow(params.get("flow_data"))
        _check_flow_enabled(params.get("flow_data"), configuration)
        check_flow_subscription(state, params.get("flow_data"), customer["id"])
        return_url = params.get("return_url") or configuration["default_return_url"]
        if not return_url:
            raise StripeError(
                400,
                "You must provide a return_url when creating a portal session, or set a "
                "default return URL (default_return_url) on the portal configuration "
                f"{configuration['id']}.",
                param="return_url",
            )
        _check_url(return_url, "return_url")
        session_id = resources.new_id("bps")
        session = resources.new_session(
            session_id,
            livemode=state.livemode,
            created=int(time.time()),
            customer=customer["id"],
            configuration=configuration["id"],
            return_url=return_url,
            url=f"{self.base_url()}/p/session/{session_id}",
            params=params,
        )
        state.sessions[session_id] = session
        return 200, session


def _check_flow(flow_data: Payload | None) -> None:
    """Rules Stripe applies to ``flow_data`` beyond the parameter schema."""
    if flow_data is None:
        return
    flow_type = flow_data["type"]
    if flow_type in resources.FLOW_DETAIL_TYPES and flow_type not in flow_data:
        param = f"flow_data[{flow_type}]"
        raise StripeError(
            400, f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    after = flow_data.get("after_completion") or {}
    if after.get("type") == "redirect":
        if "redirect" not in after:
            param = "flow_data[after_completion][redirect]"
            raise StripeError(
                400, f"Missing required param: {param}.", code="parameter_missing", param=param
            )
        _check_url(
            after["redirect"]["return_url"], "flow_data[after_completion][redirect][return_url]"
        )


def _check_flow_enabled(flow_data: Payload | None, configuration: Payload) -> None:
    """Stripe refuses a pause deep link into a configuration that does not enable pausing."""
    if flow_data is None or flow_data["type"] != "subscription_pause":
        return
    if not configuration["features"]["subscription_pause"]["enabled"]:
        raise StripeError(
            400,
            "You can't create a portal session with flow_data[type]=subscription_pause because "
            f"the configuration {configuration['id']} does not enable "
            "features[subscription_pause].",
            param="flow_data[type]",
        )


def _check_url(url: str, param: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise StripeError(400, "Not a valid URL", code="url_invalid", param=param)


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
