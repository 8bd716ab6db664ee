"""A signed event's shape: the parts of it the webhook reads, checked before any is used. Pure.

A valid signature says who sent the bytes, not that they are shaped as Stripe shapes events:
only Stripe or a holder of the endpoint's secret can send them, but a 5xx for an event the
webhook cannot read makes Stripe redeliver it for days, each time with a traceback. So the rule
(docs/how-it-works.md, "The webhook"), checked in this order:

1. The envelope, for every event: a JSON object nesting at most `MAX_EVENT_DEPTH` levels (scanned
   linearly before it is parsed), with `id` and `type` strings of 1 to 255 characters, a boolean
   `livemode` and `data.object` an object. Otherwise `400 invalid_event`.
2. (webhooks.py: the mode, then the type — a type the deployment does not handle is `200`
   ignored, whatever its object.)
3. The object of a handled type: a `customer.subscription.*` event's is a subscription whose
   `customer` is a customer id (or an expanded customer with one); `customer.deleted`'s is a
   customer with a customer id and, if it has `metadata`, an object whose `app_user_id` is a
   string; `checkout.session.completed`'s is a checkout session whose `customer` is a customer
   id or null; an `entitlements.active_entitlement_summary.updated` event's is a summary whose
   `customer` is a customer id (its entitlements are never read: the state lists them from
   Stripe). Otherwise `400 invalid_event`.

Nothing is read or written before all of it holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest
from .jsonscan import json_too_deep

# Stripe's events nest about 10 levels (an event → its subscription → items → an item → its
# price → recurring); far deeper is not Stripe's, and `json.loads` recursion past the
# interpreter's limit is a RecursionError.
MAX_EVENT_DEPTH = 64
MAX_ID_LENGTH = 255  # Stripe's ids and type names are far shorter
MAX_METADATA_VALUE = 500  # Stripe's limit for a metadata value
_CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,250}")  # with fullmatch: `$` would allow a final \n


class InvalidEvent(BadRequest):
    """A signed event whose shape is not Stripe's (400: Stripe retries it like any non-2xx, and
    each retry costs one WARNING line, no traceback, nothing read or written)."""

    code = "invalid_event"


@dataclass(frozen=True)
class Subject:
    """What a handled event is about: its customer and, for `customer.deleted`, the user the
    customer's own metadata names (None when it names none)."""

    customer_id: str
    user: str | None = None


def parse_event(text: str) -> dict[str, Any]:
    """The event `text` holds, if its envelope is Stripe's (rule 1); else `InvalidEvent`."""
    if json_too_deep(text, MAX_EVENT_DEPTH):
        raise InvalidEvent(f"The event nests JSON deeper than {MAX_EVENT_DEPTH} levels.")
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a backstop behind the depth scan
        raise InvalidEvent("The event is not JSON.") from None
    if not isinstance(event, dict):
        raise InvalidEvent("The event is not a JSON object.")
    for field in ("id", "type"):
        value = event.get(field)
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH:
            raise InvalidEvent(f"The event's {field} must be 1 to {MAX_ID_LENGTH} characters.")
    if not isinstance(event.get("livemode"), bool):
        raise InvalidEvent("The event's livemode must be true or false.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise InvalidEvent("The event's data.object must be an object.")
    return event


SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"
SUMMARY_OBJECT = "entitlements.active_entitlement_summary"


def object_kind(event_type: str) -> str | None:
    """The `object` a handled type's `data.object` is: `customer.subscription.*` → subscription,
    any other `customer.*` → customer, `checkout.session.*` → checkout.session, the entitlement
    summary event → its summary; None for a type of none of these."""
    if event_type == SUMMARY_EVENT:
        return SUMMARY_OBJECT
    if event_type.startswith("customer.subscription."):
        return "subscription"
    if event_type.startswith("customer."):
        return "customer"
    if event_type.startswith("checkout.session."):
        return "checkout.session"
    return None


def checkout_customer(event: dict[str, Any]) -> str | None:
    """The customer of a `checkout.session.*` event's session (rule 3: its `customer` is a
    customer id, expanded or not, or null — a session that made no customer, which is no
    user's); `InvalidEvent` otherwise."""
    kind = event["type"]
    obj: dict[str, Any] = event["data"]["object"]
    if object_kind(kind) != "checkout.session" or obj.get("object") != "checkout.session":
        raise InvalidEvent(f"The data.object of a {kind} event must be a checkout.session.")
    customer = obj.get("customer")
    if isinstance(customer, dict):  # expanded
        customer = customer.get("id")
    if customer is None:
        return None
    return _customer_id(customer, "data.object.customer")


def event_subject(event: dict[str, Any]) -> Subject:
    """The customer a handled event (as `parse_event` returned it) is about (rule 3)."""
    kind = event["type"]
    obj: dict[str, Any] = event["data"]["object"]
    expected = object_kind(kind)
    if (
        expected not in ("subscription", "customer", SUMMARY_OBJECT)
        or obj.get("object") != expected
    ):
        raise InvalidEvent(f"The data.object of a {kind} event must be a {expected or 'known'}.")
    if expected == SUMMARY_OBJECT:
        return Subject(_customer_id(obj.get("customer"), "data.object.customer"))
    if expected == "subscription":
        customer = obj.get("customer")
        if isinstance(customer, dict):  # expanded
            customer = customer.get("id")
        return Subject(_customer_id(customer, "data.object.customer"))
    subject = Subject(_customer_id(obj.get("id"), "data.object.id"))
    if kind != "customer.deleted":
        return subject
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InvalidEvent("The customer's metadata must be an object.")
    user = metadata.get("app_user_id")
    if user is not None and (not isinstance(user, str) or len(user) > MAX_METADATA_VALUE):
        raise InvalidEvent(
            f"metadata.app_user_id must be a string of at most {MAX_METADATA_VALUE}."
        )
    return Subject(subject.customer_id, user or None)


def _customer_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _CUSTOMER_ID.fullmatch(value):
        raise InvalidEvent(f"{field} must be a Stripe customer id (cus_…).")
    return value
