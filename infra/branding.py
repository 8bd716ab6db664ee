"""The branding images in Stripe: one `pulumi_stripe.File` per declared icon and logo.

They are uploaded through the stack's Stripe provider (its key: stripeAdminKey, else
stripeSecretKey) with Stripe's branding purposes, under the name `BrandImage.upload_name`
(`icon-<sha256 prefix>.png`): changing an image's content replaces the file. Stripe cannot set
the account's own branding through the API, so these uploads are as far as Pulumi goes for it;
`stackspec.branding_spec.dashboard_step` says what to choose in the Dashboard.
"""

from __future__ import annotations

import base64

import pulumi
import pulumi_stripe as stripe

from stackspec.branding_settings import BrandingSettings


def upload_images(
    name: str, branding: BrandingSettings, opts: pulumi.ResourceOptions
) -> dict[str, pulumi.Output[str]]:
    """Upload the declared icon and logo; returns their Stripe file ids by field name."""
    ids: dict[str, pulumi.Output[str]] = {}
    for field, image in (("icon", branding.icon), ("logo", branding.logo)):
        if image is None:
            continue
        uploaded = stripe.File(
            f"{name}-{field}",
            base64content=base64.b64encode(image.data).decode("ascii"),
            filename=image.upload_name,
            purpose=image.purpose,
            opts=opts,
        )
        ids[field] = uploaded.id
    return ids
