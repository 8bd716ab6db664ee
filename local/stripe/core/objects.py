"""What every Stripe object shares: its id's form, and how metadata and nested updates apply.

Functions here take already validated (normalized) parameters; an empty string means "unset".
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A Stripe-looking id such as ``cus_NffrFeUfNV2Hib``."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def merge_metadata(current: dict[str, str], update: dict[str, str] | str) -> dict[str, str]:
    """Stripe's metadata update: keys merge, ``""`` as a value deletes, ``""`` as a whole clears."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Deep-merge ``update`` into ``target``: hashes merge, lists replace, ``""`` unsets."""
    for key, value in update.items():
        current = target.get(key)
        if value == "":
            target[key] = [] if isinstance(current, list) else None
        elif isinstance(value, dict):
            if not isinstance(current, dict):
                current = target[key] = {}
            merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
