"""`diff A B`: the same plans under different ids, told apart from settings that really differ.

A test-mode stack usually declares its catalog (`declared:team`, created by Pulumi) where
production names the live products by id (`prod_…`). Compared row by row, every row of every
plan-switching product then differs, and the few real parity differences (seats adjustable in
one environment only) are lost among them. So, before comparing:

- products are **paired by position** in `features.subscription_update.products` (the first
  product of A with the first of B, …), and each pair's prices by position in its `prices` list;
  a pair gets one label (the declared name where one side declares it, else `plan N` /
  `price N`; an id both sides share keeps it);
- both sides' rows are rewritten with those labels (setting names and values);
- a row that differs before the rewrite but not after is "same plan, different ids";
- a `catalog.<product>.…` row of a product only one side creates (the other names its paired
  product by id) is the same kind: where the product comes from, not how it is sold;
- everything else differs, and is what the report leads with.

Pure: rows in, groups out; `review.markdown` and `review.json_report` render them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from review.plan import CATALOG, Change, compare
from review.rows import ABSENT, same

PRODUCTS = "features.subscription_update.products"
DECLARED = "declared:"


@dataclass(frozen=True)
class Pair:
    """One product (or price) of A and the one of B in its place, and their common label."""

    first: str
    second: str
    label: str


@dataclass(frozen=True)
class GroupedDiff:
    """`differ`: settings that differ once ids are paired (labels in names and values);
    `ids_only`: rows that differ only by the paired ids (raw names and values);
    `pairs`: the pairing, for the legend."""

    differ: list[Change]
    ids_only: list[Change]
    pairs: list[Pair]


def _product_label(first: str, second: str, index: int) -> str:
    if first == second:
        return first
    for ref in (first, second):
        if ref.startswith(DECLARED):
            return ref.removeprefix(DECLARED)
    return f"plan {index + 1}"


def _price_label(product: str, first: str, second: str, index: int) -> str:
    if first == second:
        return first
    for ref in (first, second):
        if ref.startswith(DECLARED):
            return f"{product}/{ref.rsplit('/', 1)[-1]}"
    return f"{product}/price {index + 1}"


def _list(rows: Mapping[str, Any], key: str) -> list[str]:
    value = rows.get(key, [])
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def pair_ids(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[Pair]:
    """Products paired by position in the plan-switching list, then each pair's prices."""
    pairs: list[Pair] = []
    products = zip(_list(first, PRODUCTS), _list(second, PRODUCTS), strict=False)
    for index, (a, b) in enumerate(products):
        label = _product_label(a, b, index)
        pairs.append(Pair(a, b, label))
        prices_a = _list(first, f"{PRODUCTS}[{a}].prices")
        prices_b = _list(second, f"{PRODUCTS}[{b}].prices")
        for j, (pa, pb) in enumerate(zip(prices_a, prices_b, strict=False)):
            pairs.append(Pair(pa, pb, _price_label(label, pa, pb, j)))
    return pairs


def relabel(rows: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """`rows` with every paired id replaced by its label, in setting names and in values."""

    def name(setting: str) -> str:
        for ref, label in labels.items():
            setting = setting.replace(f"[{ref}]", f"[{label}]")
        return setting

    def value(item: Any) -> Any:
        if isinstance(item, str):
            return labels.get(item, item)
        if isinstance(item, list):
            return [value(element) for element in item]
        return item

    return {name(setting): value(item) for setting, item in rows.items()}


def _catalog_product(setting: str) -> str:
    return setting.removeprefix(CATALOG).split(".", 1)[0]


def group(first: Mapping[str, Any], second: Mapping[str, Any]) -> GroupedDiff:
    """Split the differences between two stacks' rows: real differences, and paired ids."""
    pairs = pair_ids(first, second)
    labels_a = {p.first: p.label for p in pairs}
    labels_b = {p.second: p.label for p in pairs}
    # A catalog product of one side whose declared id is paired with the other side's product.
    paired_catalog = {
        ref.removeprefix(DECLARED)
        for p in pairs
        for ref, other in ((p.first, p.second), (p.second, p.first))
        if ref.startswith(DECLARED) and "/" not in ref and ref != other
    }

    def from_elsewhere(change: Change) -> bool:
        return (
            change.setting.startswith(CATALOG)
            and _catalog_product(change.setting) in paired_catalog
            and (change.old is ABSENT or change.new is ABSENT)
        )

    raw = compare(first, second)
    ids_only = [c for c in raw if from_elsewhere(c)]
    catalog_moved = {c.setting for c in ids_only}
    rest_a = {k: v for k, v in first.items() if k not in catalog_moved}
    rest_b = {k: v for k, v in second.items() if k not in catalog_moved}
    relabelled_a, relabelled_b = relabel(rest_a, labels_a), relabel(rest_b, labels_b)
    differ = compare(relabelled_a, relabelled_b)
    for change in raw:
        if change.setting in catalog_moved:
            continue
        key_a = relabel({change.setting: None}, labels_a)
        key_b = relabel({change.setting: None}, labels_b)
        name = next(iter(key_a if change.setting in first else key_b))
        if same(relabelled_a.get(name, ABSENT), relabelled_b.get(name, ABSENT)):
            ids_only.append(change)
    ids_only.sort(key=lambda c: list(first).index(c.setting) if c.setting in first else 10**6)
    return GroupedDiff(
        differ=differ, ids_only=ids_only, pairs=[p for p in pairs if p.first != p.second]
    )
