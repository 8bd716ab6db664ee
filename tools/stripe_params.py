"""Flatten the stripe SDK's typed request parameters into schema/billing-portal-api.json rows.

The schema's `requests` rows come from the `TypedDict` parameter classes the stripe Python
package ships (`stripe.params`), one row per dotted parameter path: `p` path (`[]` marks a list
item), `t` type, `req` required within its parent, `enum` allowed values. This module is how the
rows of an endpoint are produced and checked (tests/stackspec/test_schema_rows.py compares the
committed rows with what the installed SDK gives):

    .venv/bin/python -m tools.stripe_params ProductCreateParams            # print the rows
    .venv/bin/python -m tools.stripe_params AccountUpdateParams settings.branding   # a subtree
    .venv/bin/python -m tools.stripe_params --write    # rewrite the schema's rows of ENDPOINTS

Types: `str`, `int`, `float`, `decimal`, `bool`, `file` (an uploaded file), `enum` (closed
Literal), `enum(open)` (Literal or any string), `object` (a nested TypedDict),
`map|UntypedStripeObject` (a hash of strings such as metadata; `map<object>|…` a hash of
objects), `list<…>`; alternatives joined by `|`, `''|…` when an empty string (unset) is
accepted.
"""

from __future__ import annotations

import decimal
import importlib
import json
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

from stripe._request_options import RequestOptions
from stripe._stripe_context import StripeContext
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

from stackspec.schema import SCHEMA_PATH

_OPTION_KEYS = frozenset(RequestOptions.__annotations__)  # api_key, stripe_account, …

# Every endpoint in the schema's `requests`: the SDK class its rows come from, and the subtree
# of it the project uses (None: all of it).
ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "POST /v1/billing_portal/configurations": ("billing_portal.ConfigurationCreateParams", None),
    "POST /v1/billing_portal/configurations/{configuration}": (
        "billing_portal.ConfigurationUpdateParams",
        None,
    ),
    "POST /v1/billing_portal/sessions": ("billing_portal.SessionCreateParams", None),
    "POST /v1/checkout/sessions": ("checkout.SessionCreateParams", None),
    "POST /v1/checkout/sessions/{session}/expire": ("checkout.SessionExpireParams", None),
    "POST /v1/customers": ("CustomerCreateParams", None),
    "POST /v1/products": ("ProductCreateParams", None),
    "POST /v1/products/{product}/features": ("ProductFeatureCreateParams", None),
    "POST /v1/entitlements/features": ("entitlements.FeatureCreateParams", None),
    "POST /v1/prices": ("PriceCreateParams", None),
    "POST /v1/files": ("FileCreateParams", None),
    "POST /v1/subscriptions": ("SubscriptionCreateParams", None),
    "POST /v1/subscriptions/{subscription_exposed_id}": ("SubscriptionUpdateParams", None),
    "DELETE /v1/subscriptions/{subscription_exposed_id}": ("SubscriptionCancelParams", None),
    "POST /v1/webhook_endpoints": ("WebhookEndpointCreateParams", None),
    "POST /v1/webhook_endpoints/{webhook_endpoint}": ("WebhookEndpointUpdateParams", None),
    "POST /v1/accounts/{account}": ("AccountUpdateParams", "settings.branding"),
}


def params_class(name: str) -> type:
    """A parameter class of the installed SDK by name: `ProductCreateParams`, or with its
    sub-package, `billing_portal.ConfigurationCreateParams`."""
    package, _, class_name = name.rpartition(".")
    module = importlib.import_module("stripe.params" + (f".{package}" if package else ""))
    found = getattr(module, class_name, None)
    if found is None or not is_typeddict(found):
        raise LookupError(f"stripe.params has no parameter class {name!r}")
    return found


def rows_of(cls: type, prefix: str = "") -> list[dict[str, Any]]:
    """Every parameter row of a parameter class, depth first, keys in sorted order."""
    # RequestOptions (inherited by every top-level class) imports these only for type checking.
    hints = typing.get_type_hints(cls, localns={"StripeContext": StripeContext, "Mapping": Mapping})
    required = getattr(cls, "__required_keys__", frozenset())
    rows: list[dict[str, Any]] = []
    for key in sorted(hints):
        if not prefix and key in _OPTION_KEYS:
            continue  # request options (api_key, stripe_account, …) are headers, not params
        path = f"{prefix}.{key}" if prefix else key
        type_text, enum, child = _describe(hints[key])
        row: dict[str, Any] = {"p": path, "t": type_text, "req": key in required}
        if enum:
            row["enum"] = enum
        rows.append(row)
        if child is not None:
            rows += rows_of(child, path + ("[]" if type_text.endswith("list<object>") else ""))
    return rows


def endpoint_rows(endpoint: str) -> list[dict[str, Any]]:
    """The rows of one schema endpoint, as the installed SDK gives them."""
    class_name, path = ENDPOINTS[endpoint]
    rows = rows_of(params_class(class_name))
    return subtree(rows, path) if path else rows


def write_schema(path: Path = SCHEMA_PATH) -> None:
    """Rewrite the schema file's `requests` rows of every endpoint in ENDPOINTS."""
    document = json.loads(path.read_text(encoding="utf-8"))
    for endpoint in ENDPOINTS:
        document["requests"][endpoint] = endpoint_rows(endpoint)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")


def subtree(rows: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """The rows of `path`, its parents and its descendants (an endpoint narrowed to a subtree)."""
    parents = {".".join(path.split(".")[:depth]) for depth in range(1, path.count(".") + 1)}
    return [
        row
        for row in rows
        if row["p"] in parents or row["p"] == path or row["p"].startswith(path + ".")
    ]


def _describe(hint: Any) -> tuple[str, list[str], type | None]:
    """(type text, enum values, nested TypedDict) of one annotation."""
    options = _union_members(hint)
    empty_ok = False
    literal_values: list[str] = []
    open_string = False
    kinds: list[str] = []
    child: type | None = None
    for option in options:
        origin = typing.get_origin(option)
        if origin is Literal:
            values = [value for value in typing.get_args(option) if value != ""]
            empty_ok = empty_ok or "" in typing.get_args(option)
            literal_values += [str(value) for value in values]
        elif option is str:
            open_string = True
        else:
            kind, item_enum, child_of = _kind(option)
            kinds.append(kind)
            literal_values += item_enum  # a list of enum values carries its items' values
            child = child or child_of
    enum = sorted(dict.fromkeys(literal_values))
    if enum and not any(kind.startswith("list<") for kind in kinds):
        kinds.insert(0, "enum(open)" if open_string else "enum")
    elif open_string:
        kinds.insert(0, "str")
    text = "|".join((["''"] if empty_ok else []) + kinds)
    return text, enum, child


def _kind(option: Any) -> tuple[str, list[str], type | None]:
    """(type text, enum values of list items, nested TypedDict) of one non-Literal member."""
    origin = typing.get_origin(option)
    simple = {int: "int", float: "float", bool: "bool", decimal.Decimal: "decimal", Any: "file"}
    if option in simple:
        return simple[option], [], None
    if is_typeddict(option):
        return "object", [], option
    if origin is list:
        item_text, enum, child = _describe(typing.get_args(option)[0])
        return f"list<{item_text}>", enum, child
    if origin is dict or origin is UntypedStripeObject or option is UntypedStripeObject:
        # A hash of strings (metadata) or of objects (currency_options): the latter's values
        # are not described further; the stand-in accepts any hash there.
        args = typing.get_args(option)
        values = "" if not args or args[-1] is str else "<object>"
        return ("map" if origin is dict else "UntypedStripeObject") + values, [], None
    raise ValueError(f"no schema type for {option!r}")


def _union_members(hint: Any) -> list[Any]:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return list(typing.get_args(hint))
    return [hint]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_schema()
    elif len(sys.argv) in (2, 3):
        found = rows_of(params_class(sys.argv[1]))
        for row in subtree(found, sys.argv[2]) if len(sys.argv) == 3 else found:
            print(json.dumps(row))
    else:
        sys.exit(__doc__)
