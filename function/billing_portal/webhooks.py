"""The `stripe_webhook` entry point: a signed Stripe event in, the user's billing state written.

verify the signature (SDK, 300 s tolerance both ways) → the envelope's shape (events.py) → mode
→ type → that type's handler (webhook_handlers.py: the object's shape → customer → user, the
customer's `metadata.app_user_id` → that user's mapping must name this customer → rebuild the
user's state from the mapping and Stripe's current subscriptions, `BillingState.sync`) → 200.

Nothing is read or written before the signature and the event's shape are checked: a signed
event whose shape is not Stripe's is `400 invalid_event`, logged once at WARNING (the request's
line). 200 means the state is written (or the event is one this deployment ignores, with the
reason in the body and the log); a failure to read or write is a 5xx, so that Stripe delivers
the event again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import flask
import stripe

from . import logs
from .billing_state import BillingState
from .customers import CustomerDirectory
from .errors import ApiError, BadRequest, MethodNotAllowed, PayloadTooLarge
from .events import InvalidEvent, parse_event
from .lru import LruCache
from .responses import error_response, json_response
from .settings import Settings
from .stripe_api import StripeGateway
from .webhook_handlers import HANDLERS, Delivery, Handler, Ignored

SIGNATURE_TOLERANCE_SECONDS = 300
# Stripe's events are small; the largest it documents stay well under this.
MAX_EVENT_BYTES = 512 * 1024
# customer id → the user it was created for (`metadata.app_user_id`), per instance. Set once by
# the function when it creates the customer; a later edit cannot make an event reach another
# user's state, because that user's mapping must also name the customer.
_CUSTOMER_CACHE_SIZE = 10_000


def verify_event(
    payload: bytes, header: str | None, secret: str, now: float | None = None
) -> dict[str, Any]:
    """The event, if `header` is a valid Stripe signature of `payload` made within 300 s of
    `now` (either way) and the event's envelope is Stripe's; else `BadRequest`.

    One of several `v1` signatures is enough (Stripe signs with the old and the new secret
    while a secret is being rolled). The SDK refuses only timestamps in the past; one from the
    future would let a captured delivery be replayed for as long as it lies ahead.
    """
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, header, secret, SIGNATURE_TOLERANCE_SECONDS)
        timestamp = signature_timestamp(header or "")
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        raise _invalid_signature() from None
    now = time.time() if now is None else now
    # Compared, not subtracted: an int too large for a float cannot overflow a comparison.
    if not now - SIGNATURE_TOLERANCE_SECONDS <= timestamp <= now + SIGNATURE_TOLERANCE_SECONDS:
        raise _invalid_signature()
    return parse_event(text)


def signature_timestamp(header: str) -> int:
    """The `t=` of a `Stripe-Signature` header, read exactly as the SDK reads the one it signed
    over (the first `t` item; `ValueError` if there is none). Pure, linear in the header."""
    for item in header.split(","):
        parts = item.split("=", 2)
        if parts[0] == "t" and len(parts) > 1:
            return int(parts[1])
    raise ValueError("no t= in the signature header")


def _invalid_signature() -> BadRequest:
    return BadRequest(
        "The Stripe-Signature header is missing, malformed, stale or does not match.",
        code="invalid_signature",
    )


class WebhookApp:
    """The webhook function: one per instance, built at cold start."""

    def __init__(
        self,
        settings: Settings,
        *,
        directory: CustomerDirectory,
        billing: BillingState,
        stripe_gateway: StripeGateway,
        handlers: Mapping[str, Handler] = HANDLERS,
    ) -> None:
        assert settings.stripe_webhook_secret, "load_settings requires it for this entry point"
        self.settings = settings
        self._secret = settings.stripe_webhook_secret
        self.directory = directory
        self.billing = billing
        self.stripe = stripe_gateway
        self.handlers = handlers  # event type → its handler (webhook_handlers.HANDLERS)
        self._users: LruCache[str, str] = LruCache(_CUSTOMER_CACHE_SIZE)

    def __call__(self, request: flask.Request) -> flask.Response:
        """Handle one delivery; never raises."""
        started = time.perf_counter()
        log: dict[str, Any] = {}
        try:
            body = self._handle(request, log)
            response = json_response(200, body, {})
        except ApiError as error:
            log["code"] = error.code
            if isinstance(error, InvalidEvent):
                log["reason"] = error.message  # which part is not Stripe's: fixed text, no data
            response = error_response(error, {})
        except Exception as error:  # a bug: Stripe retries; nothing about it in the answer
            log["code"] = "internal"
            logs.emit_exception("Unhandled error in stripe_webhook", error)
            response = json_response(
                500, {"error": {"code": "internal", "message": "Unexpected error."}}, {}
            )
        self._log(request, response.status_code, time.perf_counter() - started, log)
        return response

    def _handle(self, request: flask.Request, log: dict[str, Any]) -> dict[str, Any]:
        if request.method != "POST":
            raise MethodNotAllowed("Stripe POSTs events here.", headers={"Allow": "POST"})
        if request.content_length is not None and request.content_length > MAX_EVENT_BYTES:
            raise PayloadTooLarge(f"An event is at most {MAX_EVENT_BYTES} bytes here.")
        payload = request.stream.read(MAX_EVENT_BYTES + 1)
        if len(payload) > MAX_EVENT_BYTES:
            raise PayloadTooLarge(f"An event is at most {MAX_EVENT_BYTES} bytes here.")
        event = verify_event(payload, request.headers.get("Stripe-Signature"), self._secret)
        log["event"] = {"id": str(event.get("id")), "type": event["type"]}
        if event.get("livemode") is not self.settings.livemode:
            raise BadRequest(
                f"This endpoint serves {self.settings.mode} mode; the event is of the other.",
                code="mode_mismatch",
            )
        try:
            self._apply(event, log)
        except Ignored as ignored:
            log["ignored"] = ignored.reason
            return {"received": True, "ignored": ignored.reason}
        return {"received": True}

    def _apply(self, event: dict[str, Any], log: dict[str, Any]) -> None:
        """Run the event type's handler (its row in `handlers`); a type without one is ignored."""
        handler = self.handlers.get(event["type"])
        if handler is None:
            raise Ignored("unhandled_type")
        delivery = Delivery(
            livemode=self.settings.livemode,
            directory=self.directory,
            billing=self.billing,
            stripe=self.stripe,
            users=self._users,
            log=log,
        )
        handler(delivery, event)

    def _log(
        self, request: flask.Request, status: int, seconds: float, fields: dict[str, Any]
    ) -> None:
        # a customer of another deployment (or app) on this account is worth a look
        unknown = fields.get("ignored") == "unknown_customer" and status < 500
        entry = logs.request_entry(
            request,
            status,
            seconds,
            "stripe webhook",
            self.settings.google_cloud_project,
            fields,
            severity="WARNING" if unknown else None,
        )
        logs.emit(entry)
