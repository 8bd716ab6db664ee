"""Authentication over real HTTP with a real JWKS server: forged tokens get 401, no Stripe call."""

from __future__ import annotations

import base64
import json
import time

import pytest

pytestmark = pytest.mark.integration


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def forged_tokens(issuer, uid: str) -> dict[str, str]:
    now = int(time.time())
    good = {"iss": issuer.issuer, "aud": issuer.audience, "sub": uid, "iat": now, "exp": now + 600}
    return {
        "alg-none": unsigned(good),
        "hs256-with-public-key": issuer.mint(uid, alg="HS256"),
        "wrong-issuer": issuer.mint(uid, iss="https://evil.example"),
        "wrong-audience": issuer.mint(uid, aud="another-app"),
        "expired": issuer.mint(uid, exp_in=-300),
        "issued-in-the-future": issuer.mint(uid, iat=now + 3600, exp_in=7200),
        "no-sub": issuer.mint(uid, omit=("sub",)),
        "unknown-kid": issuer.mint(uid, kid="not-a-key-of-this-issuer"),
        "garbage": "this-is.not-a.jwt",
    }


FORGERIES = [
    "alg-none",
    "hs256-with-public-key",
    "wrong-issuer",
    "wrong-audience",
    "expired",
    "issued-in-the-future",
    "no-sub",
    "unknown-kid",
    "garbage",
]


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_token_is_401_and_reaches_no_stripe_endpoint(
    kind, function_server, dev_issuer, stripe_standin, new_uid
):
    token = forged_tokens(dev_issuer, new_uid)[kind]
    calls_before = len(stripe_standin.requests())
    response = function_server.post(token)
    assert response.status_code == 401, f"{kind}: {response.status_code} {response.text}"
    assert response.json()["error"]["code"] in ("invalid_token", "token_expired"), kind
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), kind
    assert len(stripe_standin.requests()) == calls_before, f"{kind} caused a Stripe call"


def test_missing_authorization_is_401(function_server):
    response = function_server.post()
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_warm_requests_fetch_no_signing_keys(function_server, dev_issuer, new_uid):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    fetches = dev_issuer.stats()["jwks_fetches"]
    for _ in range(20):
        assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    assert dev_issuer.stats()["jwks_fetches"] == fetches


def test_a_new_instance_fetches_signing_keys_before_its_first_request(function_factory, dev_issuer):
    before = dev_issuer.stats()["jwks_fetches"]
    function_factory("prefetch")
    deadline = time.monotonic() + 10
    while dev_issuer.stats()["jwks_fetches"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dev_issuer.stats()["jwks_fetches"] == before + 1, "no key fetch at cold start"


@pytest.mark.parametrize(
    "cache_control", ["public, max-age=0", "no-store", "no-cache", "private, no-cache, max-age=0"]
)
def test_an_issuer_that_forbids_caching_still_gets_at_most_one_key_fetch_a_minute(
    stripe_standin, firestore_emulator, cache_control
):
    # An issuer's Cache-Control must not turn every request into a key fetch: the keys are kept
    # at least MIN_KEY_LIFETIME seconds whatever it says.
    from local.issuer import DevIssuer
    from tests.function.conftest import assert_no_secrets_logged, function_env, start_function

    with DevIssuer(jwks_cache_control=cache_control) as issuer:
        env = function_env(stripe_standin, firestore_emulator, issuer)
        server = start_function(env, "no-cache-issuer")
        try:
            for index in range(12):
                response = server.post(issuer.mint(f"nocache-{index}"))
                assert response.status_code == 200, response.text
            assert issuer.stats()["jwks_fetches"] <= 1, issuer.stats()
        finally:
            server.process.stop()
        assert_no_secrets_logged(server, issuer.minted_tokens())
