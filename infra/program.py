"""The whole stack, composed: settings → Stripe portal and webhook endpoint → function source →
Google Cloud service.

Dependencies: the webhook endpoint's URL comes from the settings (the webhook function's
deterministic address, `stackspec.webhook_spec`), not from the function, so the graph has no
cycle: endpoint → its signing secret → Secret Manager version → webhook function.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra.archive import build_archive
from infra.features import StripeFeatures
from infra.health import ServiceHealth
from infra.portal import PortalArgs, StripePortal
from infra.service import PortalService, ServiceArgs
from infra.webhook import StripeWebhook
from stackspec.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "function"
BUILD_DIR = REPO_ROOT / "build"


def build(
    settings: Settings, *, function_dir: Path = FUNCTION_DIR, build_dir: Path = BUILD_DIR
) -> dict[str, pulumi.Input]:
    """Declare every resource of the stack; returns the stack outputs."""
    if settings.stripe_secret_key is None or settings.stripe_secret_key.value is None:
        raise ValueError("the Pulumi program needs the stack's decrypted stripeSecretKey")
    management_key = settings.stripe_management_key
    portal = StripePortal("portal", PortalArgs(settings, api_key=management_key.value))
    webhook = StripeWebhook("webhook", settings, portal.provider)
    features = StripeFeatures(
        "features", settings.stack, settings.features, portal.declared_ids, portal.provider
    )
    source = build_archive(function_dir, build_dir)
    service = PortalService(
        "service",
        ServiceArgs(
            settings,
            source=source,
            portal_configuration_id=portal.configuration_id,
            portal_prices=portal.portal_prices,
            checkout_prices=portal.checkout_prices,
            stripe_secret_key=pulumi.Output.secret(settings.stripe_secret_key.value),
            webhook_secret=webhook.secret,
        ),
    )
    health = ServiceHealth("health", settings, apis=service.apis)
    # Deactivates a replaced configuration only once the function names the new one.
    portal.retire("portal", after=[service])
    return {
        "functionUrl": service.url,
        "portalConfigurationId": portal.configuration_id,
        "serviceAccountEmail": service.service_account_email,
        "buildServiceAccountEmail": service.build_service_account_email,
        "webhookUrl": webhook.url,
        "webhookEndpointId": webhook.endpoint_id,
        "webhookServiceAccountEmail": service.webhook_service_account_email,
        "customersCollection": settings.customers_collection,
        "firestoreDatabase": settings.firestore.database,
        "functionSourceObject": service.source_object,
        "portalSpecHash": portal.spec_hash,
        "portalFields": portal.fields,
        "stripeProductIds": portal.product_ids,
        "stripeFeatureIds": features.feature_ids,
        "brandingFileIds": portal.branding_file_ids,
        "brandingDashboardStep": portal.branding_dashboard_step,
        "connectedAccountBranding": portal.connected_branding,
        "production": settings.production,
        "alertNotificationChannels": health.notification_channels,
        "alertPolicies": health.policy_names,
    }
