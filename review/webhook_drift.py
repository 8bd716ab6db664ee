"""Webhook drift: the stack's live Stripe webhook endpoint compared with what the stack declares.

Pure: the endpoints are read by `review.stripe_live`; this module finds the stack's one among
them and decides, field by field, whether it is as `stackspec.webhook_spec` declares it:

- `url` — the webhook function's deterministic URL;
- `enabled_events` — exactly the event types the function handles, compared as a set;
- `status` — `enabled` (Stripe disables an endpoint whose deliveries keep failing);
- `api_version` — the version the function's SDK speaks.

The endpoint is recognised by the metadata Pulumi gives it (`managed-by`, `stack`), else by its
URL; none found is drift too: Stripe would deliver the stack's events nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from review.rows import ABSENT
from stackspec.settings import Settings
from stackspec.webhook_spec import (
    ENABLED,
    WEBHOOK_EVENTS,
    webhook_api_version,
    webhook_metadata,
    webhook_url,
)

REPAIR = "`pulumi up --refresh` (Pulumi reads the live endpoint, then puts the declared one back)"
ENDPOINT_ROW = "webhook.endpoint"


class AmbiguousEndpoint(LookupError):
    """More than one live endpoint claims to be the stack's."""


@dataclass(frozen=True)
class WebhookCheck:
    """One declared field of the endpoint, compared with the live value."""

    setting: str  # webhook.url | webhook.enabled_events | webhook.status | webhook.api_version
    declared: Any
    live: Any  # ABSENT when there is no endpoint
    matches: bool
    fix: str  # what to do when it does not match ('' when it does)


@dataclass(frozen=True)
class WebhookDrift:
    """The outcome for the stack's endpoint: which one (None: not found) and its checks."""

    endpoint_id: str | None
    checks: tuple[WebhookCheck, ...]

    @property
    def drift(self) -> tuple[WebhookCheck, ...]:
        return tuple(check for check in self.checks if not check.matches)

    @property
    def drifted(self) -> bool:
        return bool(self.drift)


def expected_endpoint(settings: Settings, url: str | None = None) -> dict[str, Any]:
    """What the live endpoint should hold, by field (`url`: the webhook function's URL where it
    is not the stack's deterministic one, such as a local run's)."""
    return {
        "url": url or webhook_url(settings),
        "enabled_events": sorted(WEBHOOK_EVENTS),
        "status": ENABLED,
        "api_version": webhook_api_version(),
    }


def find_endpoint(
    endpoints: Iterable[Mapping[str, Any]], settings: Settings, url: str | None = None
) -> Mapping[str, Any] | None:
    """The stack's endpoint among the account's: tagged with the stack's metadata (one whose URL
    is the declared one preferred), else the one whose URL is the declared one; None if none.
    Raises `AmbiguousEndpoint` when that still leaves several."""
    endpoints = list(endpoints)
    url = url or webhook_url(settings)
    wanted = webhook_metadata(settings.stack)
    tagged = [
        endpoint
        for endpoint in endpoints
        if all((endpoint.get("metadata") or {}).get(k) == v for k, v in wanted.items())
    ]
    candidates = tagged or [endpoint for endpoint in endpoints if endpoint.get("url") == url]
    if len(candidates) > 1:
        candidates = [endpoint for endpoint in candidates if endpoint.get("url") == url] or (
            candidates
        )
    if len(candidates) > 1:
        ids = ", ".join(str(endpoint.get("id")) for endpoint in candidates)
        raise AmbiguousEndpoint(
            f"{len(candidates)} webhook endpoints are the stack's ({ids}); pass "
            "--webhook-endpoint-id (the stack output webhookEndpointId)"
        )
    return candidates[0] if candidates else None


def check_webhook(
    settings: Settings, endpoint: Mapping[str, Any] | None, url: str | None = None
) -> WebhookDrift:
    """Every declared field of the stack's endpoint against the live one (None: not found);
    `url` as in `expected_endpoint`."""
    expected = expected_endpoint(settings, url)
    if endpoint is None:
        missing = WebhookCheck(
            ENDPOINT_ROW,
            expected["url"],
            ABSENT,
            False,
            f"no endpoint of the stack in this Stripe account and mode: {REPAIR} creates it "
            "(with a new signing secret, which redeploys the webhook function)",
        )
        return WebhookDrift(None, (missing,))
    endpoint_id = str(endpoint.get("id", ""))
    checks = []
    for field, declared in expected.items():
        live = endpoint.get(field, ABSENT)
        if field == "enabled_events":
            live = sorted(live) if isinstance(live, list) else live
        matches = live == declared
        checks.append(
            WebhookCheck(
                f"webhook.{field}",
                declared,
                live,
                matches,
                "" if matches else _fix(field, endpoint_id, declared, live),
            )
        )
    return WebhookDrift(endpoint_id, tuple(checks))


def _fix(field: str, endpoint_id: str, declared: Any, live: Any) -> str:
    if field == "status":
        return (
            "Stripe disables an endpoint whose deliveries keep failing: check that the webhook "
            "function answers, then enable it again (Dashboard → Developers → Webhooks, or "
            f"`curl https://api.stripe.com/v1/webhook_endpoints/{endpoint_id} "
            '-u "$STRIPE_ADMIN_KEY:" -d disabled=false`)'
        )
    if field == "api_version":
        return (
            "an endpoint's API version cannot be changed: `pulumi up --replace` the endpoint "
            "(urn of the WebhookEndpoint, `pulumi stack --show-urns`)"
        )
    if field == "enabled_events" and isinstance(live, list):
        missing = sorted(set(declared) - set(live))
        extra = sorted(set(live) - set(declared))
        parts = [f"missing {', '.join(missing)}" if missing else ""]
        parts.append(f"not handled {', '.join(extra)}" if extra else "")
        detail = "; ".join(part for part in parts if part)
        return f"{detail}: {REPAIR}"
    return REPAIR
