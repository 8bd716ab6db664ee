"""What a stack declares for its portal, as setting rows, and how two such plans differ.

`plan_of(settings)` runs the stack model's spec code (`stackspec.portal_spec.portal_spec`), the
same the Pulumi program deploys, and flattens the result; nothing here knows a config key or a
default. `compare` is the pure rows × rows → changes step behind `plan --base` (old → new) and
`diff` (one stack ↔ another).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from review.features_drift import feature_rows
from review.rows import ABSENT, flatten, is_unmanaged, same
from stackspec.branding_spec import branding_rows
from stackspec.checkout_spec import checkout_rows
from stackspec.portal_fields import PATHS, declared_fields, field_rows, without_fields
from stackspec.portal_settings import DeclaredProduct
from stackspec.portal_spec import portal_spec, spec_hash
from stackspec.settings import Settings

CATALOG = "catalog."  # prefix of the rows of products and prices the stack creates in Stripe


@dataclass(frozen=True)
class Plan:
    """One stack's declared portal: the exact API parameters and the same as setting rows."""

    stack: str
    spec: Mapping[str, Any]  # POST /v1/billing_portal/configurations parameters, with metadata
    active: bool
    rows: Mapping[str, Any]  # setting → value: `active`, the spec (less metadata), the catalog,
    #                          the branding, the checkout
    spec_hash: str
    unmanaged: tuple[str, ...]  # fields pulumi-stripe cannot set (PortalFields applies them)


@dataclass(frozen=True)
class Change:
    """One setting whose value differs between two plans; `ABSENT` where one has none."""

    setting: str
    old: Any
    new: Any

    @property
    def unmanaged(self) -> bool:
        """pulumi-stripe cannot apply it: `pulumi up` applies it through `PortalFields`."""
        return is_unmanaged(self.setting)


def configuration_rows(spec: Mapping[str, Any], *, active: bool) -> dict[str, Any]:
    """The rows of a portal configuration: `active` and every parameter but metadata; the fields
    pulumi-stripe cannot set as `stackspec.portal_fields` maps them (with Stripe's defaults for
    the undeclared ones, which `pulumi up` applies too)."""
    body = {key: value for key, value in without_fields(spec).items() if key != "metadata"}
    return {"active": active, **flatten(body), **field_rows(declared_fields(spec))}


def catalog_rows(products: Iterable[DeclaredProduct]) -> dict[str, Any]:
    """Rows of the products and prices a stack declares (`catalog.<product>.prices.<price>.…`)."""
    catalog = {}
    for product in products:
        entry = _fields(product, skip=("key", "prices", "features"))
        entry["prices"] = {price.key: _fields(price, skip=("key",)) for price in product.prices}
        catalog[product.key] = entry
    return flatten(catalog, CATALOG)


def _fields(instance: Any, *, skip: tuple[str, ...]) -> dict[str, Any]:
    # Unset optional fields (None) are left out: a row is something the stack says.
    return {
        field.name: getattr(instance, field.name)
        for field in dataclasses.fields(instance)
        if field.name not in skip and getattr(instance, field.name) is not None
    }


def plan_of(settings: Settings) -> Plan:
    """The portal a stack declares, through the same spec code as the Pulumi program."""
    spec = portal_spec(settings)
    active = settings.portal.active
    rows = {
        **configuration_rows(spec, active=active),
        **catalog_rows(settings.products),
        **feature_rows(settings),
        **branding_rows(settings.branding),
        **checkout_rows(settings.checkout, settings.portal),
    }
    return Plan(
        stack=settings.stack,
        spec=spec,
        active=active,
        rows=rows,
        spec_hash=spec_hash(spec),
        unmanaged=PATHS,
    )


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every setting whose value differs, in `new`'s order; a setting only `old` has comes
    right after the setting it followed in `old`."""
    changes = []
    for setting in merged_order(list(old), list(new)):
        before, after = old.get(setting, ABSENT), new.get(setting, ABSENT)
        if not same(before, after):
            changes.append(Change(setting, before, after))
    return changes


def identical(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The settings both have with the same value (what `diff` collapses)."""
    return {setting: value for setting, value in a.items() if same(value, b.get(setting, ABSENT))}


def merged_order(old: list[str], new: list[str]) -> list[str]:
    """`new`, with each name only `old` has placed right after the name it followed in `old`."""
    order = list(new)
    for index, name in enumerate(old):
        if name in order:
            continue
        previous = old[index - 1] if index else None
        order.insert(order.index(previous) + 1 if previous in order else 0, name)
    return order
