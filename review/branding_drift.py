"""Branding drift: an account's live `settings.branding` compared with what the stack declares.

Pure: the live values and file contents are read by `review.stripe_live`; this module decides,
field by field, whether they match and what to do when they do not.

- Colours match when equal ignoring case (`#0A2540` is `#0a2540`).
- An image matches when the live file is the one Pulumi uploaded (its id is in the stack output
  `brandingFileIds`, passed as `--branding-file-ids`), or else when the live file's content is
  the declared image byte for byte (same sha256): the Dashboard step uploads the image again, so
  the account's file id is normally not Pulumi's.
- A field the stack declares but the account does not have set is drift.

The stack's own account can only be fixed in the Dashboard (Stripe's API cannot set it); a
connected account (`branding.connectedAccount`) is Pulumi's, so `pulumi up --refresh` fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackspec.branding_settings import BrandImage, BrandingSettings
from stackspec.branding_spec import (
    DASHBOARD_PAGE,
    FILE_FIELDS,
    dashboard_value,
    declared_fields,
    describe_image,
)


@dataclass(frozen=True)
class BrandingCheck:
    """One declared `settings.branding` field of one account, compared with the live value."""

    account: str | None  # None: the key's own account; acct_…: the connected account
    field: str  # icon | logo | primary_color | secondary_color
    declared: str  # the colour, or the image as `describe_image` shows it
    live: str | None  # the live colour or file id; None when not set
    matches: bool
    reason: str  # how the comparison came out, for the report
    fix: str  # what to do when it does not match ('' when it does)

    @property
    def setting(self) -> str:
        """The row name: `branding.icon`, or `branding[acct_…].icon` for a connected account."""
        return (
            f"branding[{self.account}].{self.field}" if self.account else f"branding.{self.field}"
        )


def parse_file_ids(text: str) -> dict[str, str]:
    """The JSON object of `pulumi stack output brandingFileIds --json`; raises ValueError."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"--branding-file-ids is not JSON ({error})") from None
    if (
        not isinstance(value, dict)
        or not set(value) <= set(FILE_FIELDS)
        or not all(isinstance(item, str) and item.startswith("file_") for item in value.values())
    ):
        raise ValueError('--branding-file-ids must be a JSON object {"icon": "file_…", "logo": …}')
    return value


def live_branding(account: Mapping[str, Any]) -> dict[str, Any]:
    """An account object's `settings.branding` (empty when the account has none)."""
    return dict((account.get("settings") or {}).get("branding") or {})


def files_to_inspect(
    branding: BrandingSettings, live: Mapping[str, Any], file_ids: Mapping[str, str]
) -> list[str]:
    """The live file ids whose content must be read: set, declared, not Pulumi's upload."""
    wanted = []
    for field in FILE_FIELDS:
        live_id = live.get(field)
        if getattr(branding, field) is not None and live_id and live_id != file_ids.get(field):
            wanted.append(live_id)
    return list(dict.fromkeys(wanted))


def check_branding(
    branding: BrandingSettings,
    live: Mapping[str, Any],
    *,
    account: str | None = None,
    file_ids: Mapping[str, str] | None = None,
    live_hashes: Mapping[str, str] | None = None,
) -> tuple[BrandingCheck, ...]:
    """Every declared field of `branding` against an account's live `settings.branding`.

    `file_ids`: the files Pulumi uploaded, by field; `live_hashes`: sha256 of the content of
    each live file named by `files_to_inspect`."""
    file_ids = file_ids or {}
    live_hashes = live_hashes or {}
    checks = []
    for field, declared in declared_fields(branding).items():
        value = live.get(field) or None
        if isinstance(declared, BrandImage):
            matches, reason = _image(declared, value, file_ids.get(field), live_hashes)
            shown = describe_image(declared)
        else:
            matches, reason = _color(declared, value)
            shown = declared
        fix = "" if matches else _fix(account, field, declared, file_ids.get(field))
        checks.append(BrandingCheck(account, field, shown, value, matches, reason, fix))
    return tuple(checks)


def _color(declared: str, live: str | None) -> tuple[bool, str]:
    if live is None:
        return False, "not set"
    if live.lower() == declared.lower():
        return True, "same colour"
    return False, "a different colour"


def _image(
    declared: BrandImage, live: str | None, uploaded: str | None, hashes: Mapping[str, str]
) -> tuple[bool, str]:
    if live is None:
        return False, "not set"
    if live == uploaded:
        return True, "the file Pulumi uploaded"
    if hashes.get(live) == declared.sha256:
        return True, "the same image (content identical)"
    found = hashes.get(live)
    return False, f"a different image (sha256 {found[:12]})" if found else "a different image"


def _fix(account: str | None, field: str, declared: BrandImage | str, file_id: str | None) -> str:
    if account:
        return (
            f"`pulumi up --refresh` applies the declared branding to {account} again "
            "(Pulumi manages it)"
        )
    return f"{DASHBOARD_PAGE}: {dashboard_value(field, declared, file_id)}"
