"""Compare an object the stand-in returned with Stripe's published example of its type.

`schema/stripe-fixtures.json` (made by `tools/stripe_fixtures.py` from stripe/openapi's
`fixtures3.json`) holds Stripe's example of each object type the stand-in returns.
`differences(obj, fixtures)` walks the object and its example side by side, at every nesting
level, and names each place they disagree:

- `extra`: a field the stand-in returns and Stripe's example lacks;
- `missing`: a field Stripe's example has and the stand-in leaves out;
- `type`: both have a value (not null) of different JSON kinds (string, number, object, …);
- `not_an_id`: an expandable field (per the SDK) that is not an id although nothing expanded it.

A nested object whose `object` names another type (an event's `data.object`, a list's items) is
compared with that type's example; a `deleted: true` stub with the `deleted_…` example.
`metadata` is a map of the caller's keys, compared as a map only. Paths are dotted, `[]` for
list items, relative to the object the field belongs to (`subscription: items.data[].price.product`;
`customer: shipping.name` in an event's `data.object`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "schema" / "stripe-fixtures.json"
MAPS = frozenset({"metadata"})  # the caller's own keys, not fields


@functools.cache
def fixtures() -> dict[str, Any]:
    """The repository's copy of Stripe's examples (see `tools/stripe_fixtures.py`)."""
    return json.loads(FIXTURES.read_text(encoding="utf-8"))


@dataclass(frozen=True, order=True)
class Difference:
    """One place where the stand-in's object is not shaped as Stripe's example."""

    object: str  # the type of the object the field belongs to (`list` for an envelope)
    path: str  # from that object
    kind: str  # extra | missing | type | not_an_id
    at: str = ""  # where that object sits in the response (`data.object`), "" at the top

    @property
    def key(self) -> tuple[str, str, str]:
        """What `shapes.KNOWN_DIFFERENCES` lists: the same wherever the object sits."""
        return (self.object, self.path, self.kind)

    def __str__(self) -> str:
        where = f" (in {self.at})" if self.at else ""
        return f"{self.object}: {self.path} ({self.kind}){where}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def example_of(obj: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The name and example of `obj`'s type (`deleted_…` for a deleted stub), None if none."""
    kind = obj.get("object")
    if kind == "list":
        return "list", fixtures()["list"]
    name = f"deleted_{kind}" if obj.get("deleted") is True else str(kind)
    example = fixtures()["resources"].get(name)
    return (name, example) if example is not None else None


def differences(obj: Mapping[str, Any], expanded: Collection[str] = ()) -> list[Difference]:
    """Every difference between `obj` and Stripe's example of its type. `expanded`: the paths
    the request expanded (their fields may be objects, and may be there at all)."""
    found = example_of(obj)
    if found is None:
        return [Difference(str(obj.get("object")), "", "no_example")]
    name, example = found
    expandable = set(fixtures()["expandable"].get(name, ()))
    out: list[Difference] = []
    _walk(obj, example, "", name, expandable, set(expanded), out)
    return sorted(set(out))


def _walk(
    actual: Any,
    example: Any,
    path: str,
    top: str,
    expandable: set[str],
    expanded: set[str],
    out: list[Difference],
) -> None:
    if isinstance(actual, dict) and path and isinstance(actual.get("object"), str):
        found = example_of(actual)
        if found is not None and found[1].get("object") != (example or {}).get("object"):
            # another type nested here (an event's data.object, a list's items): its example
            for difference in differences(actual):
                at = _join(path, difference.at)
                out.append(Difference(difference.object, difference.path, difference.kind, at))
            return
    if isinstance(actual, dict) and isinstance(example, dict):
        for key in actual.keys() - example.keys():
            if _join(path, key) not in expanded:
                out.append(Difference(top, _join(path, key), "extra"))
        for key in example.keys() - actual.keys():
            out.append(Difference(top, _join(path, key), "missing"))
        for key in actual.keys() & example.keys():
            _field(actual[key], example[key], _join(path, key), top, expandable, expanded, out)
    elif isinstance(actual, list) and isinstance(example, list):
        for item in actual:  # an example without items: each item by its own type's example
            item_example = example[0] if example else None
            _walk(item, item_example, path + "[]", top, expandable, expanded, out)


def _field(
    actual: Any,
    example: Any,
    path: str,
    top: str,
    expandable: set[str],
    expanded: set[str],
    out: list[Difference],
) -> None:
    if path in expandable or (path + "[]") in expandable:
        items = actual if isinstance(actual, list) and path not in expandable else [actual]
        if path not in expanded and any(i is not None and not isinstance(i, str) for i in items):
            out.append(Difference(top, path, "not_an_id"))
        return
    if actual is None or example is None:
        return  # nullable: either side may have null
    if _kind(actual) != _kind(example):
        out.append(Difference(top, path, "type"))
    elif path.rsplit(".", 1)[-1] not in MAPS:
        _walk(actual, example, path, top, expandable, expanded, out)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and key else path or key


def error_differences(body: Any) -> list[str]:
    """What is wrong with an error response body, as Stripe shapes one: `{"error": {…}}` with
    only the fields Stripe's error object has, a known `type` and a `message`."""
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return [f"not an error body: {body!r}"]
    error = body["error"]
    unknown = sorted(set(error) - set(fixtures()["error_fields"]))
    problems = [f"error.{key} (extra)" for key in unknown]
    if error.get("type") not in fixtures()["error_types"]:
        problems.append(f"error.type {error.get('type')!r} (not one of Stripe's)")
    if not isinstance(error.get("message"), str):
        problems.append("error.message (missing)")
    if error.get("code") and not error.get("doc_url"):
        problems.append("error.doc_url (missing beside code)")
    return problems
