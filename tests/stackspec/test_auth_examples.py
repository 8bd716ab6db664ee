"""The `auth` examples of docs/deploy.md ("Sign-in: the auth block") are accepted as written,
and give the function exactly the issuer, audience and key set the guide says."""

from __future__ import annotations

import re

import pytest
import yaml

from stackspec.function_contract import function_environment
from stackspec.settings import FIREBASE_JWKS_URL, parse_settings
from tests.stackspec.stack_configs import REPO, minimal_config

GUIDE = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def guide_example(title: str) -> dict:
    """The `billing-portal:auth` YAML block that follows `<!-- auth example: title -->`."""
    found = re.search(
        rf"<!-- auth example: {re.escape(title)} -->\s*```yaml\n(.*?)```", GUIDE, re.DOTALL
    )
    assert found, f"docs/deploy.md has no auth example {title!r}"
    return yaml.safe_load(found.group(1))["billing-portal:auth"]


@pytest.mark.parametrize(
    ("title", "issuer", "audience", "jwks"),
    [
        (
            "another Firebase project",
            "https://securetoken.google.com/acme-auth-prod",
            "acme-auth-prod",
            FIREBASE_JWKS_URL,
        ),
        (
            "Auth0",
            "https://acme.eu.auth0.com/",
            "https://billing.acme-example.com",
            "https://acme.eu.auth0.com/.well-known/jwks.json",
        ),
        (
            "Identity Platform tenant",
            "https://securetoken.google.com/acme-billing-prod",
            "acme-billing-prod",
            FIREBASE_JWKS_URL,
        ),
    ],
)
def test_each_auth_example_is_accepted_and_reaches_the_function(title, issuer, audience, jwks):
    settings = parse_settings("prod", minimal_config(auth=guide_example(title)))
    assert (settings.auth.issuer, settings.auth.audience, settings.auth.jwks_url) == (
        issuer,
        audience,
        jwks,
    )
    env = function_environment(settings, "bpc_1", "")
    assert (env["AUTH_ISSUER"], env["AUTH_AUDIENCE"], env["AUTH_JWKS_URL"]) == (
        issuer,
        audience,
        jwks,
    )
