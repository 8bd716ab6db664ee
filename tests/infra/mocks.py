"""Pulumi mocks that return what the providers would compute: ids, emails, URLs, versions.

Depends on nothing but `pulumi`, so a test that must not make the repository importable (the
entry-point test) can load this file by its path.
"""

from __future__ import annotations

import pulumi

PORTAL_CONFIGURATION_ID = "bpc_1MockPortalConfiguration"
WEBHOOK_ENDPOINT_ID = "we_1MockWebhookEndpoint"
WEBHOOK_SECRET = "whsec_MockSigningSecret0123456789"  # made up
MOCK_CHANNEL_NUMBER = "4711000000000000001"


class RecordingMocks(pulumi.runtime.Mocks):
    """Returns what a provider would compute: ids, emails, URLs, versions."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        outputs = dict(inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "gcp:serviceaccount/account:Account":
            outputs["email"] = f"{inputs['accountId']}@{inputs['project']}.iam.gserviceaccount.com"
            outputs["name"] = f"projects/{inputs['project']}/serviceAccounts/{outputs['email']}"
        elif args.typ == "gcp:artifactregistry/repository:Repository":
            resource_id = (
                f"projects/{inputs['project']}/locations/{inputs['location']}"
                f"/repositories/{inputs['repositoryId']}"
            )
        elif args.typ == "gcp:cloudfunctionsv2/function:Function":
            # The v2 API's `url` is the deterministic cloudfunctions.net address; the Cloud Run
            # service's own URL (random hash) is `serviceConfig.uri`.
            outputs["url"] = (
                f"https://{inputs['location']}-{inputs['project']}.cloudfunctions.net/"
                f"{inputs['name']}"
            )
            outputs["serviceConfig"] = {
                **inputs.get("serviceConfig", {}),
                "uri": f"https://{inputs['name']}-mock-{inputs['location']}.a.run.app",
            }
        elif args.typ == "gcp:secretmanager/secret:Secret":
            resource_id = f"projects/{inputs['project']}/secrets/{inputs['secretId']}"
        elif args.typ == "gcp:secretmanager/secretVersion:SecretVersion":
            outputs["version"] = "1"
        elif args.typ == "gcp:storage/bucket:Bucket":
            outputs["name"] = f"{args.name}-7d1e2f3"
        elif args.typ == "gcp:monitoring/notificationChannel:NotificationChannel":
            # Google names a channel by a number it picks; the provider's `name` is the full path.
            resource_id = f"projects/{inputs['project']}/notificationChannels/{MOCK_CHANNEL_NUMBER}"
            outputs["name"] = resource_id
        elif args.typ == "gcp:monitoring/alertPolicy:AlertPolicy":
            resource_id = f"projects/{inputs['project']}/alertPolicies/{args.name}-0001"
            outputs["name"] = resource_id
        elif args.typ == "stripe:index/portalConfiguration:PortalConfiguration":
            resource_id = PORTAL_CONFIGURATION_ID
        elif args.typ == "stripe:index/product:Product":
            resource_id = f"prod_mock_{args.name.rsplit('-', 1)[-1]}"
        elif args.typ == "stripe:index/price:Price":
            # Stripe ids are letters, digits and `_`: the resource name's `-` would not be one.
            resource_id = f"price_mock_{args.name.split('price-', 1)[-1].replace('-', '_')}"
        elif args.typ == "stripe:index/webhookEndpoint:WebhookEndpoint":
            resource_id = WEBHOOK_ENDPOINT_ID
            outputs["secret"] = WEBHOOK_SECRET  # Stripe returns it on creation only
        elif args.typ == "stripe:index/entitlementsFeature:EntitlementsFeature":
            resource_id = f"feat_mock_{inputs['lookupKey']}"
        elif args.typ == "stripe:index/productFeature:ProductFeature":
            resource_id = f"prodft_mock_{args.name.split('-', 1)[-1].replace('.', '_')}"
        elif args.typ == "stripe:index/file:File":
            resource_id = f"file_mock_{args.name.rsplit('-', 1)[-1]}"
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        return {}, None
