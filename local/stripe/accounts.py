"""Connected accounts' branding (``POST /v1/accounts/{id}``): the checks and the update."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from local.stripe.errors import StripeError, resource_missing

_HEX_COLOR = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
BRANDING_FILES = {"icon": "business_icon", "logo": "business_logo"}


def apply_branding(
    account: dict[str, Any],
    branding: dict[str, str],
    file_purpose: Callable[[str], str | None],
) -> None:
    """Set ``settings.branding`` fields; files must exist with the right purpose, colours be
    CSS hex. ``file_purpose(id)`` is the purpose of an uploaded file, None if there is none."""
    for field, value in branding.items():
        param = f"settings[branding][{field}]"
        if field in BRANDING_FILES:
            purpose = file_purpose(value)
            if purpose is None:
                raise resource_missing("file upload", value, param=param, status=400)
            if purpose != BRANDING_FILES[field]:
                raise StripeError(
                    400,
                    f"The file {value} has purpose {purpose}; {param} needs a file uploaded "
                    f"with purpose {BRANDING_FILES[field]}.",
                    param=param,
                )
        elif not _HEX_COLOR.fullmatch(value):
            raise StripeError(400, f"Invalid hex color: {value}", param=param)
    account["settings"]["branding"].update(branding)
