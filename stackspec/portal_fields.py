"""The portal fields pulumi-stripe cannot set: one mapping for `pulumi up`, `plan` and `drift`.

pulumi-stripe 0.0.28 (a bridge of an archived Terraform provider) has no argument for the seven
`PATHS` below. The `PortalFields` dynamic resource (`infra/portal_fields.py`) applies them with
`POST /v1/billing_portal/configurations/{id}`; the review tools show and compare them. All three
go through this module:

- `declared_fields(spec)` — a spec (ids substituted, or `declared:` refs for `plan`) → the value
  of every field. A field the stack does not declare gets Stripe's default, so removing it from
  the stack sets it back (a stack that stops declaring pause gets pause disabled);
- `live_fields(configuration)` — a live `billing_portal.configuration` → the same shape, Stripe's
  defaults and `null`s normalised (e.g. `billing_cycle_anchor: null` is Stripe's `unchanged`);
- `changed_fields(declared, live)` — the paths whose values differ (products and conditions
  compared as sets), so an unchanged stack never shows a perpetual diff;
- `update_params(fields)` — the update request's parameters for those values;
- `field_rows(fields)` — the values as review setting rows (`features.…products[prod_1].…`);
- `READ_EXPAND` — what a read must expand, or Stripe's answer has no products to compare.

A field's value carries what its update must send besides the field itself: Stripe requires
`payment_method_update.enabled` beside `payment_method_configuration`, and replaces the whole
plan-switching product list, so the `adjustable_quantity` field holds the products with their
prices. Only the field itself is compared (`comparable`).

Self-contained on purpose (standard library only, no import from this repository): the dynamic
provider runs in a process that may not import this repository, so it loads this file's source
by value (see `infra.portal_fields`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the SDK's parameter types, for the checker only: nothing imported at run time
    from stripe.params import billing_portal as params

NAME = "name"
PAYMENT_METHOD_CONFIGURATION = "features.payment_method_update.payment_method_configuration"
SUBSCRIPTION_PAUSE = "features.subscription_pause"
BILLING_CYCLE_ANCHOR = "features.subscription_update.billing_cycle_anchor"
ADJUSTABLE_QUANTITY = "features.subscription_update.products[].adjustable_quantity"
SCHEDULE_AT_PERIOD_END = "features.subscription_update.schedule_at_period_end"
TRIAL_UPDATE_BEHAVIOR = "features.subscription_update.trial_update_behavior"

# The parameters pulumi-stripe 0.0.28 cannot set (paths as in the API schema).
PATHS: tuple[str, ...] = (
    NAME,
    PAYMENT_METHOD_CONFIGURATION,
    SUBSCRIPTION_PAUSE,
    BILLING_CYCLE_ANCHOR,
    ADJUSTABLE_QUANTITY,
    SCHEDULE_AT_PERIOD_END,
    TRIAL_UPDATE_BEHAVIOR,
)

# Stripe's values when nothing is set (API reference; `billing_cycle_anchor` reads null until set,
# which means `unchanged`).
DEFAULT_BILLING_CYCLE_ANCHOR = "unchanged"
DEFAULT_TRIAL_UPDATE_BEHAVIOR = "end_trial"
DEFAULT_MINIMUM_QUANTITY = 1

_PRODUCTS = "features.subscription_update.products"
# What every read of a configuration (and every update, for its answer) must expand: Stripe leaves
# the plan-switching products out of the object unless asked, and a reader that did not ask would
# see no products, so a perpetual diff and daily drift. On a list, each path is `data.` + path.
READ_EXPAND: tuple[str, ...] = (_PRODUCTS,)


def declared_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every field for a spec (`portal_spec`'s parameters), Stripe's default where
    the spec declares none."""
    return _fields(spec)


def live_fields(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every field in a live configuration object (as Stripe returns it)."""
    return _fields(configuration)


def _fields(source: Mapping[str, Any]) -> dict[str, Any]:
    features = source.get("features") or {}
    payment = features.get("payment_method_update") or {}
    pause = features.get("subscription_pause") or {}
    update = features.get("subscription_update") or {}
    schedule = update.get("schedule_at_period_end") or {}
    return {
        NAME: source.get("name") or None,
        PAYMENT_METHOD_CONFIGURATION: {
            "enabled": bool(payment.get("enabled")),
            "payment_method_configuration": payment.get("payment_method_configuration") or None,
        },
        SUBSCRIPTION_PAUSE: {"enabled": bool(pause.get("enabled"))},
        BILLING_CYCLE_ANCHOR: update.get("billing_cycle_anchor") or DEFAULT_BILLING_CYCLE_ANCHOR,
        # In the order given (the portal shows them so); compared by product, as a set.
        ADJUSTABLE_QUANTITY: [_product(item) for item in update.get("products") or []],
        SCHEDULE_AT_PERIOD_END: {
            "conditions": sorted(
                str(condition.get("type")) for condition in schedule.get("conditions") or []
            )
        },
        TRIAL_UPDATE_BEHAVIOR: update.get("trial_update_behavior") or DEFAULT_TRIAL_UPDATE_BEHAVIOR,
    }


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    quantity = item.get("adjustable_quantity") or {}
    maximum = quantity.get("maximum")
    minimum = quantity.get("minimum")
    return {
        "product": item["product"],
        "prices": list(item.get("prices") or []),
        "adjustable_quantity": {
            "enabled": bool(quantity.get("enabled")),
            "minimum": DEFAULT_MINIMUM_QUANTITY if minimum is None else int(minimum),
            "maximum": None if maximum is None else int(maximum),
        },
    }


def normalised(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Field values in their canonical shape, whatever carried them: a value or key Pulumi's
    state dropped (`null`) is Stripe's default again, and numbers are integers again."""
    payment = fields.get(PAYMENT_METHOD_CONFIGURATION) or {}
    pause = fields.get(SUBSCRIPTION_PAUSE) or {}
    schedule = fields.get(SCHEDULE_AT_PERIOD_END) or {}
    return _fields(
        {
            "name": fields.get(NAME),
            "features": {
                "payment_method_update": payment,
                "subscription_pause": pause,
                "subscription_update": {
                    "billing_cycle_anchor": fields.get(BILLING_CYCLE_ANCHOR),
                    "products": fields.get(ADJUSTABLE_QUANTITY) or [],
                    "schedule_at_period_end": {
                        "conditions": [{"type": kind} for kind in schedule.get("conditions") or []]
                    },
                    "trial_update_behavior": fields.get(TRIAL_UPDATE_BEHAVIOR),
                },
            },
        }
    )


def comparable(path: str, value: Any) -> Any:
    """The part of a field's value that is the field itself (what `changed_fields` compares)."""
    if path == PAYMENT_METHOD_CONFIGURATION:
        return value["payment_method_configuration"]
    if path == ADJUSTABLE_QUANTITY:
        return {item["product"]: item["adjustable_quantity"] for item in value}
    return value


def changed_fields(declared: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The paths, in `PATHS` order, whose declared value the live one does not match."""
    declared, live = normalised(declared), normalised(live)
    return [
        path
        for path in PATHS
        if _canonical(comparable(path, declared[path])) != _canonical(comparable(path, live[path]))
    ]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def update_params(
    fields: Mapping[str, Any], paths: Iterable[str] = PATHS
) -> params.ConfigurationUpdateParams:
    """`POST /v1/billing_portal/configurations/{id}` parameters setting `paths` to `fields`.

    An unset value is sent as "" (Stripe's way to unset `name`, `payment_method_configuration`,
    the conditions and the product list); the others always have a value to send.
    """
    wanted = set(paths)
    fields = normalised(fields)
    result: params.ConfigurationUpdateParams = {}
    features: params.ConfigurationUpdateParamsFeatures = {}
    update: params.ConfigurationUpdateParamsFeaturesSubscriptionUpdate = {}
    if NAME in wanted:
        result["name"] = fields[NAME] or ""
    if PAYMENT_METHOD_CONFIGURATION in wanted:
        payment = fields[PAYMENT_METHOD_CONFIGURATION]
        features["payment_method_update"] = {
            "enabled": payment["enabled"],  # required by Stripe beside the configuration
            "payment_method_configuration": payment["payment_method_configuration"] or "",
        }
    if SUBSCRIPTION_PAUSE in wanted:
        features["subscription_pause"] = {"enabled": fields[SUBSCRIPTION_PAUSE]["enabled"]}
    if BILLING_CYCLE_ANCHOR in wanted:
        update["billing_cycle_anchor"] = fields[BILLING_CYCLE_ANCHOR]
    if ADJUSTABLE_QUANTITY in wanted:
        products = [_product_param(item) for item in fields[ADJUSTABLE_QUANTITY]]
        update["products"] = products or ""  # Stripe replaces the whole list
    if SCHEDULE_AT_PERIOD_END in wanted:
        conditions = fields[SCHEDULE_AT_PERIOD_END]["conditions"]
        update["schedule_at_period_end"] = {
            "conditions": [{"type": kind} for kind in conditions] or ""
        }
    if TRIAL_UPDATE_BEHAVIOR in wanted:
        update["trial_update_behavior"] = fields[TRIAL_UPDATE_BEHAVIOR]
    if update:
        features["subscription_update"] = update
    if features:
        result["features"] = features
    return result


def _product_param(
    item: Mapping[str, Any],
) -> params.ConfigurationUpdateParamsFeaturesSubscriptionUpdateProduct:
    bounds = item["adjustable_quantity"]  # as `_product` shapes it; None: not declared
    quantity: params.ConfigurationUpdateParamsFeaturesSubscriptionUpdateProductAdjustableQuantity
    quantity = {"enabled": bounds["enabled"]}
    if bounds["minimum"] is not None:
        quantity["minimum"] = bounds["minimum"]
    if bounds["maximum"] is not None:
        quantity["maximum"] = bounds["maximum"]
    return {
        "product": item["product"],
        "prices": list(item["prices"]),
        "adjustable_quantity": quantity,
    }


def without_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a spec without the fields (what pulumi-stripe is given); products keep their
    prices but lose `adjustable_quantity`."""
    rest = copy.deepcopy(dict(spec))
    rest.pop(NAME, None)
    features = rest.get("features") or {}
    (features.get("payment_method_update") or {}).pop("payment_method_configuration", None)
    features.pop("subscription_pause", None)
    update = features.get("subscription_update") or {}
    for key in ("billing_cycle_anchor", "schedule_at_period_end", "trial_update_behavior"):
        update.pop(key, None)
    for product in update.get("products") or []:
        product.pop("adjustable_quantity", None)
    return rest


def field_of(setting: str) -> str | None:
    """The field a review setting row (as `field_rows` names them) belongs to, or None for a row
    pulumi-stripe sets: `…products[prod_1].adjustable_quantity.maximum` →
    `…products[].adjustable_quantity`; `…subscription_pause.duration.type` → None."""
    general = _general(setting)
    for path in PATHS:
        owned = f"{path}.enabled" if path == SUBSCRIPTION_PAUSE else path
        if general == owned or general.startswith(owned + ".") or general.startswith(owned + "["):
            return path
    return None


def _general(setting: str) -> str:
    """`a[x].b` → `a[].b`: a row's name as the schema names it."""
    out, depth = [], 0
    for char in setting:
        if char == "[":
            depth += 1
            if depth == 1:
                out.append("[]")
        elif char == "]":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def field_rows(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as review setting rows, named like the rest of a configuration's rows."""
    rows: dict[str, Any] = {}
    fields = normalised(fields)
    for path in PATHS:
        value = comparable(path, fields[path])
        if path == SUBSCRIPTION_PAUSE:
            rows[f"{path}.enabled"] = value["enabled"]
        elif path == SCHEDULE_AT_PERIOD_END:
            rows[f"{path}.conditions[].type"] = list(value["conditions"])
        elif path == ADJUSTABLE_QUANTITY:
            for product, quantity in value.items():
                for key, item in quantity.items():
                    rows[f"{_PRODUCTS}[{product}].adjustable_quantity.{key}"] = item
        else:
            rows[path] = value
    return rows
