"""Restricted keys' permissions: which resource a request needs, and Stripe's 403 without it.

A restricted key (`rk_…`) carries one permission per resource — none, `read` or `write` (write
includes read) — and Stripe refuses any other request with a 403 before the endpoint runs:
nothing is read, created or looked up, so even an unknown id is refused, not `resource_missing`.
The refusal is Stripe's: 403, `type` `invalid_request_error`, no `code`, and the message "The
provided key 'rk_test_…' does not have the required permissions for this endpoint on account
'acct_…'. Having the 'rak_…' permission would allow this request to continue." (as Stripe's
answers quoted in stripe/stripe-node#2246 and tylerjrichards/st-paywall#36).

The stand-in names a resource by the first segment of the URL after `/v1/` (`customers`,
`billing_portal`, `subscriptions`, `entitlements`, `charges`, …; `GET /v1/account` is
`account`; Checkout's `/v1/checkout/sessions` is `checkout_sessions`, Stripe's "Checkout Sessions"
permission; a product's features, `/v1/products/{id}/features`, are `products`); Stripe's own
permission names differ a little (singular: `rak_subscription_read` in the answer quoted above),
its split is by resource too. Nothing reads the name: `review verify` goes by the status. A key
given no permissions (`KeyRing.restrict`) may do anything, as every key could before.
"""

from __future__ import annotations

from collections.abc import Mapping

from local.stripe.core.errors import StripeError

LEVELS = ("read", "write")


def resource_of(path: str) -> str:
    """The resource a request path touches: `/v1/customers/cus_1` → `customers`."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[:2] == ["v1", "checkout"]:
        return f"checkout_{parts[2]}"  # Stripe's "Checkout Sessions" permission, its own resource
    if len(parts) >= 2 and parts[0] == "v1":
        return "accounts" if parts[1] == "account" else parts[1]
    return parts[0] if parts else ""


def level_of(method: str) -> str:
    """`read` for GET, `write` for anything that changes something (POST, DELETE)."""
    return "read" if method.upper() in ("GET", "HEAD") else "write"


def check_permissions(
    permissions: Mapping[str, str] | None,
    masked_key: str,
    method: str,
    path: str,
    account_id: str | None = None,
) -> None:
    """Raise the 403 Stripe sends when a restricted key's permissions do not cover the request
    (`permissions` None: the key is not restricted by the stand-in). Stripe's message names the
    account the key belongs to (`account_id`)."""
    if permissions is None:
        return
    resource, needed = resource_of(path), level_of(method)
    granted = permissions.get(resource)
    if granted == "write" or granted == needed:
        return
    on_account = f" on account '{account_id}'" if account_id else ""
    raise StripeError(
        403,
        f"The provided key '{masked_key}' does not have the required permissions for this "
        f"endpoint{on_account}. Having the 'rak_{resource}_{needed}' permission would allow this "
        "request to continue.",
        idempotent_result=False,
    )


def valid_permissions(permissions: object) -> dict[str, str]:
    """`{resource: "read" | "write"}`, checked; `ValueError` naming what is wrong."""
    if not isinstance(permissions, dict):
        raise ValueError("'permissions' must be an object of resource: read|write")
    for resource, level in permissions.items():
        if not isinstance(resource, str) or level not in LEVELS:
            raise ValueError(f"permission {resource!r}: {level!r} is not one of {LEVELS}")
    return dict(permissions)
