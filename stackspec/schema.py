"""Stripe's request-parameter schema for the portal endpoints, loaded once from the repo copy.

`schema/billing-portal-api.json` is a flattened copy of the stripe Python SDK's typed request
parameters (one row per dotted parameter path, `[]` marking list items). Settings validation takes
its enum values from here, so an allowed value is whatever Stripe's current API accepts, and the
tests check that every parameter the portal spec can produce is a real parameter.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "billing-portal-api.json"

CREATE_CONFIGURATION = "POST /v1/billing_portal/configurations"
UPDATE_CONFIGURATION = "POST /v1/billing_portal/configurations/{configuration}"
CONFIGURATION_OBJECT = "billing_portal.configuration"


@functools.cache
def document() -> dict[str, Any]:
    """The whole schema file, read once per process (everyone reads it through here)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def api_version() -> str:
    """The Stripe API version the schema copy describes."""
    version: str = document()["api_version"]
    return version


def _rows(endpoint: str) -> dict[str, dict[str, Any]]:
    try:
        rows = document()["requests"][endpoint]
    except KeyError:
        raise KeyError(f"endpoint {endpoint!r} is not in {SCHEMA_PATH.name}") from None
    return {row["p"]: row for row in rows}


def request_rows(endpoint: str) -> dict[str, dict[str, Any]]:
    """An endpoint's parameter rows by path (`p`), each with its type, enum and required flag."""
    return _rows(endpoint)


def request_paths(endpoint: str = CREATE_CONFIGURATION) -> frozenset[str]:
    """Every parameter path an endpoint accepts, like `features.subscription_update.enabled`."""
    return frozenset(_rows(endpoint))


def enum_values(path: str, endpoint: str = CREATE_CONFIGURATION) -> tuple[str, ...]:
    """The allowed values of an enum parameter (or of a list-of-enum parameter's items)."""
    row = _rows(endpoint).get(path)
    if row is None or not row.get("enum"):
        raise KeyError(f"{path!r} is not an enum parameter of {endpoint}")
    return tuple(row["enum"])


def response_fields(object_name: str = CONFIGURATION_OBJECT) -> dict[str, dict[str, Any]]:
    """Every field path of an object the API returns (`features.customer_update.enabled`), with
    its schema row (`t` type, `null` when it may be null, `enum`), in the schema's order."""
    try:
        rows = document()["responses"][object_name]
    except KeyError:
        raise KeyError(f"object {object_name!r} is not in {SCHEMA_PATH.name}") from None
    return {row["p"]: row for row in rows}


def parameter_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every parameter path in request parameters, list items of objects written `[]` as in the
    schema's rows (`features.subscription_update.products[].prices`)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            if prefix == "" and key == "metadata":
                continue  # metadata keys are free-form, not parameters
            yield from parameter_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                yield from parameter_paths(item, f"{prefix}[]")
