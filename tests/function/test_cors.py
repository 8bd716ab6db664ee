"""CORS decisions."""

from __future__ import annotations

import pytest

from billing_portal.cors import cors_headers, preflight_headers
from billing_portal.errors import Forbidden

ALLOWED = frozenset({"https://app.example.com"})


def test_allowed_origin_is_echoed_with_vary():
    headers = cors_headers("https://app.example.com", ALLOWED)
    assert headers == {"Vary": "Origin", "Access-Control-Allow-Origin": "https://app.example.com"}


def test_request_without_origin_gets_no_cors_grant():
    assert "Access-Control-Allow-Origin" not in cors_headers(None, ALLOWED)


def test_other_origin_is_forbidden():
    with pytest.raises(Forbidden):
        cors_headers("https://evil.example.com", ALLOWED)


def test_preflight_names_method_and_headers():
    headers = preflight_headers("https://app.example.com", ALLOWED)
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert headers["Vary"] == "Origin"


def test_preflight_without_origin_is_forbidden():
    with pytest.raises(Forbidden):
        preflight_headers(None, ALLOWED)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com/",
        "HTTPS://APP.EXAMPLE.COM",
        "https://App.example.com",
        "https://app.example.com:443",
        " https://app.example.com",
        "https://app.example.com\t",
    ],
)
def test_an_origin_not_byte_equal_to_an_allowed_one_is_forbidden_and_not_echoed(origin):
    # Browsers send the origin serialized (lower case, no default port, no slash); anything else
    # did not come from a browser on that origin, and echoing it grants an origin not listed.
    with pytest.raises(Forbidden):
        cors_headers(origin, ALLOWED)
    with pytest.raises(Forbidden):
        preflight_headers(origin, ALLOWED)
