"""Branding of a Connect platform's connected account, applied through Stripe's Accounts API.

pulumi-stripe has no Account resource, so this is a small `pulumi.dynamic.Resource`: its
provider uploads the icon and logo *as the connected account* (`Stripe-Account` header, so the
files belong to the account whose settings name them) and sets `settings[branding]` with
`POST /v1/accounts/{id}`. `pulumi refresh` reads the account back, so a change made elsewhere
shows up and the next `pulumi up` puts the declared branding back. Deleting the resource leaves
the account's branding as it is: Stripe's API cannot unset these fields.

Pulumi pickles the provider (with dill) into the state and runs it in a separate process that
may not be able to import this repository's modules. The provider class is therefore built
inside `make_provider()`, which makes dill serialize it by value, and its methods use only the
standard library, `stripe` and `pulumi` (both installed from requirements.txt).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Literal

import pulumi
from pulumi.dynamic import ResourceProvider

from stackspec.branding_settings import BrandingSettings

if TYPE_CHECKING:
    # For the checker only: the provider's methods import `stripe` where they run (see above).
    import stripe
    from stripe.params import AccountUpdateParamsSettingsBranding

# Inputs (and outputs) that decide what the account's branding is.
BRANDING_KEYS = ("account", "icon_sha256", "logo_sha256", "primary_color", "secondary_color")


def make_provider() -> ResourceProvider:
    """The provider: create/update apply the branding, diff compares it, read fetches it."""
    from pulumi.dynamic import (
        CreateResult,
        DiffResult,
        ReadResult,
        ResourceProvider,
        UpdateResult,
    )

    keys = BRANDING_KEYS
    purposes: dict[Literal["icon", "logo"], str] = {
        "icon": "business_icon",
        "logo": "business_logo",
    }

    def client(props: dict[str, Any]) -> stripe.StripeClient:
        import stripe

        base = props.get("api_base") or None
        return stripe.StripeClient(
            props["api_key"],
            base_addresses={"api": base, "files": base} if base else None,
            max_network_retries=2,
        )

    def same(key: str, old: Any, new: Any) -> bool:
        if key.endswith("_color") and isinstance(old, str) and isinstance(new, str):
            return old.lower() == new.lower()  # CSS hex colours are case-insensitive
        return bool(old == new)

    def changed(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return [key for key in keys if not same(key, olds.get(key), news.get(key))]

    def upload(
        stripe_client: stripe.StripeClient, props: dict[str, Any], field: Literal["icon", "logo"]
    ) -> str:
        import base64
        import io

        content = io.BytesIO(base64.b64decode(props[f"{field}_content"]))
        content.name = props[f"{field}_filename"]  # the SDK sends it as the part's file name
        uploaded = stripe_client.v1.files.create(
            params={"purpose": purposes[field], "file": content},
            options={"stripe_account": props["account"]},
        )
        return uploaded.id

    def apply(props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        stripe_client = client(props)
        outs = {key: props.get(key) for key in (*keys, "api_key", "api_base")}
        branding: AccountUpdateParamsSettingsBranding = {}
        for field in purposes:
            if not props.get(f"{field}_sha256"):
                outs[field] = None
                continue
            unchanged = olds is not None and olds.get(f"{field}_sha256") == props[f"{field}_sha256"]
            file_id = olds.get(field) if unchanged and olds else None
            outs[field] = branding[field] = file_id or upload(stripe_client, props, field)
        if props.get("primary_color"):
            branding["primary_color"] = props["primary_color"]
        if props.get("secondary_color"):
            branding["secondary_color"] = props["secondary_color"]
        stripe_client.v1.accounts.update(
            props["account"], params={"settings": {"branding": branding}}
        )
        return outs

    class ConnectedBrandingProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            return CreateResult(id_=props["account"], outs=apply(props, None))

        def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
            differences = changed(olds, news)
            return DiffResult(
                changes=bool(differences),
                replaces=["account"] if "account" in differences else [],
                delete_before_replace=False,
            )

        def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            previous = olds if olds.get("account") == news.get("account") else None
            return UpdateResult(outs=apply(news, previous))

        def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
            account = client(props).v1.accounts.retrieve(id_)
            live = (account.to_dict().get("settings") or {}).get("branding") or {}
            outs = dict(props)
            for color in ("primary_color", "secondary_color"):
                outs[color] = live.get(color)
            for field in purposes:
                if live.get(field) != props.get(field):
                    # Another file than the one applied: its content is unknown, so the next
                    # diff sees a change and `pulumi up` uploads the declared image again.
                    outs[field] = live.get(field)
                    outs[f"{field}_sha256"] = None
            return ReadResult(id_=id_, outs=outs)

        def delete(self, _id: str, _props: dict[str, Any]) -> None:
            """Stripe's API cannot unset branding fields; the account keeps its branding."""

    return ConnectedBrandingProvider()


def provider_inputs(branding: BrandingSettings) -> dict[str, Any]:
    """The resource's plain inputs for a stack's branding (the key is added separately)."""
    inputs: dict[str, Any] = {
        "account": branding.connected_account,
        "primary_color": branding.primary_color,
        "secondary_color": branding.secondary_color,
    }
    for field, image in (("icon", branding.icon), ("logo", branding.logo)):
        inputs[f"{field}_sha256"] = image.sha256 if image else None
        inputs[f"{field}_filename"] = image.upload_name if image else None
        inputs[f"{field}_content"] = base64.b64encode(image.data).decode("ascii") if image else None
    return inputs


class ConnectedAccountBranding(pulumi.dynamic.Resource, module="stripe", name="AccountBranding"):
    """The declared branding, applied to `branding.connected_account`."""

    account: pulumi.Output[str]
    icon: pulumi.Output[str | None]
    logo: pulumi.Output[str | None]
    primary_color: pulumi.Output[str | None]
    secondary_color: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        branding: BrandingSettings,
        api_key: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            **provider_inputs(branding),
            "api_key": pulumi.Output.secret(api_key),
            "api_base": None,  # Stripe itself; tests point the provider at the stand-in
            "icon": None,
            "logo": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["api_key"])
        super().__init__(make_provider(), name, inputs, pulumi.ResourceOptions.merge(opts, secret))
