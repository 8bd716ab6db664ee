"""The function's environment contract, as the function itself defines it, for the stack model.

The function's settings module (`function/billing_portal/settings.py`) owns the contract: which
variables exist and what a valid value is. The stack model does not restate it: it loads that
module (the function package imports nothing outside `function/`, and that module only the
standard library), builds the deployed environment with its `build_environment`, and runs its
`load_settings` on that environment while reading the stack, so a stack that previews is a stack
whose function starts. A refusal is reported against the stack key that produced the variable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "function"
if str(FUNCTION_DIR) not in sys.path:
    # The Pulumi program and the review tools run with the repository root on the path, the
    # tests with function/ too; the function's package is importable in all three this way.
    sys.path.append(str(FUNCTION_DIR))

from billing_portal import settings as function_settings  # noqa: E402
from stackspec.portal_fields import SUBSCRIPTION_PAUSE, declared_fields  # noqa: E402

if TYPE_CHECKING:
    from stackspec.settings import Settings

__all__ = [
    "ENV_TO_STACK_KEY",
    "PLACEHOLDER_CONFIGURATION_ID",
    "PLACEHOLDER_WEBHOOK_SECRET",
    "check_environment",
    "function_environment",
    "function_settings",
    "placeholder_key",
    "preview_problem",
    "webhook_environment",
]

# Which stack key each deployed variable comes from (keys relative to the project namespace,
# except gcp:project), so a refusal names what to change.
ENV_TO_STACK_KEY = {
    "STRIPE_SECRET_KEY": "stripeSecretKey",
    "PORTAL_CONFIGURATION_ID": "portal",
    "PORTAL_SUBSCRIPTION_PAUSE": "portal.features.subscriptionPause",
    "DEFAULT_RETURN_URL": "defaultReturnUrl",
    "ALLOWED_RETURN_ORIGINS": "allowedReturnOrigins",
    "ALLOWED_ORIGINS": "allowedOrigins",
    "AUTH_ISSUER": "auth.issuer",
    "AUTH_AUDIENCE": "auth.audience",
    "AUTH_JWKS_URL": "auth.jwksUrl",
    "CUSTOMERS_COLLECTION": "customersCollection",
    "FIRESTORE_DATABASE": "firestore.database",
    "GOOGLE_CLOUD_PROJECT": "gcp:project",
    "RETENTION_COUPONS": "retentionCoupons",
}
# Valid stand-ins for what preview cannot know: the portal configuration id is an Output, and
# the key itself never goes into a check's message.
PLACEHOLDER_CONFIGURATION_ID = "bpc_PreviewPlaceholder"
# The webhook's signing secret exists only once Stripe has created the endpoint.
PLACEHOLDER_WEBHOOK_SECRET = "whsec_PreviewPlaceholder0"  # noqa: S105 - not a secret


def placeholder_key(live: bool) -> str:
    """A well-formed Stripe key of the stack's mode, for checking the environment at preview."""
    return ("rk_live_" if live else "rk_test_") + "PreviewPlaceholder0"


def check_environment(env: dict[str, Any]) -> tuple[str, str] | None:
    """Run the function's `load_settings` on `env`: None, or (stack key, the function's message)."""
    try:
        function_settings.load_settings(env)
    except function_settings.SettingsError as error:
        return ENV_TO_STACK_KEY.get(error.variable or "", "(function environment)"), str(error)
    return None


def function_environment(settings: Settings, configuration_id: Any) -> dict[str, Any]:
    """The function's plain env vars for a stack, built by the contract; the key is not among them.

    `configuration_id` is the portal configuration's id (a Pulumi Output when deploying).
    """
    from stackspec.portal_spec import portal_spec  # here: portal_spec → settings → this module

    pause = declared_fields(portal_spec(settings))[SUBSCRIPTION_PAUSE]["enabled"]
    return function_settings.build_environment(
        portal_configuration_id=configuration_id,
        # as `PortalFields` applies it: the same mapping decides
        portal_subscription_pause="true" if pause else "false",
        default_return_url=settings.default_return_url,
        allowed_return_origins=settings.allowed_return_origins,
        allowed_origins=settings.allowed_origins,
        auth_issuer=settings.auth.issuer,
        auth_audience=settings.auth.audience,
        auth_jwks_url=settings.auth.jwks_url,
        customers_collection=settings.customers_collection,
        firestore_database=settings.firestore.database,
        google_cloud_project=settings.gcp_project,
        retention_coupons=settings.retention_coupons or None,
    )


def webhook_environment(settings: Settings, configuration_id: Any) -> dict[str, Any]:
    """The webhook function's plain env vars: the session function's, built by the same contract.

    One source archive, one `load_settings` for both entry points: it requires what the session
    function needs (`DEFAULT_RETURN_URL`, …), so the webhook gets the same plain variables, and a
    stack that previews starts both. Its secrets (`STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`)
    are mounted from Secret Manager, never among these.
    """
    return function_environment(settings, configuration_id)


def preview_problem(settings: Settings) -> tuple[str, str] | None:
    """What either function would refuse in the environment this stack deploys, if anything.

    Exactly those environments, with valid placeholders for what preview cannot know: the secret
    key (of the stack's mode), the portal configuration id and the webhook's signing secret; and
    `FUNCTION_TARGET`, the entry point, as the Functions Framework is started with it.
    """
    key = settings.stripe_secret_key
    live = key.live if key is not None and key.value else settings.production
    session = function_environment(settings, PLACEHOLDER_CONFIGURATION_ID)
    session["STRIPE_SECRET_KEY"] = placeholder_key(live)
    session["FUNCTION_TARGET"] = function_settings.SESSION_ENTRY_POINT
    webhook = webhook_environment(settings, PLACEHOLDER_CONFIGURATION_ID)
    webhook["STRIPE_SECRET_KEY"] = placeholder_key(live)
    webhook["STRIPE_WEBHOOK_SECRET"] = PLACEHOLDER_WEBHOOK_SECRET
    webhook["FUNCTION_TARGET"] = function_settings.WEBHOOK_ENTRY_POINT
    return check_environment(session) or check_environment(webhook)
