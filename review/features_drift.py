"""Features drift: which features each of the stack's products grants in Stripe, against the
stack's `features` lists, in the rows `plan` and `diff` show (`entitlements.products[<product>]
.features`, the product as the stack names it: `declared:<name>` or `prod_…`).

Pure: the live attachments are read by `review.stripe_live` (`GET /v1/products/{id}/features`).
Every product the stack declares is checked (a feature attached in the Dashboard to a product
that grants none is drift too), and every product `productFeatures` names. A feature attached in
the Dashboard but not declared, or declared but detached there, is a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from review.rows import ABSENT
from stackspec.declared import declared_product_ref
from stackspec.features_settings import grants_by_product
from stackspec.settings import Settings

PREFIX = "entitlements."


def product_row(product: str) -> str:
    """The row of the features a product grants (plan, diff and drift name it so)."""
    return f"{PREFIX}products[{product}].features"


def feature_rows(settings: Settings) -> dict[str, Any]:
    """The rows of a stack's features: each feature's name, then each product's lookup keys."""
    rows: dict[str, Any] = {
        f"{PREFIX}features[{f.lookup_key}].name": f.name for f in settings.features.features
    }
    for product, keys in grants_by_product(settings.features).items():
        rows[product_row(product)] = list(keys)
    return rows


def expected_grants(settings: Settings) -> dict[str, list[str]]:
    """{product: sorted lookup keys} for every product the stack declares or names by id."""
    grants = {declared_product_ref(product.key): [] for product in settings.products}
    grants.update(
        {product: list(keys) for product, keys in grants_by_product(settings.features).items()}
    )
    return grants


@dataclass(frozen=True)
class FeatureCheck:
    setting: str
    declared: Any
    live: Any  # ABSENT: the product's id is not known, so it was not read
    matches: bool
    fix: str


@dataclass(frozen=True)
class FeaturesDrift:
    checks: tuple[FeatureCheck, ...]

    @property
    def drift(self) -> tuple[FeatureCheck, ...]:
        return tuple(check for check in self.checks if not check.matches)

    @property
    def drifted(self) -> bool:
        return bool(self.drift)


def check_features(
    settings: Settings, ids: Mapping[str, str], live_features: Callable[[str], list[str]]
) -> FeaturesDrift:
    """Each product's live lookup keys against the declared ones; `ids` maps `declared:<name>`
    to the product's id, `live_features(product_id)` reads its attached features' keys."""
    checks = []
    for product, declared in expected_grants(settings).items():
        product_id = ids.get(product) if product.startswith("declared:") else product
        if product_id is None:
            checks.append(
                FeatureCheck(
                    product_row(product),
                    declared,
                    ABSENT,
                    False,
                    "the product's id is unknown: pass --product-ids (the stack output "
                    "stripeProductIds) or run `pulumi up` to create it",
                )
            )
            continue
        live = sorted(set(live_features(product_id)))
        checks.append(
            FeatureCheck(
                product_row(product), declared, live, live == declared, _fix(declared, live)
            )
        )
    return FeaturesDrift(tuple(checks))


def _fix(declared: list[str], live: list[str]) -> str:
    attached = sorted(set(live) - set(declared))
    detached = sorted(set(declared) - set(live))
    parts = []
    if detached:
        parts.append(
            f"detached in Stripe: {', '.join(detached)} — `pulumi up --refresh` attaches it again"
        )
    if attached:
        parts.append(
            f"attached in Stripe, not declared: {', '.join(attached)} — detach it in the "
            "Dashboard (Product catalog → the product → Features) or declare it in the stack's "
            "features list"
        )
    return "; ".join(parts)
