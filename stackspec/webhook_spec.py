"""The stack's Stripe webhook endpoint, as the stack declares it: URL, events, metadata.

Pure, like the portal spec: the Pulumi program creates the endpoint from it and the drift check
compares the live endpoint with it, so neither keeps a copy of a rule.

The URL is the webhook function's deterministic address. Google documents that a function is
assigned `https://REGION-PROJECT_ID.cloudfunctions.net/FUNCTION_NAME`, a format known before the
function is deployed, beside a run.app URL with a random hash
(https://cloud.google.com/functions/docs/calling/http, "Function URL"). Knowing it from the
settings breaks what would otherwise be a cycle: the endpoint needs the function's URL, and the
function's environment needs the endpoint's secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackspec import schema as stripe_schema
from stackspec.declared import MANAGED_BY
from stackspec.function_contract import function_settings

if TYPE_CHECKING:
    from stackspec.settings import Settings

# The event types the webhook acts on: the function's contract owns the list.
WEBHOOK_EVENTS: tuple[str, ...] = tuple(function_settings.WEBHOOK_EVENTS)
ENABLED = "enabled"  # a webhook endpoint's status when Stripe delivers to it


def function_url(project: str, region: str, name: str) -> str:
    """The deterministic URL of a Cloud Run function (gen2): Google's documented format."""
    return f"https://{region}-{project}.cloudfunctions.net/{name}"


def webhook_url(settings: Settings) -> str:
    """Where Stripe delivers the stack's events: the webhook function's deterministic URL."""
    return function_url(settings.gcp_project, settings.region, settings.function.webhook_name)


def webhook_api_version() -> str:
    """The API version Stripe renders the endpoint's events in: the one the function's SDK
    speaks (the schema copy's), whatever the account's default is."""
    return stripe_schema.api_version()


def webhook_metadata(stack: str) -> dict[str, str]:
    """The metadata Pulumi puts on the stack's endpoint, so the drift check can recognise it."""
    return {"managed-by": MANAGED_BY, "stack": stack}


def webhook_description(stack: str) -> str:
    """What the Dashboard shows for the endpoint."""
    return f"billing-portal {stack}: subscription state back into the app (declared in Pulumi)"
