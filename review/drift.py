"""Drift: a live portal configuration compared with what its stack declares.

Every field of the live object (Stripe's `billing_portal.configuration`) is accounted for:

- *compared* — `active` and every parameter the stack's spec declares, plus the metadata the
  stack puts on it (`managed-by`, `stack`, `spec-hash`). A difference is drift. The fields
  pulumi-stripe cannot set are compared by `stackspec.portal_fields.changed_fields`, the very
  function the `PortalFields` resource diffs with, always (Stripe's default when undeclared, as
  `pulumi up` applies it).
- *not compared, set by Stripe* — fields no request can set (`id`, `created`, `livemode`, …; read
  from the schema: response fields that neither the create nor the update endpoint accepts).
- *not compared, no effect* — the sub-settings of a feature the stack declares disabled.
- *not declared* — fields the stack leaves to Stripe (for example the pause duration). Listed,
  not drift: declare a field to have it checked.

Plan-switching products present on only one side are reported once, on the product list row.
The account's branding, when the stack declares one, is checked beside the configuration
(`review.branding_drift`) and reported in `Drift.branding`; the stack's webhook endpoint likewise
(`review.webhook_drift`, `Drift.webhook`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from review.branding_drift import BrandingCheck
from review.features_drift import FeatureCheck, FeaturesDrift
from review.plan import configuration_rows, merged_order
from review.rows import ABSENT, flatten, item_of, same, schema_path
from review.webhook_drift import WebhookCheck, WebhookDrift
from stackspec import schema as stripe_schema
from stackspec.portal_fields import (
    ADJUSTABLE_QUANTITY,
    changed_fields,
    comparable,
    declared_fields,
    field_of,
    field_rows,
    live_fields,
)

PRODUCT_LIST = "features.subscription_update.products"


@dataclass(frozen=True)
class Finding:
    """A setting whose live value is not the declared one (`ABSENT`: the side has none)."""

    setting: str
    declared: Any
    live: Any


@dataclass(frozen=True)
class Drift:
    """The outcome of one drift check."""

    stack: str
    configuration_id: str
    livemode: bool
    findings: tuple[Finding, ...]
    undeclared: tuple[tuple[str, Any], ...]  # (setting, live value) the stack leaves to Stripe
    compared: int  # how many settings were compared
    declared_hash: str | None  # spec-hash of the stack's spec
    live_hash: str | None  # spec-hash in the live configuration's metadata
    branding: tuple[BrandingCheck, ...] = ()  # each declared branding field, per account
    webhook: WebhookDrift | None = None  # the stack's webhook endpoint (None: not checked)
    features: FeaturesDrift | None = None  # each product's features (None: not checked)

    @property
    def branding_drift(self) -> tuple[BrandingCheck, ...]:
        return tuple(check for check in self.branding if not check.matches)

    @property
    def webhook_drift(self) -> tuple[WebhookCheck, ...]:
        return self.webhook.drift if self.webhook else ()

    @property
    def features_drift(self) -> tuple[FeatureCheck, ...]:
        return self.features.drift if self.features else ()

    @property
    def drifted(self) -> bool:
        return bool(
            self.findings or self.branding_drift or self.webhook_drift or self.features_drift
        )


class NotFound(LookupError):
    """No (single) configuration of the stack among the live ones."""


@functools.cache
def server_set_fields() -> frozenset[str]:
    """Fields of the live object that no request sets: Stripe's own (`id`, `updated`, …)."""
    settable = stripe_schema.request_paths(
        stripe_schema.CREATE_CONFIGURATION
    ) | stripe_schema.request_paths(stripe_schema.UPDATE_CONFIGURATION)
    return frozenset(set(stripe_schema.response_fields()) - settable)


@dataclass(frozen=True)
class Expected:
    """What the live configuration should hold: its rows, and the values of the fields
    pulumi-stripe cannot set (`stackspec.portal_fields`), both from the spec (ids substituted)."""

    rows: Mapping[str, Any]
    fields: Mapping[str, Any]


def expected_rows(spec: Mapping[str, Any], *, active: bool) -> Expected:
    """What the live configuration should hold: the spec's rows (ids substituted) + metadata."""
    rows = {
        **configuration_rows(spec, active=active),
        **flatten({"metadata": spec.get("metadata") or {}}),
    }
    return Expected(rows=rows, fields=declared_fields(spec))


def compare_live(stack: str, expected: Expected, configuration: Mapping[str, Any]) -> Drift:
    """Compare a live configuration object with what its stack declares."""
    live_values = live_fields(configuration)
    changed = changed_fields(expected.fields, live_values)
    live = {k: v for k, v in flatten(configuration).items() if field_of(k) is None}
    live.update(field_rows(live_values))
    rows = expected.rows
    disabled = _disabled_prefixes(rows)
    one_sided = _items(rows) ^ _items(live)

    def counts(setting: str) -> bool:
        if field_of(setting) is not None:
            return True  # compared as `PortalFields` compares them, below
        if schema_path(setting) in server_set_fields() or item_of(setting) in one_sided:
            return False
        return not any(
            setting.startswith(prefix) and setting != prefix + "enabled" for prefix in disabled
        )

    findings = []
    compared = 0
    for setting in merged_order(list(live), list(rows)):
        declared, value = rows.get(setting, ABSENT), live.get(setting, ABSENT)
        field = field_of(setting)
        if field is not None:
            compared += declared is not ABSENT
            # a product on one side only is reported once, on the product list row
            one_side_only = item_of(setting) in one_sided
            if field in changed and not one_side_only and not same(declared, value):
                findings.append(Finding(setting, declared, value))
        elif declared is not ABSENT and counts(setting):
            compared += 1
            if not same(declared, value):
                findings.append(Finding(setting, declared, value))
    shown = {field_of(finding.setting) for finding in findings}
    if any(finding.setting == PRODUCT_LIST for finding in findings):
        shown.add(ADJUSTABLE_QUANTITY)  # a product missing or extra
    for field in changed:  # a difference no row shows (kept so that none is ever lost)
        if field not in shown:
            findings.append(
                Finding(
                    field,
                    comparable(field, expected.fields[field]),
                    comparable(field, live_values[field]),
                )
            )
    undeclared = tuple(
        (setting, value)
        for setting, value in live.items()
        if setting not in rows and field_of(setting) is None and counts(setting)
    )
    metadata = configuration.get("metadata") or {}
    return Drift(
        stack=stack,
        configuration_id=str(configuration.get("id", "")),
        livemode=bool(configuration.get("livemode")),
        findings=tuple(findings),
        undeclared=undeclared,
        compared=compared,
        declared_hash=rows.get("metadata.spec-hash"),
        live_hash=metadata.get("spec-hash"),
    )


def _disabled_prefixes(rows: Mapping[str, Any]) -> list[str]:
    # `features.customer_update.enabled: false` → `features.customer_update.`
    return [
        setting.removesuffix("enabled")
        for setting, value in rows.items()
        if setting.endswith(".enabled") and value is False
    ]


def _items(rows: Iterable[str]) -> set[str]:
    return {item for item in map(item_of, rows) if item is not None}


def find_configuration(
    configurations: Iterable[Mapping[str, Any]], metadata: Mapping[str, str]
) -> Mapping[str, Any]:
    """The stack's configuration among live ones, recognised by its metadata (`managed-by`,
    `stack`). An active one is preferred; a deactivated one is returned so that `active` is
    reported as drift rather than the configuration as missing. Raises `NotFound`."""
    wanted = {key: metadata[key] for key in ("managed-by", "stack")}
    mine = [
        configuration
        for configuration in configurations
        if all((configuration.get("metadata") or {}).get(k) == v for k, v in wanted.items())
    ]
    active = [configuration for configuration in mine if configuration.get("active")]
    tags = ", ".join(f"{key}={value}" for key, value in wanted.items())
    if len(active) == 1:
        return active[0]
    if len(active) > 1:
        ids = ", ".join(str(configuration["id"]) for configuration in active)
        raise NotFound(
            f"{len(active)} active portal configurations are tagged {tags} ({ids}); "
            "pass --configuration-id"
        )
    if len(mine) == 1:
        return mine[0]
    if mine:
        ids = ", ".join(str(configuration["id"]) for configuration in mine)
        raise NotFound(
            f"no active portal configuration is tagged {tags}, only inactive ones ({ids}); "
            "pass --configuration-id"
        )
    raise NotFound(
        f"no portal configuration is tagged {tags} in this Stripe account; pass "
        "--configuration-id (the stack output portalConfigurationId)"
    )
