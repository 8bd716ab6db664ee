"""Routing of Stripe API requests: the route table's rows and the dispatch over them.

Each topic module (``accounts``, ``files``, ``catalog``, ``customers``, ``subscriptions``,
``portal``, ``events``, ``webhook_endpoints``) declares its ``ROUTES``, gathered in
``local/stripe/standin.py``; ``StripeApi`` turns (method, path, decoded params,
key) into (status, JSON payload) or a ``StripeError``. Transport concerns (auth header,
idempotency, faults, logging) live in ``server.py``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from local.stripe.core import shapes
from local.stripe.core.errors import StripeError
from local.stripe.core.keys import ApiKey
from local.stripe.core.store import ModeState, Store
from local.stripe.core.validation import ParamError, validate

Payload = dict[str, Any]


@dataclass(frozen=True)
class RawContent:
    """A response that is a file's bytes, not JSON."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class Route:
    """One endpoint: how to match it, what it accepts, and what runs it.

    An API handler is called as ``handler(api, state, params, **path_groups)`` (plus
    ``stripe_account`` when ``connect``); a control handler as
    ``handler(standin, query, payload, **path_groups)``.
    """

    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    schema: str | None = None  # key of the schema's "requests" for POST bodies
    allow_unset: bool = False
    query: frozenset[str] = frozenset({"expand"})  # accepted query parameters for GET/DELETE
    connect: bool = False  # may act as a connected account (Stripe-Account header)
    expands: tuple[str, ...] = ()  # the `expand` paths it honours (others are refused)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's named groups if this route serves the request, else None."""
        found = self.pattern.match(path)
        return found.groupdict() if found and method == self.method else None


def route(method: str, path: str, handler: Callable[..., Any], **options: Any) -> Route:
    """A route for ``path`` written with ``{name}`` placeholders."""
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
    return Route(method, re.compile(regex), handler, **options)


def retrieve(collection: str) -> Callable[..., tuple[int, Payload]]:
    """The handler of ``GET /v1/…/{id}`` for a store collection: the object, or Stripe's 404."""

    def handler(api: StripeApi, state: ModeState, params: Payload, id: str) -> tuple[int, Payload]:
        return 200, api.store.require(state, collection, id, param="id", status=404)

    return handler


def unrecognized(method: str, path: str) -> StripeError:
    """Stripe's answer to a URL it does not serve."""
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
        idempotent_result=False,
    )


class StripeApi:
    """The endpoints of ``routes`` over a ``Store``; ``base_url`` makes portal, login and file
    URLs point at the stand-in."""

    def __init__(self, store: Store, base_url: Callable[[], str], routes: Sequence[Route]) -> None:
        self.store = store
        self.base_url = base_url
        self.routes = tuple(routes)

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
        for endpoint in self.routes:
            groups: dict[str, Any] | None = endpoint.match(method, path)
            if groups is None:
                continue
            params = self._checked(endpoint, params)
            expand = shapes.expand_paths(params)
            shapes.check_expand(expand, endpoint.expands)
            if stripe_account and not endpoint.connect:
                raise StripeError(
                    400,
                    "The Stripe stand-in does not act as a connected account (Stripe-Account "
                    f"header) on {method} {path}.",
                    idempotent_result=False,
                )
            if endpoint.connect:
                groups["stripe_account"] = stripe_account
            with self.store.lock:
                status, payload = endpoint.handler(
                    self, self.store.mode(key.livemode), params, **groups
                )
                # The stored object keeps changing after the lock is released; the copy is
                # shaped as Stripe answers (fields it returns only when expanded left out).
                return status, shapes.render(copy.deepcopy(payload), expand)
        raise unrecognized(method, path)

    def _checked(self, endpoint: Route, params: Payload) -> Payload:
        if endpoint.schema is not None:
            try:
                return validate(endpoint.schema, params, allow_unset=endpoint.allow_unset)
            except ParamError as error:
                raise StripeError.from_param_error(error) from None
        for name in params:
            if name not in endpoint.query:
                raise StripeError(
                    400,
                    f"Received unknown parameter: {name}",
                    code="parameter_unknown",
                    param=name,
                    idempotent_result=False,
                )
        return params
