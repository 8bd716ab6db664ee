"""schema/billing-portal-api.json's request rows are the stripe SDK's own typed parameters."""

from __future__ import annotations

import json

import pytest
import stripe

from tools.stripe_params import ENDPOINTS, SCHEMA_PATH, endpoint_rows

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_the_schema_was_taken_from_the_installed_sdk_version():
    assert SCHEMA["stripe_python_version"] == stripe.VERSION


def test_every_endpoint_of_the_schema_names_the_sdk_class_it_comes_from():
    assert set(SCHEMA["requests"]) == set(ENDPOINTS)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_an_endpoints_rows_are_exactly_what_the_sdk_parameters_flatten_to(endpoint):
    assert SCHEMA["requests"][endpoint] == endpoint_rows(endpoint)


def test_the_accounts_endpoint_is_narrowed_to_the_branding_parameters():
    paths = [row["p"] for row in SCHEMA["requests"]["POST /v1/accounts/{account}"]]
    assert paths == [
        "settings",
        "settings.branding",
        "settings.branding.icon",
        "settings.branding.logo",
        "settings.branding.primary_color",
        "settings.branding.secondary_color",
    ]


def test_the_about_text_says_what_was_added_and_from_where():
    about = SCHEMA["about"]
    for endpoint in ("POST /v1/products", "POST /v1/prices", "POST /v1/files"):
        assert endpoint in about
    assert "tools/stripe_params.py" in about
