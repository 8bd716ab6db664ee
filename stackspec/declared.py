"""Resolving `declared:<product>[/<price>]` references in a spec to Stripe ids, for `drift`.

A stack may declare its products and prices in config; the spec then names them by reference
and the Pulumi program substitutes the ids it created. The drift check gets those ids either
from the stack output `stripeProductIds` (`--product-ids`), or from Stripe itself: Pulumi tags
every product and price it creates with metadata (`stackspec.portal_spec.declared_metadata`), so
the products and prices the live configuration names can be recognised by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from stackspec.reader import PROJECT

if TYPE_CHECKING:
    from stripe.params import PriceCreateParams, ProductCreateParams

    from stackspec.portal_settings import DeclaredPrice, DeclaredProduct

DECLARED = "declared:"  # prefix of a reference to a product or price declared in config
MANAGED_BY = f"pulumi/{PROJECT}"


def declared_product_ref(product: str) -> str:
    """The reference to the product declared as `products.<product>`."""
    return f"{DECLARED}{product}"


def declared_price_ref(product: str, price: str) -> str:
    """The reference to the price declared as `products.<product>.prices.<price>`."""
    return f"{DECLARED}{product}/{price}"


def substitute(value: Any, ids: Mapping[str, Any]) -> Any:
    """A copy of a spec with every `declared:` reference replaced by its id from `ids`."""
    if isinstance(value, Mapping):
        return {key: substitute(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, ids) for item in value]
    if isinstance(value, str) and value in ids:
        return ids[value]
    return value


def declared_metadata(stack: str, ref: str) -> dict[str, str]:
    """The metadata Pulumi puts on the Stripe product or price it creates for a `declared:` ref."""
    return {"managed-by": MANAGED_BY, "stack": stack, "key": ref.removeprefix(DECLARED)}


def declared_ref(metadata: Mapping[str, Any], stack: str) -> str | None:
    """The `declared:` ref a Stripe product or price stands for, if this stack's Pulumi made it."""
    if metadata.get("managed-by") != MANAGED_BY or metadata.get("stack") != stack:
        return None
    key = metadata.get("key")
    return f"{DECLARED}{key}" if key else None


def declared_refs(value: Any) -> list[str]:
    """Every `declared:` reference in a spec, in order, each once."""
    found: dict[str, None] = {}
    if isinstance(value, Mapping):
        for item in value.values():
            found.update(dict.fromkeys(declared_refs(item)))
    elif isinstance(value, list):
        for item in value:
            found.update(dict.fromkeys(declared_refs(item)))
    elif isinstance(value, str) and value.startswith(DECLARED):
        found[value] = None
    return list(found)


def parse_product_ids(text: str) -> dict[str, str]:
    """The JSON object of `pulumi stack output stripeProductIds --json`; raises ValueError."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"--product-ids is not JSON ({error})") from None
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise ValueError('--product-ids must be a JSON object {"declared:<name>": "<id>", …}')
    return value


def missing_ids(refs: Iterable[str], ids: Mapping[str, str]) -> list[str]:
    """The references `ids` has no id for."""
    return [ref for ref in refs if ref not in ids]


def ids_from_metadata(stack: str, objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """{`declared:` ref: id} for the Stripe products and prices this stack's Pulumi created."""
    ids: dict[str, str] = {}
    for obj in objects:
        ref = declared_ref(obj.get("metadata") or {}, stack)
        if ref is not None:
            ids[ref] = obj["id"]
    return ids


def referenced_objects(configuration: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(product ids, price ids) a live configuration's plan switching names."""
    update = (configuration.get("features") or {}).get("subscription_update") or {}
    products = update.get("products") or []
    product_ids = [item["product"] for item in products if "product" in item]
    price_ids = [price for item in products for price in item.get("prices") or []]
    return product_ids, price_ids


def product_params(stack: str, product: DeclaredProduct) -> ProductCreateParams:
    """`POST /v1/products` parameters of a declared product (pulumi-stripe's Product takes the
    same names): what `pulumi up`, the local run and the tests create."""
    params: ProductCreateParams = {
        "name": product.name,
        "metadata": declared_metadata(stack, declared_product_ref(product.key)),
    }
    if product.description:
        params["description"] = product.description
    return params


def price_params(stack: str, product_key: str, price: DeclaredPrice) -> PriceCreateParams:
    """`POST /v1/prices` parameters of a declared price, but for `product` (its id is known only
    once the product exists)."""
    params: PriceCreateParams = {
        "currency": price.currency,
        "unit_amount": price.unit_amount,
        "recurring": {"interval": price.interval, "interval_count": price.interval_count},
        "metadata": declared_metadata(stack, declared_price_ref(product_key, price.key)),
    }
    if price.nickname:
        params["nickname"] = price.nickname
    return params
