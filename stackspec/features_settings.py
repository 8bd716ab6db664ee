"""Features as code: the stack's entitlement features and which catalog product grants which.

Stack keys (all optional):

- `billing-portal:features` — `{lookup_key: name}`: one Stripe Entitlements feature each.
- `billing-portal:products.<name>.features` — the lookup keys a product the stack declares grants.
- `billing-portal:productFeatures` — `{prod_…: [lookup_key, …]}`: the same for a product that
  already exists in Stripe and is referenced by id (as a production stack's catalog is).

A product is named in `Grant.product` the way the portal spec names it: `declared:<name>` for a
declared product (the Pulumi program and the review tools substitute the id), else its `prod_…` id.

Rules: a lookup key is what Stripe accepts (1..80 characters, `LOOKUP_KEY_MAX`) and, this
project's own rule, only letters, digits, `_` and `-` starting with a letter or digit: it names a
Pulumi resource and is written in code and Firestore rules. A name is 1..80 characters (Stripe's
limit). A product may grant only declared features, each once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stackspec.declared import declared_product_ref
from stackspec.portal_settings import DeclaredProduct
from stackspec.reader import PROJECT, Section, describe

LOOKUP_KEY_MAX = 80  # Stripe: "This may be up to 80 characters."
NAME_MAX = 80  # Stripe: entitlements feature `name`, max length 80
LOOKUP_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
PRODUCT_ID = re.compile(r"prod_[A-Za-z0-9]+")


@dataclass(frozen=True)
class Feature:
    """One Stripe Entitlements feature the stack declares."""

    lookup_key: str
    name: str


@dataclass(frozen=True)
class Grant:
    """The features one product grants: `product` is `declared:<name>` or a `prod_…` id."""

    product: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class FeatureSettings:
    features: tuple[Feature, ...] = ()
    grants: tuple[Grant, ...] = ()

    def feature(self, lookup_key: str) -> Feature:
        return next(feature for feature in self.features if feature.lookup_key == lookup_key)

    @property
    def attachments(self) -> tuple[tuple[str, str], ...]:
        """Every (product, lookup key) pair: one `ProductFeature` each."""
        return tuple((grant.product, key) for grant in self.grants for key in grant.features)


def lookup_key_problem(key: str) -> str | None:
    """Why Stripe (or this project) would refuse `key` as a feature lookup key, else None."""
    if not key:
        return "is empty"
    if len(key) > LOOKUP_KEY_MAX:
        return f"is {len(key)} characters; Stripe accepts at most {LOOKUP_KEY_MAX}"
    if not LOOKUP_KEY.fullmatch(key):
        return (
            "may hold only letters, digits, _ and -, starting with a letter or digit "
            "(it names a Pulumi resource and is written in code and Firestore rules)"
        )
    return None


def read_features(
    features: Section, product_features: Section, declared: tuple[DeclaredProduct, ...]
) -> FeatureSettings:
    """Read `features`, the declared products' `features` and `productFeatures`, checked
    against each other; every mistake is added to the sections' problems."""
    known = tuple(_feature(features, key) for key in features.data)
    features.finish()
    keys = {feature.lookup_key for feature in known}
    grants = [
        _grant(
            Section(features.problems, f"{PROJECT}:products.{product.key}.", {}),
            "features",
            declared_product_ref(product.key),
            product.features,
            keys,
        )
        for product in declared
        if product.features
    ]
    names = {product.key for product in declared}
    for product_id in product_features.data:
        values = product_features.strings(product_id)
        if product_id in names:
            product_features.add(
                product_id,
                "is a product declared under " + f"{PROJECT}:products",
                f"list its features under {PROJECT}:products.{product_id}.features instead",
            )
            continue
        if not PRODUCT_ID.fullmatch(product_id):
            product_features.add(
                product_id,
                "is not a Stripe product id (prod_…)",
                "key productFeatures by the prod_… id of an existing product; a product the "
                f"stack declares lists its features under {PROJECT}:products.<name>.features",
            )
            continue
        if product_features.raw(product_id) == []:
            product_features.add(product_id, "is empty", "list a feature or remove the product")
        grants.append(_grant(product_features, product_id, product_id, values, keys))
    product_features.finish()
    return FeatureSettings(tuple(known), tuple(g for g in grants if g.features))


def _feature(section: Section, key: str) -> Feature:
    problem = lookup_key_problem(key)
    if problem:
        section.add(
            key,
            f"lookup key {describe(key)} {problem}",
            "rename it, e.g. export_csv (the lookup key is what apps check)",
        )
    value = section.raw(key)
    if value is None:
        return Feature(key, "")  # `raw` reported the key without a value
    if not isinstance(value, str) or not value.strip():
        section.add(
            key,
            f"needs a name, got {describe(value)}",
            f"write it as `{key}: Export to CSV` (lookup key: the name Stripe shows)",
        )
        return Feature(key, "")
    name = value.strip()
    if len(name) > NAME_MAX:
        section.add(
            key,
            f"name is {len(name)} characters; Stripe accepts at most {NAME_MAX}",
            "shorten the name",
        )
    return Feature(key, name)


def _grant(
    section: Section, name: str, product: str, values: tuple[str, ...], keys: set[str]
) -> Grant:
    for index, key in enumerate(values):
        if key not in keys:
            section.problems.add(
                f"{section.key(name)}[{index}]",
                f"{key!r} is not a feature declared under {PROJECT}:features",
                f"declare it under {PROJECT}:features ({key}: <name>) or use one of: "
                + (", ".join(sorted(keys)) or "(none declared)"),
            )
    duplicates = sorted({key for key in values if values.count(key) > 1})
    if duplicates:
        section.add(name, f"lists {', '.join(duplicates)} more than once", "list each once")
    granted = tuple(key for key in dict.fromkeys(values) if key in keys)
    return Grant(product, granted)


def grants_by_product(settings: FeatureSettings) -> Mapping[str, tuple[str, ...]]:
    """{product (`declared:<name>` or id): its lookup keys, sorted}."""
    return {grant.product: tuple(sorted(grant.features)) for grant in settings.grants}
