"""Request handling over real HTTP: methods, CORS, bodies, return URLs; a fuzz finds no 5xx."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.function.conftest import APP_ORIGIN

pytestmark = pytest.mark.integration
DEEP_OBJECT = b'{"flow": ' + b'{"a":' * 2000 + b"1" + b"}" * 2001


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_methods_other_than_get_and_post_are_405(function_server, method):
    response = requests.request(method, function_server.url, timeout=10)
    assert response.status_code == 405, method
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, POST, OPTIONS"


@pytest.mark.parametrize("path", ["favicon.ico", "robots.txt"])
def test_framework_error_pages_are_json_too(function_server, path):
    response = requests.get(function_server.url + path, timeout=10)
    assert response.status_code == 404, path
    assert response.json()["error"]["code"] == "not_found"


def test_preflight_from_an_allowed_origin_names_method_and_headers(function_server):
    response = requests.options(
        function_server.url,
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert "Origin" in response.headers["Vary"]


def test_preflight_from_another_origin_is_403(function_server):
    response = requests.options(
        function_server.url, headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_post_from_an_allowed_origin_is_granted(function_server, dev_issuer, new_uid):
    response = function_server.post(dev_issuer.mint(new_uid), headers={"Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


def test_post_from_another_origin_is_403_before_any_work(
    function_server, dev_issuer, stripe_standin, new_uid
):
    calls = len(stripe_standin.requests())
    response = function_server.post(
        dev_issuer.mint(new_uid), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert len(stripe_standin.requests()) == calls


def test_errors_to_an_allowed_origin_are_readable_by_the_page(function_server):
    response = function_server.post(headers={"Origin": APP_ORIGIN})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{oops", "application/json", 400, "invalid_json"),
        (b"[]", "application/json", 400, "invalid_json"),
        (b'{"customer": "cus_other"}', "application/json", 400, "unknown_field"),
        (b'{"locale": "xx"}', "application/json", 400, "invalid_locale"),
        (b'{"flow": "subscription_pause"}', "application/json", 400, "invalid_flow"),
        (b'{"flow": {"type": "subscription_cancel"}}', "application/json", 400, "invalid_flow"),
        (b'{"return_url": "https://evil.example/"}', "application/json", 400, None),
        (b"return_url=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"{" + b" " * 17000 + b"}", "application/json", 413, "payload_too_large"),
        (b"[" * 16000, "application/json", 400, "invalid_json"),
        (b'{"flow": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400, "invalid_json"),
        (DEEP_OBJECT, "application/json", 400, "invalid_json"),
    ],
    ids=[
        "malformed",
        "array",
        "unknown-field",
        "locale",
        "pause-flow",
        "cancel-without-subscription",
        "foreign-return-url",
        "form-encoded",
        "too-large",
        "deep-unclosed",
        "deep-list",
        "deep-object",
    ],
)
def test_bad_body_gets_its_4xx(
    function_server, dev_issuer, new_uid, body, content_type, status, code
):
    response = function_server.post(
        dev_issuer.mint(new_uid), body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    expected = code or "return_url_not_allowed"
    assert response.json()["error"]["code"] == expected


def test_bad_body_creates_no_customer(function_server, dev_issuer, stripe_standin, new_uid):
    function_server.post(dev_issuer.mint(new_uid), {"return_url": "https://evil.example/"})
    assert not [
        c for c in stripe_standin.customers() if c["metadata"].get("app_user_id") == new_uid
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


# Deep nesting, closed or not, inside strings or not: a recursive parser's stack is the target.
def _nest(prefix: bytes, opener: bytes, depth: int, closed: bool, suffix: bytes) -> bytes:
    closer = bytes(reversed(opener)).translate(_CLOSE) * depth if closed else b""
    return prefix + opener * depth + closer + suffix


deep_bodies = st.builds(
    _nest,
    st.sampled_from([b"", b'{"flow": ', b'{"return_url": "', b'{"a": 1, "flow": ']),
    st.sampled_from([b"[", b"{", b'{"a":', b'["', b"[{}, "]),
    st.integers(min_value=1, max_value=8000),
    st.booleans(),
    st.sampled_from([b"", b"}", b"1}", b'"]']),
)
_CLOSE = bytes.maketrans(b"[{", b"]}")
bodies = st.one_of(
    st.binary(max_size=200),
    deep_bodies,
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "return_url": st.text(max_size=60) | st.just("https://app.example.test/x"),
            "locale": st.sampled_from(["auto", "en", "xx", ""]) | st.text(max_size=8),
            "flow": json_values
            | st.sampled_from(["payment_method_update", "customer_update", "subscription_cancel"]),
        },
    ).map(lambda v: json.dumps(v).encode()),
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60
).map(str.strip)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    content_type=st.sampled_from(["application/json", "text/plain", ""]) | header_values,
    authorization=st.sampled_from(["valid", "none"]) | header_values,
    origin=st.sampled_from([None, APP_ORIGIN, "null"]) | header_values,
)
def test_fuzzed_bodies_and_headers_never_get_a_5xx(
    function_server, dev_issuer, body, content_type, authorization, origin
):
    headers = {"Content-Type": content_type}
    if authorization == "valid":
        headers["Authorization"] = f"Bearer {dev_issuer.mint('fuzz-user')}"
    elif authorization != "none":
        headers["Authorization"] = authorization
    if origin is not None:
        headers["Origin"] = origin
    response = requests.post(function_server.url, data=body, headers=headers, timeout=30)
    assert response.status_code < 500, (response.status_code, body[:80], headers, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json().keys() in ({"url"}, {"error"})


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=deep_bodies)
def test_fuzzed_deep_nesting_with_a_valid_token_is_a_4xx(function_server, dev_issuer, body):
    # The fuzz above rarely pairs a deep body with a valid token and a JSON content type; this one
    # always does, so the body parser itself is what is attacked.
    response = function_server.post(dev_issuer.mint("fuzz-deep-user"), body)
    assert 400 <= response.status_code < 500, (response.status_code, body[:80], response.text)
    assert response.json().keys() == {"error"}
