"""Token verification and the signing-key cache, as units (the JWKS fetch is a fake session).

The same rules are shown over real HTTP against a real JWKS server in test_http_auth.py.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from billing_portal.errors import Unauthorized, Unavailable
from billing_portal.tokens import (
    FAILED_FETCH_BACKOFF,
    SigningKeys,
    TokenVerifier,
    cache_lifetime,
)

ISSUER, AUDIENCE = "https://issuer.example", "billing-app"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeResponse:
    def __init__(self, body: dict, headers: dict[str, str]) -> None:
        self._body, self.headers = body, headers

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict:
        return self._body


class FakeSession:
    """Serves one JWKS and counts fetches."""

    def __init__(self, kid: str = "k1", cache_control: str = "public, max-age=600") -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": kid, "alg": "RS256", "use": "sig"}]}
        self.cache_control = cache_control
        self.calls = 0

    def get(self, url: str, timeout: float) -> FakeResponse:
        self.calls += 1
        return FakeResponse(self.jwks, {"Cache-Control": self.cache_control})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token(**overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 3600}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, PRIVATE, algorithm="RS256", headers={"kid": "k1"})


def verifier(session: FakeSession, clock: Clock | None = None) -> TokenVerifier:
    keys = SigningKeys("https://issuer.example/jwks", session=session, clock=clock or Clock())
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)


def test_valid_token_gives_the_subject():
    assert verifier(FakeSession()).verify(f"Bearer {token()}").uid == "user-1"


def test_email_is_kept_only_when_verified():
    check = verifier(FakeSession())
    assert check.verify(f"Bearer {token(email='a@b.c', email_verified=True)}").email == "a@b.c"
    assert check.verify(f"Bearer {token(email='a@b.c', email_verified=False)}").email is None
    assert check.verify(f"Bearer {token(email='a@b.c')}").email is None


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example"},
        {"aud": "other-app"},
        {"exp": int(time.time()) - 120},
        {"iat": int(time.time()) + 600},
        {"sub": None},
        {"sub": ""},
        {"exp": None},
    ],
    ids=["issuer", "audience", "expired", "future", "no-sub", "empty-sub", "no-exp"],
)
def test_bad_claims_are_unauthorized(claims):
    with pytest.raises(Unauthorized):
        verifier(FakeSession()).verify(f"Bearer {token(**claims)}")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer not.a.jwt"])
def test_malformed_authorization_is_unauthorized(header):
    with pytest.raises(Unauthorized):
        verifier(FakeSession()).verify(header)


def test_warm_requests_fetch_keys_once_within_max_age():
    session, clock = FakeSession(), Clock()
    check = verifier(session, clock)
    for _ in range(100):
        check.verify(f"Bearer {token()}")
        clock.now += 5
    assert session.calls == 1


def test_keys_are_refetched_after_max_age():
    session, clock = FakeSession(cache_control="max-age=60"), Clock()
    check = verifier(session, clock)
    check.verify(f"Bearer {token()}")
    clock.now += 61
    check.verify(f"Bearer {token()}")
    assert session.calls == 2


def test_unknown_kid_refreshes_at_most_once_per_interval():
    session, clock = FakeSession(), Clock()
    keys = SigningKeys("u", session=session, clock=clock, min_refresh_seconds=30)
    keys.key_for("k1")
    clock.now += 31
    for _ in range(20):
        with pytest.raises(Unauthorized):
            keys.key_for("rotated")
    assert session.calls == 2


def test_prefetched_keys_serve_the_first_request_without_another_fetch():
    session = FakeSession()
    keys = SigningKeys("u", session=session, clock=Clock())
    keys.prefetch()
    assert session.calls == 1
    check = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    assert check.verify(f"Bearer {token()}").uid == "user-1"
    assert session.calls == 1


def test_a_failed_prefetch_is_retried_by_the_first_request():
    class FlakyOnce(FakeSession):
        def get(self, url, timeout):
            if self.calls == 0:
                self.calls += 1
                raise requests.ConnectionError("down")
            return super().get(url, timeout)

    session = FlakyOnce()
    keys = SigningKeys("u", session=session, clock=Clock())
    keys.prefetch()  # must not raise
    assert TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE).verify(f"Bearer {token()}")
    assert session.calls == 2


def test_a_key_server_that_is_down_is_fetched_once_per_backoff_not_once_per_request():
    class Down:
        calls = 0

        def get(self, url, timeout):
            Down.calls += 1
            raise requests.ConnectionError("down")

    clock = Clock()
    keys = SigningKeys("u", session=Down(), clock=clock)
    for _ in range(10):
        with pytest.raises(Unavailable) as caught:
            keys.key_for("k1")
    assert Down.calls == 1
    assert caught.value.headers["Retry-After"] == str(int(FAILED_FETCH_BACKOFF))
    clock.now += FAILED_FETCH_BACKOFF
    with pytest.raises(Unavailable):
        keys.key_for("k1")
    assert Down.calls == 2


def test_unreachable_key_server_without_keys_is_503():
    class Down:
        def get(self, url, timeout):
            raise requests.ConnectionError("down")

    with pytest.raises(Unavailable):
        SigningKeys("u", session=Down()).key_for("k1")


@pytest.mark.parametrize(
    ("header", "age", "expected"),
    [
        ("public, max-age=19302, must-revalidate, no-transform", None, 19302),
        ("max-age=600", "100", 500),
        ("no-store", None, 60),
        ("no-cache, max-age=3600", None, 60),
        ("max-age=0", None, 60),
        ("max-age=30", None, 60),
        ("max-age=600", "590", 60),
        ("max-age=9999999", None, 24 * 3600),
        (None, None, 300),
    ],
)
def test_cache_lifetime_follows_cache_control(header, age, expected):
    assert cache_lifetime(header, age, default=300) == expected
