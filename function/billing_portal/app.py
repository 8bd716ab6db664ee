"""The HTTP edge: request in, JSON response out, one log line per request.

`POST /` opens a portal session; `GET /` answers the caller's billing state from Firestore
(`?checkout_session=cs_…`: after syncing it, on the return from Checkout); `POST /checkout`
opens a Checkout Session; `GET /plans` answers the checkout catalog (no token: see plans.py).
Any other path is served as `/` (as before these routes existed). Every
error is an `ApiError` raised somewhere below and turned into JSON by `responses.error_response`;
anything else is a bug, logged with its stack and answered with a generic 500 JSON.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import flask
from werkzeug.exceptions import ClientDisconnected, HTTPException

from . import logs
from .billing_state import BillingState, caller_state
from .checkout import RETURN_PARAMETER, Checkout
from .cors import cors_headers, preflight_headers
from .customers import CustomerDirectory
from .errors import ApiError, BadRequest, MethodNotAllowed, PayloadTooLarge
from .inputs import MAX_BODY_BYTES, parse_body, parse_checkout_body
from .plans import PlanCatalog
from .responses import error_response, json_response
from .sessions import open_portal
from .settings import Settings
from .stripe_api import StripeGateway
from .tokens import TokenVerifier
from .warmup import BootWarmup


class PortalApp:
    """The function: one instance of this per server instance, built at cold start."""

    def __init__(
        self,
        settings: Settings,
        *,
        verifier: TokenVerifier,
        directory: CustomerDirectory,
        stripe: StripeGateway,
        billing: BillingState,
        boot: BootWarmup | None = None,
    ) -> None:
        self.settings = settings
        self.verifier = verifier
        self.directory = directory
        self.stripe = stripe
        self.billing = billing
        self.boot = boot or BootWarmup({})
        self.checkout = Checkout(settings, directory=directory, stripe=stripe, billing=billing)
        self.plans = PlanCatalog(settings.checkout_prices, stripe)

    def __call__(self, request: flask.Request) -> flask.Response:
        """Handle one request; never raises."""
        started = time.perf_counter()
        log: dict[str, Any] = {}
        headers: dict[str, str] = {"Vary": "Origin"}
        try:
            headers = cors_headers(request.headers.get("Origin"), self.settings.allowed_origins)
            response = self._handle(request, headers, log)
        except ApiError as error:
            log["code"] = error.code
            response = error_response(error, headers)
        except Exception as error:  # a bug: log it, tell the caller nothing about it
            log["code"] = "internal"
            logs.emit_exception("Unhandled error in create_portal_session", error)
            response = json_response(
                500,
                {"error": {"code": "internal", "message": "Unexpected error; try again later."}},
                headers,
            )
        self._log(request, response.status_code, time.perf_counter() - started, log)
        return response

    def _handle(
        self, request: flask.Request, headers: dict[str, str], log: dict[str, Any]
    ) -> flask.Response:
        if request.method == "OPTIONS":
            preflight = preflight_headers(
                request.headers.get("Origin"), self.settings.allowed_origins
            )
            return flask.Response(status=204, headers=preflight)
        if request.path == "/plans":
            return self._plans(request, headers)
        if request.path == "/checkout":
            return self._checkout(request, headers, log)
        if request.method == "GET":
            caller = self.verifier.verify(request.headers.get("Authorization"))
            log["user"] = logs.user_ref(caller.uid)
            returned = request.args.getlist(RETURN_PARAMETER)
            if returned:
                if len(returned) > 1:
                    raise BadRequest("Send one checkout_session.", code="invalid_checkout_session")
                self.boot.wait()
                state = self.checkout.returned(caller, returned[0])
            else:
                state = caller_state(caller, self.directory, self.billing)
            return json_response(200, state, headers)
        if request.method != "POST":
            raise MethodNotAllowed(
                "Use POST to open a billing portal session, GET to read your billing state.",
                headers={"Allow": "GET, POST, OPTIONS"},
            )
        body = _read_body(request)
        caller = self.verifier.verify(request.headers.get("Authorization"))
        log["user"] = logs.user_ref(caller.uid)
        portal_request = parse_body(request.headers.get("Content-Type"), body)
        self.boot.wait()  # a new instance: use the connections the warm-up is opening (bounded)
        url = open_portal(
            caller,
            portal_request,
            settings=self.settings,
            directory=self.directory,
            stripe=self.stripe,
            billing=self.billing,
        )
        return json_response(200, {"url": url}, headers)

    def _checkout(
        self, request: flask.Request, headers: dict[str, str], log: dict[str, Any]
    ) -> flask.Response:
        """`POST /checkout`: the same token, body limits and JSON errors as the portal's POST."""
        if request.method != "POST":
            raise MethodNotAllowed(
                "Use POST to start a Checkout Session.", headers={"Allow": "POST, OPTIONS"}
            )
        body = _read_body(request)
        caller = self.verifier.verify(request.headers.get("Authorization"))
        log["user"] = logs.user_ref(caller.uid)
        checkout_request = parse_checkout_body(request.headers.get("Content-Type"), body)
        self.boot.wait()
        return json_response(200, self.checkout.start(caller, checkout_request), headers)

    def _plans(self, request: flask.Request, headers: dict[str, str]) -> flask.Response:
        """`GET /plans`: public (no token read; plans.py says why), CORS as every route."""
        if request.method != "GET":
            raise MethodNotAllowed("Use GET to read the plans.", headers={"Allow": "GET, OPTIONS"})
        self.boot.wait()
        return json_response(200, {"plans": self.plans.plans()}, headers)

    def _log(
        self, request: flask.Request, status: int, seconds: float, fields: dict[str, Any]
    ) -> None:
        logs.emit(
            logs.request_entry(
                request,
                status,
                seconds,
                "portal session",
                self.settings.google_cloud_project,
                fields,
            )
        )


def framework_error_response(error: HTTPException) -> flask.Response:
    """JSON for errors raised by the web framework itself (e.g. its 404 for /favicon.ico).

    Registered on the functions-framework app in main.py so that no response is ever HTML.
    """
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_") if status < 500 else "internal"
    message = error.description if status < 500 else "Unexpected error; try again later."
    return json_response(status, {"error": {"code": code, "message": message}}, {})


# The most of a request body read after the response: at least every entry point's own limit
# (16 KiB here, an event's 512 KiB), so the bodies they accept are always read to their end.
MAX_FINISHED_BODY_BYTES = 1024 * 1024


def finish_request_body(response: flask.Response) -> flask.Response:
    """Read what is left of a body no larger than `MAX_FINISHED_BODY_BYTES`; leave a larger one.

    functions-framework's stand-in (main.py puts it in place of the framework's `read_request`).
    The framework reads every request body to its end after the response, so that a client still
    sending is not cut off — the whole declared body, into memory, however large, and before the
    response leaves: a 30 MiB body without a token cost an instance 70 MB and held its 413 until
    the last byte. The rest of a larger body is the server's to drop (gunicorn discards it or
    closes the connection), as is a client that hung up mid-body: it waits for no answer.
    """
    length = flask.request.content_length
    if response.is_streamed or length is None or length > MAX_FINISHED_BODY_BYTES:
        return response
    with contextlib.suppress(ClientDisconnected):  # the client is gone: nothing to protect
        flask.request.get_data()  # at most `length` bytes
    return response


def _read_body(request: flask.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    # Read one byte past the limit at most: a chunked body without a length cannot exhaust memory.
    return request.stream.read(MAX_BODY_BYTES + 1)
