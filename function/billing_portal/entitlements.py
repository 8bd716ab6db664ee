"""A customer's active entitlements as the state document keeps them: sorted lookup keys. Pure.

Stripe's active-entitlements list (`GET /v1/entitlements/active_entitlements?customer=…`, read
by `stripe_api.StripeGateway.customer_entitlements`, every page) is the only source: never an
event's body, whose summary can be older than Stripe's state when it arrives. The app checks a
lookup key (`"export_csv" in state.entitlements`), so the list is kept as a sorted set of keys,
the same bytes for the same entitlements whatever order Stripe lists them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import UpstreamError

MAX_LOOKUP_KEY = 80  # Stripe's limit on a feature's lookup key


def is_lookup_key(value: Any) -> bool:
    """A lookup key as Stripe makes them: a string of 1 to 80 characters."""
    return isinstance(value, str) and 1 <= len(value) <= MAX_LOOKUP_KEY


def entitlement_keys(entitlements: Iterable[Mapping[str, Any]]) -> list[str]:
    """The sorted, distinct lookup keys of Stripe's active entitlements; an entry without a
    lookup key Stripe would make is Stripe's malformed answer (502), never stored."""
    keys: set[str] = set()
    for entitlement in entitlements:
        key = entitlement.get("lookup_key")
        if not is_lookup_key(key):
            raise UpstreamError(
                "Stripe listed an active entitlement without a valid lookup key.",
                code="stripe_malformed",
            )
        keys.add(str(key))
    return sorted(keys)


def is_entitlement_list(value: Any) -> bool:
    """The state document's `entitlements` as the webhook writes it: sorted distinct keys."""
    return (
        isinstance(value, list)
        and all(is_lookup_key(key) for key in value)
        and value == sorted(set(value))
    )
