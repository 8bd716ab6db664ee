"""What the local parts are told: the function's environment and the example page's config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.run.options import Options
from local.stripe_standin.keys import TEST_KEY as STANDIN_KEY

EXAMPLE_PATH = "/example/"
PROJECT = "billing-portal-local"
DEV_AUDIENCE = PROJECT


def function_env(options: Options, base: Mapping[str, str], firestore_host: str) -> dict[str, str]:
    """The function's contract variables, pointing at the local parts."""
    env = {
        name: value
        for name, value in base.items()
        if name not in ("STRIPE_API_BASE", "FIRESTORE_EMULATOR_HOST", "PORT", "DEBUG")
    }
    example = options.url("web", EXAMPLE_PATH)
    env.update(
        {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "FIRESTORE_EMULATOR_HOST": firestore_host,
            "AUTH_ISSUER": issuer_url(options),
            "AUTH_AUDIENCE": DEV_AUDIENCE,
            "AUTH_JWKS_URL": options.url("issuer", "/jwks"),
            "ALLOWED_ORIGINS": ",".join(options.web_origins()),
            "ALLOWED_RETURN_ORIGINS": ",".join(options.web_origins()),
            "DEFAULT_RETURN_URL": example,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if options.real_stripe:
        assert options.stripe_key is not None
        env["STRIPE_SECRET_KEY"] = options.stripe_key
    else:
        env["STRIPE_SECRET_KEY"] = STANDIN_KEY
        env["STRIPE_API_BASE"] = options.url("stripe", "").rstrip("/")
        env.pop("PORTAL_CONFIGURATION_ID", None)
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
