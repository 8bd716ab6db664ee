"""The Stripe side of a stack: its Customer Portal configuration (and declared products/prices),
and its branding images.

`StripePortal` maps the portal spec onto `pulumi_stripe.PortalConfiguration` through an explicit
Stripe provider whose key is a Pulumi secret. The fields pulumi-stripe cannot set
(`stackspec.portal_fields.PATHS`) are applied on that configuration by the `PortalFields` dynamic
resource (`infra.portal_fields`), through the same mapping the review tools use; `retire()` adds
the resource that deactivates a replaced (or destroyed) configuration. The branding images are
uploaded through the same provider (`infra.branding`); a named connected account gets the
branding through the Accounts API (`infra.connected_branding`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_stripe as stripe

from infra.branding import upload_images
from infra.connected_branding import ConnectedAccountBranding
from infra.portal_fields import PortalFields, PortalRetirement, sent_hash
from stackspec.branding_spec import dashboard_step
from stackspec.declared import (
    declared_price_ref,
    declared_product_ref,
    price_params,
    product_params,
    substitute,
)
from stackspec.function_contract import checkout_prices, portal_prices
from stackspec.portal_fields import PATHS, declared_fields, without_fields
from stackspec.portal_spec import portal_spec, spec_hash
from stackspec.settings import Settings


@dataclass(frozen=True)
class PortalArgs:
    settings: Settings
    api_key: pulumi.Input[str]  # the Stripe key Pulumi manages the portal with; a secret


def configuration_args(spec: Mapping[str, Any], *, active: bool) -> dict[str, Any]:
    """`pulumi_stripe.PortalConfiguration` arguments for the part of a spec it can manage."""
    features = spec["features"]
    customer = features["customer_update"]
    cancel = features["subscription_cancel"]
    update = features["subscription_update"]
    reason = cancel.get("cancellation_reason")
    return {
        "active": active,
        "business_profile": stripe.PortalConfigurationBusinessProfileArgs(
            **spec.get("business_profile", {})
        ),
        "default_return_url": spec.get("default_return_url"),
        "login_page": stripe.PortalConfigurationLoginPageArgs(
            enabled=spec["login_page"]["enabled"]
        ),
        "metadata": dict(spec["metadata"]),
        "features": stripe.PortalConfigurationFeaturesArgs(
            customer_update=stripe.PortalConfigurationFeaturesCustomerUpdateArgs(
                enabled=customer["enabled"], allowed_updates=customer.get("allowed_updates")
            ),
            invoice_history=stripe.PortalConfigurationFeaturesInvoiceHistoryArgs(
                enabled=features["invoice_history"]["enabled"]
            ),
            payment_method_update=stripe.PortalConfigurationFeaturesPaymentMethodUpdateArgs(
                enabled=features["payment_method_update"]["enabled"]
            ),
            subscription_cancel=stripe.PortalConfigurationFeaturesSubscriptionCancelArgs(
                enabled=cancel["enabled"],
                mode=cancel.get("mode"),
                proration_behavior=cancel.get("proration_behavior"),
                cancellation_reason=(
                    stripe.PortalConfigurationFeaturesSubscriptionCancelCancellationReasonArgs(
                        enabled=reason["enabled"], options=reason["options"]
                    )
                    if reason
                    else None
                ),
            ),
            subscription_updates=[
                stripe.PortalConfigurationFeaturesSubscriptionUpdateArgs(
                    enabled=update["enabled"],
                    default_allowed_updates=update.get("default_allowed_updates", []),
                    proration_behavior=update.get("proration_behavior"),
                    products=[
                        stripe.PortalConfigurationFeaturesSubscriptionUpdateProductArgs(
                            product=product["product"], prices=product["prices"]
                        )
                        for product in update.get("products", [])
                    ],
                )
            ],
        ),
    }


class StripePortal(pulumi.ComponentResource):
    """A stack's portal configuration in Stripe, with the products it declares."""

    configuration_id: pulumi.Output[str]  # once the fields pulumi-stripe cannot set are applied
    product_ids: pulumi.Output[dict[str, str]]
    portal_prices: pulumi.Output[str]  # the function's PORTAL_PRICES, with the real price ids
    checkout_prices: pulumi.Output[str]  # its CHECKOUT_PRICES: what Checkout sells, by real ids
    fields: pulumi.Output[dict[str, Any]]  # those fields, as applied
    branding_file_ids: pulumi.Output[dict[str, str]]
    branding_dashboard_step: pulumi.Output[str]
    connected_branding: pulumi.Output[dict[str, Any]]
    spec_hash: str
    field_paths: tuple[str, ...]

    def __init__(
        self, name: str, args: PortalArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("billing-portal:stripe:Portal", name, None, opts)
        settings = args.settings
        provider = stripe.Provider(
            f"{name}-stripe",
            api_key=pulumi.Output.secret(args.api_key),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_stripe = pulumi.ResourceOptions(parent=self, provider=provider)
        self.provider = provider  # the stack's other Stripe resources use it too (infra.webhook)
        ids = self._declare_products(name, settings, in_stripe)
        self.declared_ids = ids  # each declared product's and price's own id (infra.features)

        spec = portal_spec(settings)
        self.spec_hash = spec_hash(spec)
        self.field_paths = PATHS
        self._api_key = args.api_key
        self.product_ids = pulumi.Output.from_input(ids)
        # What the portal sells, for the function to hold deep links to: Pulumi's price ids.
        self.portal_prices = self.product_ids.apply(lambda known: portal_prices(settings, known))
        self.checkout_prices = self.product_ids.apply(
            lambda known: checkout_prices(settings, known)
        )
        active = settings.portal.active
        sent = self.product_ids.apply(lambda known: without_fields(substitute(spec, known)))
        configuration = stripe.PortalConfiguration(
            f"{name}-configuration",
            **configuration_args(substitute(spec, ids), active=active),
            opts=in_stripe,
        )
        applied = PortalFields(
            f"{name}-fields",
            configuration_id=configuration.id,
            fields=self.product_ids.apply(lambda known: declared_fields(substitute(spec, known))),
            sent_hash=sent.apply(lambda params: sent_hash({"active": active, **params})),
            api_key=args.api_key,
            active=active,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[configuration]),
        )
        self.configuration_id = applied.configuration_id
        self.fields = applied.fields
        self._declare_branding(name, settings, args.api_key, in_stripe)
        self.register_outputs(
            {
                "configurationId": self.configuration_id,
                "productIds": self.product_ids,
                "brandingFileIds": self.branding_file_ids,
                "specHash": self.spec_hash,
                "fields": self.fields,
            }
        )

    def retire(self, name: str, *, after: list[pulumi.Resource]) -> PortalRetirement:
        """The resource that deactivates this stack's previous configuration once `after` (the
        function that names the configuration) is updated, and the current one on destroy."""
        return PortalRetirement(
            f"{name}-retirement",
            configuration_id=self.configuration_id,
            api_key=self._api_key,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _declare_branding(
        self,
        name: str,
        settings: Settings,
        api_key: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        branding = settings.branding
        self.branding_file_ids = pulumi.Output.from_input(upload_images(name, branding, opts))
        self.branding_dashboard_step = self.branding_file_ids.apply(
            lambda ids: dashboard_step(branding, ids)
        )
        self.connected_branding = pulumi.Output.from_input({})
        if branding.connected_account:
            applied = ConnectedAccountBranding(
                f"{name}-connected-branding",
                branding,
                api_key=api_key,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.connected_branding = pulumi.Output.from_input(
                {
                    "account": applied.account,
                    "icon": applied.icon,
                    "logo": applied.logo,
                    "primary_color": applied.primary_color,
                    "secondary_color": applied.secondary_color,
                }
            )

    def _declare_products(
        self, name: str, settings: Settings, opts: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Output[str]]:
        ids: dict[str, pulumi.Output[str]] = {}
        for product in settings.products:
            product_ref = declared_product_ref(product.key)
            created = stripe.Product(
                f"{name}-product-{product.key}",
                **product_params(settings.stack, product),
                opts=opts,
            )
            ids[product_ref] = created.id
            for price in product.prices:
                params = price_params(settings.stack, product.key, price)
                recurring = params.pop("recurring")
                ids[declared_price_ref(product.key, price.key)] = stripe.Price(
                    f"{name}-price-{product.key}-{price.key}",
                    product=created.id,
                    recurring=stripe.PriceRecurringArgs(**recurring),
                    **params,
                    opts=opts,
                ).id
        return ids
