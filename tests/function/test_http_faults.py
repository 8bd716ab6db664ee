"""Dependency failures reach the caller as the documented status, within a bounded time.

Bounds (docs/how-it-works.md): with STRIPE_TIMEOUT_SECONDS=t and STRIPE_MAX_RETRIES=r a Stripe
failure is answered within (r + 1) × t plus the SDK's backoff (≤ 0.5 s × (2^r − 1)); these
servers run with t = 2 s, r = 1, so within 2 × 2 s + 0.5 s = 4.5 s. STRIPE_BOUND_SECONDS allows
6 s, 1.5 s of slack for a shared machine. Firestore: FIRESTORE_TIMEOUT_SECONDS (2 s here).
"""

from __future__ import annotations

import time

import pytest

from local.net import free_port
from tests.function.conftest import STRIPE_KEY

pytestmark = pytest.mark.integration
STRIPE_BOUND_SECONDS = 6.0
FIRESTORE_BOUND_SECONDS = 4.0


def timed_post(server, token):
    started = time.monotonic()
    response = server.post(token)
    return response, time.monotonic() - started


def test_stripe_500_is_502(function_server, dev_issuer, stripe_standin, new_uid):
    stripe_standin.inject_fault(count=10, status=500, path_prefix="/v1/customers")
    response, seconds = timed_post(function_server, dev_issuer.mint(new_uid))
    stripe_standin.clear_faults()
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "stripe_error"
    assert seconds < STRIPE_BOUND_SECONDS


def test_stripe_429_is_429_with_retry_after(function_server, dev_issuer, stripe_standin, new_uid):
    stripe_standin.inject_fault(
        count=10, status=429, path_prefix="/v1/customers", headers={"Retry-After": "7"}
    )
    response, seconds = timed_post(function_server, dev_issuer.mint(new_uid))
    stripe_standin.clear_faults()
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == "7"
    assert seconds < STRIPE_BOUND_SECONDS


def test_stripe_timeout_is_503_within_the_bound(
    function_server, dev_issuer, stripe_standin, new_uid
):
    stripe_standin.inject_fault(count=10, delay_ms=5000, path_prefix="/v1/customers")
    response, seconds = timed_post(function_server, dev_issuer.mint(new_uid))
    stripe_standin.clear_faults()
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "stripe_unavailable"
    assert "Retry-After" in response.headers
    assert seconds < STRIPE_BOUND_SECONDS + 1


def test_dropped_stripe_connection_is_503(function_server, dev_issuer, stripe_standin, new_uid):
    stripe_standin.inject_fault(count=10, drop=True, path_prefix="/v1/customers")
    response, seconds = timed_post(function_server, dev_issuer.mint(new_uid))
    stripe_standin.clear_faults()
    assert response.status_code == 503, response.text
    assert seconds < STRIPE_BOUND_SECONDS


def test_one_transient_stripe_failure_is_retried_invisibly(
    function_server, dev_issuer, stripe_standin, new_uid
):
    stripe_standin.inject_fault(count=1, status=500, path_prefix="/v1/billing_portal/sessions")
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 200, response.text


def test_refused_stripe_key_is_503_misconfigured(
    function_factory, dev_issuer, stripe_standin, new_uid
):
    server = function_factory("badkey", STRIPE_SECRET_KEY="sk_test_revokedKeyOfThisAccount1")
    stripe_standin.accept_keys([STRIPE_KEY])  # like a rolled key: Stripe answers 401
    try:
        response = server.post(dev_issuer.mint(new_uid))
    finally:
        stripe_standin.accept_keys(None)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "stripe_misconfigured"


def test_unreachable_firestore_is_503_within_the_bound(function_factory, dev_issuer, new_uid):
    server = function_factory("nofirestore", FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{free_port()}")
    response, seconds = timed_post(server, dev_issuer.mint(new_uid))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "datastore_unavailable"
    assert seconds < FIRESTORE_BOUND_SECONDS


def test_unreachable_key_server_is_503(function_factory, dev_issuer, new_uid):
    server = function_factory("nojwks", AUTH_JWKS_URL=f"http://127.0.0.1:{free_port()}/jwks")
    response = server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "auth_keys_unavailable"
