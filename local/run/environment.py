"""What the local parts are told: the function's environment and the example page's config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.contract import build_environment
from local.run.options import Options
from local.stripe import TEST_KEY as STANDIN_KEY

EXAMPLE_PATH = "/example/"
PROJECT = "billing-portal-local"
DEV_AUDIENCE = PROJECT


def function_env(options: Options, base: Mapping[str, str], firestore_host: str) -> dict[str, str]:
    """The function's contract variables (built by the function's own contract), pointing at
    the local parts; the rest of `base` (PATH, a PORTAL_CONFIGURATION_ID for real Stripe) kept."""
    env = {
        name: value
        for name, value in base.items()
        if name not in ("STRIPE_API_BASE", "FIRESTORE_EMULATOR_HOST", "PORT", "DEBUG")
    }
    env["PYTHONUNBUFFERED"] = "1"
    if options.real_stripe:
        assert options.stripe_key is not None
        stripe = {"stripe_secret_key": options.stripe_key}
    else:
        env.pop(
            "PORTAL_CONFIGURATION_ID", None
        )  # a real account's id means nothing to the stand-in
        stripe = {
            "stripe_secret_key": STANDIN_KEY,
            "stripe_api_base": options.url("stripe", "").rstrip("/"),
        }
    env.update(
        build_environment(
            google_cloud_project=PROJECT,
            firestore_emulator_host=firestore_host,
            auth_issuer=issuer_url(options),
            auth_audience=DEV_AUDIENCE,
            auth_jwks_url=options.url("issuer", "/jwks"),
            allowed_origins=options.web_origins(),
            allowed_return_origins=options.web_origins(),
            default_return_url=options.url("web", EXAMPLE_PATH),
            **stripe,
        )
    )
    return env


def issuer_url(options: Options) -> str:
    """The development issuer's `iss`: its own base URL."""
    return options.url("issuer", "").rstrip("/")


def frontend_config(options: Options) -> dict[str, Any]:
    """What `web/example/config.js` says when the local run serves it."""
    stripe = "real Stripe test mode" if options.real_stripe else "Stripe stand-in"
    return {
        "functionUrl": options.url("function"),
        "issuerTokenUrl": options.url("issuer", "/_issuer/token"),
        "returnUrl": None,
        "subscriptionId": options.subscription_id,
        "environment": f"local run · {stripe} · Firestore emulator",
    }
