"""Setting rows: a nested Stripe object or parameter set flattened to (setting, value) pairs.

A row is named by its Stripe API path (`features.subscription_cancel.mode`) and holds a JSON
value: a scalar or a list. Lists of objects are flattened so that rows stay stable and say what
changed:

- plan-switching products are keyed by product: `features.subscription_update.products` lists
  the product ids, and `features.subscription_update.products[prod_1].prices` holds one
  product's prices, so adding a product does not shift the rows of the others;
- a list of one-field objects (`schedule_at_period_end.conditions`) becomes one row of values,
  `schedule_at_period_end.conditions[].type`;
- any other list stays one row.

Which lists have one-field items is read from Stripe's response schema (`stackspec.schema`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from stackspec import schema as stripe_schema
from stackspec.portal_fields import field_of

# Lists whose items are identified by one of their fields (the row path shows that field's value).
KEYED_LISTS = {"features.subscription_update.products": "product"}


class _Absent:
    """The value of a setting one side does not have (not declared, or not in the object)."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


def schema_path(setting: str) -> str:
    """The schema's name for a row: `…products[prod_1].prices` → `…products[].prices`."""
    return re.sub(r"\[[^\]]*\]", "[]", setting)


def item_of(setting: str) -> str | None:
    """The keyed list item a row belongs to (`…products[prod_1]`), or None."""
    match = re.match(r"^(.*?\[[^\]]+\])\.", setting)
    return match.group(1) if match else None


def is_unmanaged(setting: str) -> bool:
    """Whether pulumi-stripe cannot set this row, so that `PortalFields` applies it
    (`stackspec.portal_fields.PATHS`)."""
    return field_of(setting) is not None


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Rows of a nested mapping, in its order; `prefix` is put before every setting name."""
    rows: dict[str, Any] = {}
    for key, item in value.items():
        _add(rows, f"{prefix}{key}", item)
    return rows


def _add(rows: dict[str, Any], path: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _add(rows, f"{path}.{key}", item)
    elif isinstance(value, (list, tuple)):
        _add_list(rows, path, list(value))
    else:
        rows[path] = value


def _add_list(rows: dict[str, Any], path: str, items: list[Any]) -> None:
    general = schema_path(path)
    key_field = KEYED_LISTS.get(general)
    if key_field and all(isinstance(item, Mapping) and key_field in item for item in items):
        rows[path] = [item[key_field] for item in items]
        for item in items:
            for key, sub in item.items():
                if key != key_field:
                    _add(rows, f"{path}[{item[key_field]}].{key}", sub)
        return
    field = _one_field_lists().get(general)
    if field and all(isinstance(item, Mapping) and set(item) <= {field} for item in items):
        rows[f"{path}[].{field}"] = [item.get(field) for item in items]
        return
    rows[path] = items


@functools.cache
def _one_field_lists() -> dict[str, str]:
    """List fields whose items are objects with exactly one field: {list path: that field}."""
    fields = stripe_schema.response_fields()
    result: dict[str, str] = {}
    for path, row in fields.items():
        if row["t"].startswith("list<object"):
            children = [
                other[len(path) + 3 :] for other in fields if other.startswith(path + "[].")
            ]
            if len(children) == 1:
                result[path] = children[0]
    return result


def canonical(value: Any) -> str:
    """A value as canonical JSON text (how values are compared and shown in JSON output)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def same(a: Any, b: Any) -> bool:
    """Whether two row values mean the same setting.

    List order carries no meaning in the portal settings (allowed updates, reasons, prices and
    products are sets), and Stripe returns an unset list as null or [] depending on the field.
    """
    if a is ABSENT or b is ABSENT:
        return a is b
    if _empty_list(a) and _empty_list(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(canonical, a)) == sorted(map(canonical, b))
    return canonical(a) == canonical(b)


def _empty_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and not value)
