"""The branding a stack declares, as Stripe's `settings.branding` fields: pure, shared by the
Pulumi program (uploads, the connected account, the Dashboard instructions) and the review tools
(plan rows, drift).

Stripe's API cannot set an account's own branding (only a platform's connected accounts', through
`POST /v1/accounts/{id}`), so for the stack's own account the program uploads the images and
states the one manual step, `dashboard_step`, with the exact values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from stackspec.branding_settings import BrandImage, BrandingSettings

if TYPE_CHECKING:  # the SDK's parameter types, for the checker only
    from stripe.params import AccountUpdateParams, AccountUpdateParamsSettingsBranding

BrandingField = Literal["icon", "logo", "primary_color", "secondary_color"]
# Stripe's `settings.branding` fields, in the order the Dashboard shows them.
FIELDS: tuple[BrandingField, ...] = ("icon", "logo", "primary_color", "secondary_color")
FILE_FIELDS = ("icon", "logo")
DASHBOARD_PAGE = "Stripe Dashboard → Settings → Business → Branding"
DASHBOARD_LABELS = {
    "icon": "Icon",
    "logo": "Logo",
    "primary_color": "Brand color",
    "secondary_color": "Accent color",
}
ROWS = "branding."  # prefix of the plan rows of the branding


def declared_fields(branding: BrandingSettings) -> dict[BrandingField, BrandImage | str]:
    """The `settings.branding` fields the stack declares: images and colours, by Stripe name."""
    values: dict[BrandingField, BrandImage | str | None] = {
        "icon": branding.icon,
        "logo": branding.logo,
        "primary_color": branding.primary_color,
        "secondary_color": branding.secondary_color,
    }
    return {name: value for name, value in values.items() if value is not None}


def describe_image(image: BrandImage) -> str:
    """How an image appears in reports: its path and the start of its content hash."""
    return f"{image.path} (sha256 {image.sha256[:12]})"


def branding_rows(branding: BrandingSettings) -> dict[str, Any]:
    """Plan rows of the branding: `branding.icon`, …, `branding.connected_account`.

    An image row names the file and its content hash, so replacing an image's content shows
    as a change."""
    rows: dict[str, Any] = {}
    for name, value in declared_fields(branding).items():
        rows[ROWS + name] = describe_image(value) if isinstance(value, BrandImage) else value
    if branding.connected_account:
        rows[ROWS + "connected_account"] = branding.connected_account
    return rows


def account_params(branding: BrandingSettings, file_ids: Mapping[str, str]) -> AccountUpdateParams:
    """`POST /v1/accounts/{id}` parameters that set the declared branding (images by file id)."""
    fields: AccountUpdateParamsSettingsBranding = {}
    for name, value in declared_fields(branding).items():
        fields[name] = file_ids[name] if isinstance(value, BrandImage) else value
    return {"settings": {"branding": fields}}


def dashboard_value(name: str, value: BrandImage | str, file_id: str | None = None) -> str:
    """What to do for one field on the Dashboard's branding page."""
    label = DASHBOARD_LABELS[name]
    if isinstance(value, BrandImage):
        uploaded = f" (Pulumi uploaded it as {file_id})" if file_id else ""
        return f"{label}: upload {value.path}{uploaded}"
    return f"{label}: {value}"


def dashboard_step(branding: BrandingSettings, file_ids: Mapping[str, str]) -> str:
    """The manual step for the stack's own account, one line per field ('' when none)."""
    fields = declared_fields(branding)
    if not fields:
        return ""
    lines = [f"{DASHBOARD_PAGE} (the same account and mode as this stack's Stripe key):"]
    lines += [
        f"  {dashboard_value(name, value, file_ids.get(name))}" for name, value in fields.items()
    ]
    return "\n".join(lines)
