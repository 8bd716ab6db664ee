"""The development token issuer: published keys, valid tokens, and the forgeries tests need."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time

import jwt
import pytest
import requests

from local.issuer import GARBAGE_TOKENS, DevIssuer
from tests.support.processes import start_process


def header_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def verify(issuer: DevIssuer, token: str, **options) -> dict:
    """Verify the way a careful verifier would: RS256 only, key from the JWKS by kid."""
    key = jwt.PyJWKClient(issuer.jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=issuer.audience,
        issuer=issuer.issuer,
        options={"require": ["exp", "iat", "sub"], **options},
    )


def test_jwks_publishes_rs256_signing_keys_with_kid(fresh_dev_issuer):
    response = requests.get(fresh_dev_issuer.jwks_url, timeout=5)
    (key,) = response.json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"] == fresh_dev_issuer.current_kid
    assert {"n", "e"} <= set(key)


def test_jwks_response_carries_the_configured_cache_control():
    with DevIssuer(jwks_max_age=123) as issuer:
        response = requests.get(issuer.jwks_url, timeout=5)
    assert response.headers["Cache-Control"] == "public, max-age=123"


def test_jwks_fetches_are_counted(fresh_dev_issuer):
    requests.get(fresh_dev_issuer.jwks_url, timeout=5)
    requests.get(fresh_dev_issuer.jwks_url, timeout=5)
    assert fresh_dev_issuer.stats()["jwks_fetches"] == 2
    assert (
        requests.get(fresh_dev_issuer.url + "/_issuer/stats", timeout=5).json()["jwks_fetches"] == 2
    )


def test_minted_token_verifies_with_the_published_key(fresh_dev_issuer):
    token = fresh_dev_issuer.mint("user-1", email="ann@example.test", email_verified=True)
    claims = verify(fresh_dev_issuer, token)
    assert claims["sub"] == "user-1"
    assert claims["email"] == "ann@example.test"
    assert claims["email_verified"] is True
    assert (claims["iss"], claims["aud"]) == (fresh_dev_issuer.issuer, "billing-portal-local")


def test_minted_tokens_are_remembered_for_log_scans(fresh_dev_issuer):
    token = fresh_dev_issuer.mint("user-1")
    assert token in fresh_dev_issuer.minted_tokens()


def test_rotation_publishes_a_new_kid_and_keeps_the_old_one(fresh_dev_issuer):
    old_token = fresh_dev_issuer.mint("user-1")
    old_kid = fresh_dev_issuer.current_kid
    new_kid = fresh_dev_issuer.rotate()
    new_token = fresh_dev_issuer.mint("user-1")
    kids = [key["kid"] for key in fresh_dev_issuer.jwks()["keys"]]
    assert kids[-2:] == [old_kid, new_kid]
    assert header_of(new_token)["kid"] == new_kid
    assert verify(fresh_dev_issuer, old_token)["sub"] == "user-1"
    assert verify(fresh_dev_issuer, new_token)["sub"] == "user-1"


def test_retired_key_no_longer_verifies():
    with DevIssuer() as issuer:
        token = issuer.mint("user-1")
        old = issuer.current_kid
        issuer.rotate()
        issuer.retire(old)
        with pytest.raises(jwt.PyJWKClientError):
            verify(issuer, token)


def test_alg_none_token_is_unsigned(fresh_dev_issuer):
    token = fresh_dev_issuer.mint("user-1", alg="none")
    assert header_of(token)["alg"] == "none"
    assert token.endswith(".")
    with pytest.raises(jwt.InvalidTokenError):
        verify(fresh_dev_issuer, token)


def test_hs256_forgery_is_keyed_with_the_public_key_pem(fresh_dev_issuer):
    token = fresh_dev_issuer.mint("user-1", alg="HS256")
    signing_input, signature = token.rsplit(".", 1)
    expected = hmac.new(fresh_dev_issuer.public_pem(), signing_input.encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature
    with pytest.raises(jwt.InvalidTokenError):
        verify(fresh_dev_issuer, token)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"iss": "https://evil.example"}, jwt.InvalidIssuerError),
        ({"aud": "someone-else"}, jwt.InvalidAudienceError),
        ({"exp_in": -60}, jwt.ExpiredSignatureError),
        ({"iat": int(time.time()) + 3600}, jwt.ImmatureSignatureError),
        ({"sub": None}, jwt.MissingRequiredClaimError),
        ({"omit": ("exp",)}, jwt.MissingRequiredClaimError),
        ({"foreign_key": True}, jwt.InvalidSignatureError),
    ],
    ids=["wrong-iss", "wrong-aud", "expired", "iat-in-future", "no-sub", "no-exp", "bad-signature"],
)
def test_forged_claims_are_rejected_by_a_careful_verifier(fresh_dev_issuer, overrides, error):
    token = fresh_dev_issuer.mint(**{"sub": "user-1", **overrides})
    with pytest.raises(error):
        verify(fresh_dev_issuer, token)


def test_unknown_kid_is_not_in_the_jwks(fresh_dev_issuer):
    token = fresh_dev_issuer.mint("user-1", kid="no-such-kid")
    assert header_of(token)["kid"] == "no-such-kid"
    with pytest.raises(jwt.PyJWKClientError):
        verify(fresh_dev_issuer, token)


def test_garbage_tokens_are_rejected(fresh_dev_issuer):
    for token in GARBAGE_TOKENS:
        with pytest.raises((jwt.InvalidTokenError, jwt.PyJWKClientError)):
            verify(fresh_dev_issuer, token)


def test_discovery_document_names_issuer_and_jwks(fresh_dev_issuer):
    document = requests.get(
        fresh_dev_issuer.url + "/.well-known/openid-configuration", timeout=5
    ).json()
    assert document["issuer"] == fresh_dev_issuer.issuer
    assert document["jwks_uri"] == fresh_dev_issuer.jwks_url


def test_token_endpoint_signs_in_a_development_user(fresh_dev_issuer):
    response = requests.post(
        fresh_dev_issuer.url + "/_issuer/token",
        json={"sub": "dev-1", "email": "dev@example.test"},
        headers={"Origin": "http://localhost:5173"},
        timeout=5,
    )
    claims = verify(fresh_dev_issuer, response.json()["id_token"])
    assert (claims["sub"], claims["email"], claims["email_verified"]) == (
        "dev-1",
        "dev@example.test",
        True,
    )
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_token_endpoint_gives_no_cors_to_foreign_origins(fresh_dev_issuer):
    response = requests.post(
        fresh_dev_issuer.url + "/_issuer/token",
        json={"sub": "dev-1"},
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_token_endpoint_answers_the_cors_preflight(fresh_dev_issuer):
    response = requests.options(
        fresh_dev_issuer.url + "/_issuer/token",
        headers={"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_token_endpoint_refuses_a_request_without_sub(fresh_dev_issuer):
    response = requests.post(fresh_dev_issuer.url + "/_issuer/token", json={}, timeout=5)
    assert response.status_code == 400


def test_cli_prints_its_url_and_serves():
    process = start_process(
        [sys.executable, "-m", "local.issuer", "--port", "0"],
        name="dev-issuer-cli",
        ready_pattern=r"listening on (http://127\.0\.0\.1:\d+)",
    )
    try:
        assert process.ready_match is not None
        jwks = requests.get(process.ready_match[1] + "/jwks", timeout=5).json()
        assert len(jwks["keys"]) == 1
    finally:
        assert process.stop() == 0, process.log_text()


def test_the_issuers_root_says_what_it_is(fresh_dev_issuer):
    issuer = fresh_dev_issuer
    answer = requests.get(issuer.url + "/", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["jwks"] == issuer.jwks_url
