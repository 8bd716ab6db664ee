"""The stack's features in the Stripe stand-in: what `pulumi up` creates for `features` and the
products' `features` lists (infra/features.py), so that the local run's users get the dev stack's
entitlements when they subscribe.

One feature per declared feature, one attachment per (product, feature), from the same stack
model (`stackspec.features_settings`). A product named by id (`productFeatures`) that the stand-in
does not have yet gets a stand-in product of that id, as the portal's plan-switching products do.
"""

from __future__ import annotations

from collections.abc import Mapping

import stripe

from stackspec.declared import DECLARED, MANAGED_BY
from stackspec.settings import Settings


def create_stack_features(
    client: stripe.StripeClient, settings: Settings, ids: Mapping[str, str]
) -> dict[str, str]:
    """Create the stack's features (an existing feature of the same lookup key is reused) and
    attach them; `ids` maps `declared:<name>` to the stand-in's product ids (a product that does
    not exist yet is made under that id). Returns {lookup key: feature id}."""
    features = settings.features
    created = {
        feature.lookup_key: _feature_id(client, settings.stack, feature.lookup_key, feature.name)
        for feature in features.features
    }
    for product, lookup_key in features.attachments:
        product_id = ids[product] if product.startswith(DECLARED) else product
        _ensure_product(client, product_id)
        client.v1.products.features.create(
            product_id, params={"entitlement_feature": created[lookup_key]}
        )
    return created


def _feature_id(client: stripe.StripeClient, stack: str, lookup_key: str, name: str) -> str:
    """The account's feature of that lookup key (one account may hold several stacks' catalogs,
    and a lookup key is unique in it), created if it has none."""
    found = client.v1.entitlements.features.list(params={"lookup_key": lookup_key}).data
    if found:
        return str(found[0].id)
    return client.v1.entitlements.features.create(
        params={
            "lookup_key": lookup_key,
            "name": name,
            "metadata": {"managed-by": MANAGED_BY, "stack": stack},
        }
    ).id


def _ensure_product(client: stripe.StripeClient, product_id: str) -> None:
    try:
        client.v1.products.retrieve(product_id)
    except stripe.InvalidRequestError:
        client.v1.products.create(params={"id": product_id, "name": f"{product_id} (stand-in)"})
