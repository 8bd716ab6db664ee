"""Stripe's published object examples, trimmed to what the stand-in returns: the repo's copy.

Stripe publishes an example of every API object in its OpenAPI repository (stripe/openapi,
`openapi/fixtures3.json`, MIT licence). The stand-in's conformance test
(tests/local/stripe/test_conformance.py) holds each object the stand-in returns against these
examples, so the stand-in answers in Stripe's shapes, not in our reading of the SDK. Tests never
read the upstream file; this tool copies what they need into the repository:

    .venv/bin/python -m tools.stripe_fixtures /path/to/fixtures3.json \\
        --commit f6c2a48f --date 2026-08-21

writes `schema/stripe-fixtures.json` with

- `source`: where the examples came from (repository, path, commit, date, licence file);
- `resources`: the examples of the object types in `RESOURCES`, unchanged;
- `list`: Stripe's list envelope, as the examples nest one (`LIST_FROM`), with no items;
- `expandable`: per object type, the fields Stripe returns as an id unless the request expands
  them, read from the type annotations of the installed stripe SDK (the project's pinned
  16.1.0; `ExpandableField[…]` there is `Union[str, <object>]`); `[]` marks a list's items;
- `error_fields`: the fields an error body's `error` object may have (the SDK's `ErrorObject`;
  the examples have no error), and `error_types`, the values of its `type`.

and the MIT licence beside it (`schema/stripe-fixtures.LICENSE`, copied from the licence file
next to the upstream file). Running it again on the same inputs gives the same bytes.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import typing
from pathlib import Path
from typing import Any

import stripe
from stripe._list_object import ListObject

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "schema" / "stripe-fixtures.json"
LICENSE_OUTPUT = REPO / "schema" / "stripe-fixtures.LICENSE"
UPSTREAM = {"repository": "https://github.com/stripe/openapi", "path": "openapi/fixtures3.json"}

# The object types the stand-in returns (a deleted object is Stripe's `deleted_…` stub), and the
# stripe SDK class each is typed by (for the expandable fields).
RESOURCES: dict[str, str | None] = {
    "account": "Account",
    "billing_portal.configuration": "billing_portal.Configuration",
    "billing_portal.session": "billing_portal.Session",
    "checkout.session": "checkout.Session",
    "customer": "Customer",
    "deleted_customer": None,
    "deleted_product_feature": None,
    "deleted_webhook_endpoint": None,
    "entitlements.active_entitlement": "entitlements.ActiveEntitlement",
    "entitlements.active_entitlement_summary": "entitlements.ActiveEntitlementSummary",
    "entitlements.feature": "entitlements.Feature",
    "event": "Event",
    "file": "File",
    "price": "Price",
    "product": "Product",
    "product_feature": "ProductFeature",
    "subscription": "Subscription",
    "subscription_item": "SubscriptionItem",
    "webhook_endpoint": "WebhookEndpoint",
}
# The list envelope: the examples have no list object of their own, only nested ones.
LIST_FROM = ("subscription", "items")


def _sdk_class(name: str) -> type:
    target: Any = stripe
    for part in name.split("."):
        target = getattr(target, part)
    return typing.cast(type, target)


def _is_expandable(annotation: Any) -> bool:
    """`Union[str, "Customer"]` (optionally with None): an id, or the object when expanded."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not typing.Union or str not in args:
        return False
    return any(isinstance(arg, typing.ForwardRef) for arg in args)


def _embedded(annotation: Any) -> type | None:
    """The SDK class of a field that is another API object, embedded whole (`price: "Price"`)."""
    name = annotation.__forward_arg__ if isinstance(annotation, typing.ForwardRef) else annotation
    found = getattr(stripe, name, None) if isinstance(name, str) else name
    if isinstance(found, type) and issubclass(found, stripe.StripeObject):
        return found
    return None


def expandable_paths(cls: type, prefix: str = "", seen: frozenset[type] = frozenset()) -> list[str]:
    """The dotted paths of `cls`'s expandable fields, nested objects and list items included."""
    if cls in seen:
        return []
    seen = seen | {cls}
    inner = getattr(cls, "_inner_class_types", {})
    found: list[str] = []
    for name, annotation in inspect.get_annotations(cls).items():
        if name.isupper():
            continue
        path = f"{prefix}{name}"
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Union and type(None) in args and len(args) == 2:
            annotation = next(arg for arg in args if arg is not type(None))
            origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if _is_expandable(annotation):
            found.append(path)
        elif origin is list and args and _is_expandable(args[0]):
            found.append(f"{path}[]")
        elif origin is ListObject and args and isinstance(args[0], typing.ForwardRef):
            item = getattr(stripe, args[0].__forward_arg__, None)
            if isinstance(item, type):
                found += expandable_paths(item, f"{path}.data[].", seen)
        elif name in inner:
            suffix = "[]." if origin is list else "."
            found += expandable_paths(inner[name], f"{path}{suffix}", seen)
        elif _embedded(annotation) is not None:  # an object always embedded (never an id)
            found += expandable_paths(_embedded(annotation), f"{path}.", seen)
    return sorted(found)


def error_fields() -> list[str]:
    """The fields of an error body's `error` (the SDK's `ErrorObject`), minus the SDK's own
    `user_message` (a copy of `message` it makes; Stripe does not send it)."""
    names = inspect.get_annotations(stripe.ErrorObject)
    return sorted(name for name in names if not name.isupper() and name != "user_message")


def trimmed(fixtures: dict[str, Any], commit: str, date: str) -> dict[str, Any]:
    """The repository's copy: the needed examples, the list envelope and the SDK-derived facts."""
    resources = fixtures["resources"]
    missing = sorted(set(RESOURCES) - set(resources))
    if missing:
        raise SystemExit(f"the fixtures have no {', '.join(missing)}")
    owner, field = LIST_FROM
    envelope = {**resources[owner][field], "data": []}
    return {
        "source": {
            **UPSTREAM,
            "commit": commit,
            "date": date,
            "license": "MIT, see stripe-fixtures.LICENSE",
            "stripe_python": stripe.VERSION,
            "made_by": "python -m tools.stripe_fixtures",
        },
        "resources": {name: resources[name] for name in sorted(RESOURCES)},
        "list": envelope,
        "expandable": {
            name: expandable_paths(_sdk_class(sdk))
            for name, sdk in sorted(RESOURCES.items())
            if sdk is not None
        },
        "error_fields": error_fields(),
        "error_types": ["api_error", "card_error", "idempotency_error", "invalid_request_error"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path, help="stripe/openapi's openapi/fixtures3.json")
    parser.add_argument("--commit", required=True, help="the stripe/openapi commit it is from")
    parser.add_argument("--date", required=True, help="that commit's date (YYYY-MM-DD)")
    parser.add_argument(
        "--license",
        type=Path,
        help="the MIT licence text (default: fixtures3.LICENSE beside the fixtures file)",
    )
    args = parser.parse_args(argv)
    fixtures = json.loads(args.fixtures.read_text(encoding="utf-8"))
    licence = args.license or args.fixtures.with_suffix(".LICENSE")
    document = trimmed(fixtures, args.commit, args.date)
    OUTPUT.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    LICENSE_OUTPUT.write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO)} and {LICENSE_OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
