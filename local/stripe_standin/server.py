"""The stand-in's HTTP server: Stripe's transport behaviour around ``api.StripeApi``.

Per API request: decode the form, add latency, apply an injected fault, authenticate, honour
the Idempotency-Key, run the endpoint, log. ``/_standin/…`` is the JSON control API for tests,
``/p/…`` the stand-in's portal pages.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from local.http_util import KeepAliveHandler, LocalHTTPServer, ServerThread
from local.stripe_standin import portal_page, resources
from local.stripe_standin.api import RawContent, StripeApi
from local.stripe_standin.api_subscriptions import cancel_subscriptions_of
from local.stripe_standin.control import StandinControl
from local.stripe_standin.errors import StripeError
from local.stripe_standin.faults import Fault, FaultPlan, FaultSpecError
from local.stripe_standin.forms import FormError, decode_form
from local.stripe_standin.idempotency import IdempotencyStore, StoredResponse, fingerprint
from local.stripe_standin.keys import ApiKey, KeyRing
from local.stripe_standin.multipart import UploadedFile, decode_multipart, is_multipart
from local.stripe_standin.requestlog import RequestLog
from local.stripe_standin.resources import merge
from local.stripe_standin.store import MODES, Store
from local.stripe_standin.validation import schema_version

_CONTROL_CUSTOMER = re.compile(r"^/_standin/customers/(?P<id>[^/]+)$")


class StripeStandin:
    """A local, stateful Stripe API for the endpoints billing-portal uses.

    >>> standin = StripeStandin().start()
    >>> client = stripe.StripeClient(
    ...     "sk_test_…", base_addresses={"api": standin.url, "files": standin.url}
    ... )
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, api_keys: Iterable[str] | None = None
    ) -> None:
        self.store = Store()
        self.faults = FaultPlan()
        self.idempotency = IdempotencyStore()
        self.log = RequestLog()
        self.keys = KeyRing(api_keys)
        # Bumped by reset(): a request still sleeping in a delay from before the reset must
        # not create objects or log entries in the state the next test starts from.
        self.generation = 0
        self.api_version = schema_version()
        self._http = LocalHTTPServer((host, port), _Handler)
        self._http.standin = self  # type: ignore[attr-defined]
        self._thread = ServerThread(self._http, name="stripe-standin")
        self.api = StripeApi(self.store, lambda: self.url)

    @property
    def url(self) -> str:
        """Base URL to give the SDK: ``base_addresses={"api": url, "files": url}`` (the stand-in
        serves the API and file uploads at one address)."""
        return self._thread.url

    def control(self) -> StandinControl:
        """An HTTP control handle on this stand-in (what the test fixtures hand out)."""
        return StandinControl(self.url)

    def start(self) -> StripeStandin:
        """Serve from a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._thread.stop()

    def reset(self) -> None:
        """Forget all objects, idempotency keys, log entries, faults and latency."""
        self.generation += 1
        self.store.reset()
        self.idempotency.clear()
        self.log.clear()
        self.faults.clear()

    def __enter__(self) -> StripeStandin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(KeepAliveHandler):
    server: LocalHTTPServer

    @property
    def standin(self) -> StripeStandin:
        return self.server.standin  # type: ignore[attr-defined]

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
        elif url.path.startswith("/p/"):
            self._portal(url.path)
        else:
            _ApiRequest(self, url.path, url.query, body).run()

    # --- portal pages ----------------------------------------------------------------------

    def _portal(self, path: str) -> None:
        store = self.standin.store
        kind, _, token = path.removeprefix("/p/").partition("/")
        if kind == "session" and (session := store.find_session(token)) is not None:
            with store.lock:
                html = portal_page.session_page(
                    session, store.configuration_of(session), store.account
                )
            self.send_bytes(200, html.encode(), "text/html; charset=utf-8")
            return
        if kind == "login":
            with store.lock:
                for state in store.modes.values():
                    for configuration in state.configurations.values():
                        if (configuration["login_page"]["url"] or "").endswith(path):
                            html = portal_page.login_page(configuration)
                            self.send_bytes(200, html.encode(), "text/html; charset=utf-8")
                            return
        html = portal_page.missing_page("portal session" if kind == "session" else "page")
        self.send_bytes(404, html.encode(), "text/html; charset=utf-8")

    # --- control API -----------------------------------------------------------------------

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
        standin = self.standin
        store = standin.store
        route = f"{method} {path}"
        if route == "GET /_standin/health":
            return 200, {"ok": True, "url": standin.url}
        if route == "POST /_standin/reset":
            standin.reset()
            return 200, {"ok": True}
        if route == "GET /_standin/requests":
            entries = standin.log.entries(query.get("path_prefix"), query.get("method"))
            return 200, {"requests": entries}
        if route == "POST /_standin/faults":
            return 200, {"fault": standin.faults.add(payload).describe()}
        if route == "GET /_standin/faults":
            return 200, {"faults": standin.faults.pending()}
        if route == "DELETE /_standin/faults":
            standin.faults.clear()
            return 200, {"ok": True}
        if route == "POST /_standin/latency":
            ms = payload.get("ms")
            if not isinstance(ms, int) or ms < 0:
                raise ValueError("'ms' must be a non-negative integer")
            standin.faults.latency_ms = ms
            return 200, {"latency_ms": ms}
        if route == "POST /_standin/keys":
            accepted = payload.get("accept")
            if accepted is not None and not isinstance(accepted, list):
                raise ValueError("'accept' must be a list of keys, or null for any key")
            standin.keys.accept(accepted)
            return 200, {"accept": "any" if accepted is None else len(accepted)}
        if route in {"GET /_standin/account", "POST /_standin/account"}:
            with store.lock:
                merge(store.account, payload)
                return 200, store.account
        if route == "POST /_standin/connected_accounts":
            return 200, self._create_connected_account(payload)
        if method == "GET" and path.removeprefix("/_standin/") in {
            "customers",
            "sessions",
            "configurations",
            "products",
            "prices",
            "subscriptions",
            "connected_accounts",
        }:
            return 200, {"data": self._objects(path.removeprefix("/_standin/"), query)}
        match = _CONTROL_CUSTOMER.match(path)
        if method == "DELETE" and match:
            return self._delete_customer(match["id"])
        return 404, {"error": f"no such control route: {route}"}

    def _objects(self, collection: str, query: dict[str, str]) -> list[dict[str, Any]]:
        mode = query.get("mode", "test")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        store = self.standin.store
        with store.lock:
            state = store.modes[mode]
            objects = list(getattr(state, collection).values())
            if collection == "customers" and query.get("include_deleted") == "true":
                objects += [{**c, "deleted": True} for c in state.deleted_customers.values()]
            return json.loads(json.dumps(objects))

    def _create_connected_account(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A connected account of the platform, as Connect onboarding would leave it."""
        mode = payload.get("mode", "test")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        account_id = payload.get("id") or resources.new_id("acct")
        if not isinstance(account_id, str) or not account_id.startswith("acct_"):
            raise ValueError("'id' must be an account id starting with acct_")
        account = resources.new_account(account_id)
        account["type"] = "custom"
        store = self.standin.store
        with store.lock:
            store.modes[mode].connected_accounts[account_id] = account
            return json.loads(json.dumps(account))

    def _delete_customer(self, customer_id: str) -> tuple[int, Any]:
        """Delete as the Dashboard would: no key needed, either mode."""
        store = self.standin.store
        with store.lock:
            for state in store.modes.values():
                if customer_id in state.customers:
                    state.deleted_customers[customer_id] = state.customers.pop(customer_id)
                    cancel_subscriptions_of(state, customer_id, int(time.time()))
                    return 200, resources.deleted_customer(customer_id)
        return 404, {"error": f"no such customer: {customer_id}"}


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
        self.request_id = resources.new_id("req")
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
