"""Where the stand-in's objects meet Stripe's shapes: expand-only fields, and known differences.

Stripe's published example of each object (`schema/stripe-fixtures.json`, from stripe/openapi's
`fixtures3.json`) is the authority on what a response holds; the conformance test
(tests/local/stripe/test_conformance.py) holds every object the stand-in returns against it.

- `INCLUDABLE`: fields Stripe leaves out of an object unless the request expands them
  (`expand[]=features.subscription_update.products`; `data.…` for a list's items). `render`
  takes them out of a response that did not ask for them, so the stand-in answers as Stripe does.
- `KNOWN_DIFFERENCES`: the one list of places where the stand-in knowingly does not answer as
  Stripe's example, each with its reason. The conformance test allows these and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from local.stripe.core.errors import StripeError

# Fields returned only when expanded, per object type (paths from the object).
INCLUDABLE: dict[str, tuple[str, ...]] = {
    # Stripe's example has no `products`; the Terraform provider pulumi-stripe bridges added this
    # expand because without it it "has no visibility" of them.
    "billing_portal.configuration": ("features.subscription_update.products",),
}

# (object type, path, kind) → why the stand-in differs there. Kinds as the conformance test names
# them: `extra` (the stand-in has a field Stripe's example lacks), `missing` (the other way).
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("billing_portal.configuration", "features.subscription_pause", "extra"): (
        "Stripe's example of the configuration has no subscription_pause, but Stripe's API has it "
        "(stripe 16.1.0 types Configuration.Features.SubscriptionPause as always present, and "
        "accepts features[subscription_pause] on create and update) and the stack sets it "
        "(PortalFields, review drift). Kept until a real test-mode configuration shows otherwise "
        "(docs/deploy.md, 'Verified only against the local stand-in')."
    ),
    ("customer", "shipping.address", "extra"): (
        "Stripe's example has `shipping: {}`; a customer's shipping, once set, has address, name "
        "and phone (Stripe's API reference; stripe 16.1.0's Customer.Shipping)."
    ),
    ("customer", "shipping.name", "extra"): "as shipping.address",
    ("customer", "shipping.phone", "extra"): "as shipping.address",
    ("webhook_endpoint", "secret", "extra"): (
        "Stripe returns the signing secret in the answer to the create only (Stripe's API "
        "reference); Stripe's example is a retrieved endpoint. The stand-in does the same: "
        "retrieve, list and update leave it out."
    ),
    ("event", "data.previous_attributes", "extra"): (
        "Stripe sends the changed fields' previous values on `*.updated` events only; Stripe's "
        "example is a `plan.created` event."
    ),
}


def expand_paths(params: dict[str, Any]) -> list[str]:
    """The request's `expand` paths, however they were encoded (`expand[]=`, `expand[0]=`)."""
    value = params.get("expand")
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(path, str) for path in value):
        raise StripeError(400, "Invalid array", param="expand")
    return list(value)


def check_expand(paths: Iterable[str], allowed: Iterable[str]) -> None:
    """Refuse an expansion the stand-in cannot make, rather than silently not making it."""
    allowed = set(allowed)
    for path in paths:
        if path not in allowed:
            raise StripeError(
                400,
                f"The Stripe stand-in does not expand {path} here; it expands only "
                f"{', '.join(sorted(allowed)) or 'nothing'} on this endpoint.",
                param="expand",
                idempotent_result=False,
            )


def render(payload: Any, expand: Iterable[str]) -> Any:
    """The response as Stripe sends it: includable fields left out unless expanded (in place)."""
    wanted = set(expand)
    if isinstance(payload, dict) and payload.get("object") == "list":
        inner = {path.removeprefix("data.") for path in wanted if path.startswith("data.")}
        for item in payload.get("data") or []:
            render(item, inner)
        return payload
    if isinstance(payload, dict):
        for path in INCLUDABLE.get(str(payload.get("object")), ()):
            if path not in wanted:
                _remove(payload, path.split("."))
    return payload


def _remove(target: dict[str, Any], keys: list[str]) -> None:
    for key in keys[:-1]:
        target = target.get(key)  # type: ignore[assignment]
        if not isinstance(target, dict):
            return
    target.pop(keys[-1], None)
