"""Stripe's list conventions: ``limit``, cursor pagination, boolean filters."""

from __future__ import annotations

from typing import Any

from local.stripe.core.errors import StripeError

Payload = dict[str, Any]
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand"})


def parse_boolean(value: Any, name: str) -> bool:
    """A boolean query parameter (`true`/`false`)."""
    if value in ("true", "false"):
        return value == "true"
    raise StripeError(400, f"Invalid boolean: {value}", param=name)


def where_boolean(objects: list[Payload], params: Payload, *names: str) -> list[Payload]:
    """``objects`` whose boolean fields ``names`` are as the (`true`/`false`) params ask."""
    for name in names:
        if name in params:
            wanted = parse_boolean(params[name], name)
            objects = [obj for obj in objects if obj[name] is wanted]
    return objects


def list_limit(params: Payload) -> int:
    """The `limit` of a list request (1–100, default 10)."""
    raw = params.get("limit", "10")
    if not isinstance(raw, str) or not raw.isdigit():
        raise StripeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param="limit"
        )
    count = int(raw)
    if not 1 <= count <= 100:
        raise StripeError(
            400,
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            param="limit",
        )
    return count


def list_page(url: str, objects: list[Payload], params: Payload) -> Payload:
    """A Stripe list page: newest first, ``starting_after`` / ``ending_before`` cursors."""
    ordered = list(reversed(objects))
    ids = [obj["id"] for obj in ordered]
    for cursor, after in (("starting_after", True), ("ending_before", False)):
        if cursor in params:
            if params[cursor] not in ids:
                raise StripeError(
                    400,
                    f"No such object: '{params[cursor]}'",
                    code="resource_missing",
                    param=cursor,
                )
            index = ids.index(params[cursor])
            ordered = ordered[index + 1 :] if after else ordered[:index]
    count = list_limit(params)
    return {"object": "list", "data": ordered[:count], "has_more": len(ordered) > count, "url": url}
