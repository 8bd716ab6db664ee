"""The stand-in's HTTP core: Stripe's transport behaviour around a table of routes.

Per API request: decode the form, add latency, apply an injected fault, authenticate, honour
the Idempotency-Key, run the endpoint (``routing.StripeApi``), log. ``/_standin/…`` is the JSON
control API for tests (``control_routes``), other prefixes are HTML pages (the portal's).
``local.stripe.standin.StripeStandin`` is this server with every Stripe topic's routes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from local.servers import HTTPServerThread, KeepAliveHandler
from local.stripe.core import control_routes
from local.stripe.core.errors import StripeError
from local.stripe.core.faults import Fault, FaultPlan, FaultSpecError
from local.stripe.core.forms import FormError, decode_form
from local.stripe.core.idempotency import IdempotencyStore, StoredResponse, fingerprint
from local.stripe.core.keys import ApiKey, KeyRing
from local.stripe.core.multipart import UploadedFile, decode_multipart, is_multipart
from local.stripe.core.objects import new_id
from local.stripe.core.permissions import check_permissions
from local.stripe.core.ratelimit import HEADERS as RATE_LIMITED_HEADERS
from local.stripe.core.ratelimit import RateLimiter
from local.stripe.core.ratelimit import error_payload as rate_limited_payload
from local.stripe.core.requestlog import RequestLog
from local.stripe.core.routing import RawContent, Route, StripeApi
from local.stripe.core.store import Store
from stackspec.schema import api_version

# A page handler: (api, method, path, form fields of the query or the POST body) →
# (status, HTML, extra headers).
Page = Callable[[StripeApi, str, str, dict[str, Any]], tuple[int, str, dict[str, str]]]


class StripeServer(HTTPServerThread):
    """A local, stateful Stripe API serving ``routes``, with the control API and ``pages``."""

    name = "stripe-standin"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_keys: Iterable[str] | None = None,
        routes: Sequence[Route] = (),
        control: Sequence[Route] = (),
        pages: Mapping[str, Page] | None = None,
        seed: Callable[[Store], None] = lambda store: None,
    ) -> None:
        self.store = Store(seed)
        self.faults = FaultPlan()
        self.rate_limit = RateLimiter()
        self.idempotency = IdempotencyStore()
        self.log = RequestLog()
        self.keys = KeyRing(api_keys)
        # Bumped by reset(): a request still sleeping in a delay from before the reset must
        # not create objects or log entries in the state the next test starts from.
        self.generation = 0
        self.api_version = api_version()
        self.control_routes = (*control_routes.ROUTES, *control, *control_routes.LISTING)
        self.pages = dict(pages or {})
        super().__init__((host, port), _Handler)
        self.api = StripeApi(self.store, lambda: self.url, routes)

    def reset(self) -> None:
        """Forget all objects, idempotency keys, log entries, faults and latency."""
        self.generation += 1
        self.store.reset()
        self.idempotency.clear()
        self.log.clear()
        self.faults.clear()
        self.rate_limit.set(None)


class _Handler(KeepAliveHandler):
    @property
    def standin(self) -> StripeServer:
        return self.server.owner  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        """Every method goes through the same dispatch."""
        self._dispatch()

    do_POST = do_GET
    do_DELETE = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_standin/"):
            self._control(url.path, url.query, body)
            return
        for prefix, page in self.standin.pages.items():
            if url.path.startswith(prefix):
                raw = body.decode("utf-8", "replace") if self.command == "POST" else url.query
                form = dict(parse_qsl(raw, keep_blank_values=True))
                status, html, headers = page(self.standin.api, self.command, url.path, form)
                self.send_bytes(status, html.encode(), "text/html; charset=utf-8", headers)
                return
        _ApiRequest(self, url.path, url.query, body).run()

    def _control(self, path: str, query: str, body: bytes) -> None:
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise ValueError("the request body must be a JSON object")
            status, answer = self._control_route(self.command, path, _query(query), payload)
        except (ValueError, FaultSpecError) as error:
            status, answer = 400, {"error": str(error)}
        self.send_json(status, answer)

    def _control_route(
        self, method: str, path: str, query: dict[str, str], payload: dict[str, Any]
    ) -> tuple[int, Any]:
        for endpoint in self.standin.control_routes:
            groups = endpoint.match(method, path)
            if groups is not None:
                return endpoint.handler(self.standin, query, payload, **groups)
        return 404, {"error": f"no such control route: {method} {path}"}


def _query(query: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(query).items()}


class _ApiRequest:
    """One Stripe API request on its way through the stand-in."""

    def __init__(self, handler: _Handler, path: str, query: str, body: bytes) -> None:
        self.handler = handler
        self.standin = handler.standin
        self.method = handler.command
        self.path = path
        self.query = query
        self.body = body
        self.request_id = new_id("req")
        self.started = time.monotonic()
        self.generation = self.standin.generation
        self.content_type = "application/json"
        self.stripe_account = handler.headers.get("Stripe-Account") or None
        self.logged = False
        self.entry: dict[str, Any] = {
            "request_id": self.request_id,
            "time": time.time(),
            "method": self.method,
            "path": path,
            "params": None,
            "idempotency_key": None,
            "livemode": None,
            "restricted_key": None,
            "stripe_version": handler.headers.get("Stripe-Version"),
            "stripe_account": self.stripe_account,
            "status": None,
            "idempotent_replayed": False,
            "fault": None,
        }

    def run(self) -> None:
        """Answer the request (or, for an injected drop, do not)."""
        try:
            self._run()
        finally:
            self._log()

    def _log(self) -> None:
        # Logged just before the response goes out (or the connection is dropped), so a client
        # that has its answer always finds the request in the log; `run` logs whatever is left.
        if self.logged:
            return
        self.logged = True
        self.entry["duration_ms"] = round((time.monotonic() - self.started) * 1000, 1)
        if not self._outlived_reset():
            self.standin.log.add(self.entry)

    def _outlived_reset(self) -> bool:
        return self.generation != self.standin.generation

    def _drop(self) -> None:
        self.handler.close_connection = True
        with contextlib.suppress(OSError):
            self.handler.connection.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        admitted = self.standin.rate_limit.admit()  # on arrival, as Stripe counts
        content_type = self.handler.headers.get("Content-Type")
        try:
            if self.method == "POST" and is_multipart(content_type):
                params = decode_multipart(self.body, content_type or "")
            else:
                params = decode_form(self.body if self.method == "POST" else self.query)
                if self.method == "POST":
                    # the exact form fields as sent, in order: what Stripe would receive
                    self.entry["form"] = parse_qsl(
                        self.body.decode("utf-8"), keep_blank_values=True
                    )
        except FormError as error:
            self._send_error(StripeError(400, str(error), param=error.param))
            return
        self.entry["params"] = loggable(params)
        if self.standin.faults.latency_ms:
            time.sleep(self.standin.faults.latency_ms / 1000)
        if not admitted:
            self._send(429, _json(rate_limited_payload()), dict(RATE_LIMITED_HEADERS))
            return
        fault = self.standin.faults.take(self.method, self.path)
        if fault is not None:
            self.entry["fault"] = fault.describe()
        if fault is not None and fault.when == "before" and self._apply_fault(fault):
            return
        if self._outlived_reset():
            self._drop()
            return
        try:
            key = self.standin.keys.authenticate(self.handler.headers.get("Authorization"))
            check_permissions(
                key.permissions,
                key.masked,
                self.method,
                self.path,
                self.standin.store.account.get("id"),
            )
        except StripeError as error:
            self._send_error(error)
            return
        self.entry["livemode"] = key.livemode
        self.entry["restricted_key"] = key.restricted
        status, body, headers = self._respond(key, params)
        if fault is not None and fault.when == "after" and self._apply_fault(fault):
            return
        self._send(status, body, headers, self.content_type)

    def _respond(self, key: ApiKey, params: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and extra headers, going through the idempotency store for POSTs."""
        idempotency_key = self.handler.headers.get("Idempotency-Key")
        if self.method != "POST" or not idempotency_key:
            status, body, _ = self._execute(key, params)
            return status, body, {}
        self.entry["idempotency_key"] = idempotency_key
        headers = {"Idempotency-Key": idempotency_key}
        endpoint = f"{self.method} {self.path}"
        store = self.standin.idempotency
        try:
            with store.holding(key.mode, idempotency_key):
                digest = fingerprint(loggable(params))
                stored = store.lookup(key.mode, idempotency_key, endpoint, digest)
                if stored is not None:
                    self.entry["idempotent_replayed"] = True
                    headers |= {
                        "Idempotent-Replayed": "true",
                        "Original-Request": stored.request_id,
                    }
                    return stored.status, stored.body, headers
                status, body, keep = self._execute(key, params)
                if keep:
                    response = StoredResponse(endpoint, digest, status, body, self.request_id)
                    store.save(key.mode, idempotency_key, response)
                return status, body, headers
        except StripeError as error:
            return error.status, _json(error.payload()), headers | error.headers

    def _execute(self, key: ApiKey, params: dict[str, Any]) -> tuple[int, bytes, bool]:
        try:
            status, payload = self.standin.api.handle(
                self.method, self.path, params, key, self.stripe_account
            )
        except StripeError as error:
            return error.status, _json(error.payload()), error.idempotent_result
        if isinstance(payload, RawContent):
            self.content_type = payload.content_type
            return status, payload.data, True
        return status, _json(payload), True

    def _apply_fault(self, fault: Fault) -> bool:
        """Delay, drop or fail as the fault says; True if the request is answered (or dropped)."""
        if fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault.drop:
            self.entry["status"] = None
            self._log()
            self._drop()
            return True
        if fault.status is None:
            return False
        if fault.body is not None:
            self.entry["status"] = fault.status
            self._log()
            self.handler.send_bytes(
                fault.status, fault.body.encode(), "text/html; charset=utf-8", fault.headers
            )
            return True
        self._send(fault.status, _json(fault.error_payload()), dict(fault.headers))
        return True

    def _send_error(self, error: StripeError) -> None:
        self._send(error.status, _json(error.payload()), error.headers)

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str],
        content_type: str = "application/json",
    ) -> None:
        self.entry["status"] = status
        self._log()
        self.handler.send_bytes(
            status,
            body,
            content_type,
            {
                "Request-Id": self.request_id,
                "Stripe-Version": self.entry["stripe_version"] or self.standin.api_version,
                **headers,
            },
        )


def loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Params as JSON can hold them: an uploaded file becomes its name, size and hash."""
    return {
        key: value.summary()
        if isinstance(value, UploadedFile)
        else loggable(value)
        if isinstance(value, dict)
        else value
        for key, value in params.items()
    }


def _json(payload: Any) -> bytes:
    return json.dumps(payload, indent=2).encode("utf-8") + b"\n"
