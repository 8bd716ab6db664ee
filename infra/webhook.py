"""The stack's Stripe webhook endpoint: where Stripe delivers the events the webhook acts on.

`StripeWebhook` declares one `pulumi_stripe.WebhookEndpoint` through the stack's Stripe provider
(the portal's, so the same key and account), from the pure spec in `stackspec.webhook_spec`: the
webhook function's deterministic URL, exactly the event types the function handles, the API
version its SDK speaks, and metadata naming the stack (the drift check finds it by that).

Its own component, beside the portal rather than inside it: the endpoint depends on the function's
name and region, not on the portal configuration, and it is the one Stripe resource whose output
(the signing secret) flows into Google Cloud. Stripe returns the secret only when it creates the
endpoint; pulumi-stripe keeps it in the state as a secret output, and `PortalService` stores it in
Secret Manager. Deleting the resource deletes the endpoint in Stripe.
"""

from __future__ import annotations

import pulumi
import pulumi_stripe as stripe

from stackspec.settings import Settings
from stackspec.webhook_spec import (
    WEBHOOK_EVENTS,
    webhook_api_version,
    webhook_description,
    webhook_metadata,
    webhook_url,
)


class StripeWebhook(pulumi.ComponentResource):
    """The stack's webhook endpoint in Stripe."""

    endpoint_id: pulumi.Output[str]
    url: pulumi.Output[str]
    secret: pulumi.Output[str]  # a Pulumi secret: the endpoint's `whsec_…` signing secret

    def __init__(
        self,
        name: str,
        settings: Settings,
        provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("billing-portal:stripe:Webhook", name, None, opts)
        endpoint = stripe.WebhookEndpoint(
            f"{name}-endpoint",
            url=webhook_url(settings),
            enabled_events=list(WEBHOOK_EVENTS),
            api_version=webhook_api_version(),
            description=webhook_description(settings.stack),
            metadata=webhook_metadata(settings.stack),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.endpoint_id = endpoint.id
        self.url = endpoint.url
        self.secret = pulumi.Output.secret(endpoint.secret)
        self.register_outputs({"endpointId": self.endpoint_id, "url": self.url})
