"""Features as code: one Stripe Entitlements feature per declared feature, and one product
feature (an attachment) per (product, feature) a plan grants.

Resource names are stable URNs (tests/infra/resource_urns.txt): `features-<lookup key>` for a
feature, `features-<product>.<lookup key>` for an attachment, where `<product>` is the declared
product's name or the product's `prod_…` id. Neither a product name nor an id holds a `.`, so no
two attachments share a name. Removing a key from a product's list removes its attachment (the
resource disappears, `pulumi up` deletes it); renaming a lookup key makes a new feature, because
Stripe never changes a feature's lookup key.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_stripe as stripe

from stackspec.declared import DECLARED, MANAGED_BY
from stackspec.features_settings import FeatureSettings

COMPONENT = "billing-portal:stripe:Features"


def feature_name(name: str, lookup_key: str) -> str:
    """The resource name of a feature."""
    return f"{name}-{lookup_key}"


def attachment_name(name: str, product: str, lookup_key: str) -> str:
    """The resource name of a product feature: `product` is `declared:<name>` or `prod_…`."""
    return f"{name}-{product.removeprefix(DECLARED)}.{lookup_key}"


class StripeFeatures(pulumi.ComponentResource):
    """A stack's entitlement features and the products that grant them."""

    feature_ids: pulumi.Output[dict[str, str]]  # lookup key → feat_…

    def __init__(
        self,
        name: str,
        stack: str,
        features: FeatureSettings,
        product_ids: Mapping[str, pulumi.Input[str]],
        provider: stripe.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`product_ids` maps each `declared:<name>` to the id Pulumi gives that product."""
        super().__init__(COMPONENT, name, None, opts)
        in_stripe = pulumi.ResourceOptions(parent=self, provider=provider)
        created = {
            feature.lookup_key: stripe.EntitlementsFeature(
                feature_name(name, feature.lookup_key),
                lookup_key=feature.lookup_key,
                name=feature.name,
                metadata={"managed-by": MANAGED_BY, "stack": stack},
                opts=in_stripe,
            )
            for feature in features.features
        }
        for product, lookup_key in features.attachments:
            product_id = product_ids[product] if product.startswith(DECLARED) else product
            stripe.ProductFeature(
                attachment_name(name, product, lookup_key),
                product=product_id,
                entitlements_feature=created[lookup_key].id,
                opts=in_stripe,
            )
        self.feature_ids = pulumi.Output.from_input(
            {key: feature.id for key, feature in created.items()}
        )
        self.register_outputs({"featureIds": self.feature_ids})
