"""Review attacks on the encoding (and `email_verified` type) of an ID token in Firebase Auth
emulator mode, over real HTTP.

A JWS segment is base64url without padding (RFC 7515, section 2): `A-Z a-z 0-9 - _` and nothing
else. Python's decoder also takes padding, the standard alphabet's `+` and `/`, and skips
characters outside the alphabet, so without a check one emulator token (which has no signature
binding its bytes) has many spellings. Each spelling here decodes to the very claims the
emulator would write, so only the encoding check can refuse it.
"""

from __future__ import annotations

import time

import pytest

from tests.function.conftest import customers_of
from tests.function.test_http_auth_emulator import (
    assert_refused,
    emulator_function,  # noqa: F401  (the module's fixture, shared)
    emulator_token,
)

pytestmark = pytest.mark.integration

# `~~~` and `???` encode to `fn5-` and `Pz8_`: the claims then hold both `-` and `_`.
URL_SAFE_NAME = "~~~???"


def spellings(uid: str) -> dict[str, str]:
    token = emulator_token(uid, name=URL_SAFE_NAME)
    header, claims, _ = token.split(".")
    assert "-" in claims and "_" in claims
    standard = claims.replace("-", "+").replace("_", "/")
    padded = claims + "=" * (-len(claims) % 4 or 4)
    return {
        "claims padded": f"{header}.{padded}.",
        "header padded": f"{header}==.{claims}.",
        "standard alphabet": f"{header}.{standard}.",
        "a character outside the alphabet": f"{header}.{claims[:8]}!{claims[8:]}.",
        "an escaped newline inside": f"{header}.{claims[:8]}\\n{claims[8:]}.",
    }


def test_the_url_safe_spelling_is_accepted(emulator_function, new_uid):  # noqa: F811
    response = emulator_function.post(emulator_token(new_uid, name=URL_SAFE_NAME))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind", list(spellings("x")))
def test_a_non_canonical_spelling_of_an_emulator_token_is_refused(
    kind,
    emulator_function,  # noqa: F811
    stripe_standin,
    new_uid,
):
    calls_before = len(stripe_standin.requests())
    response = emulator_function.post(spellings(new_uid)[kind])
    assert_refused(response, stripe_standin, calls_before, kind)


@pytest.mark.parametrize("verified", ["true", 1, [True], {"value": True}])
def test_an_email_verified_claim_that_is_not_true_puts_no_email_on_the_customer(
    verified,
    emulator_function,  # noqa: F811
    stripe_standin,
    new_uid,
):
    # Only the boolean `true` verifies an email; a string or a number an unsigned token carries
    # must not name the Stripe customer (receipts and the portal go to that address).
    token = emulator_token(new_uid, email="victim@example.com", email_verified=verified)
    response = emulator_function.post(token)
    assert response.status_code == 200, response.text
    (customer,) = customers_of(stripe_standin, new_uid)
    assert customer.get("email") in (None, ""), customer.get("email")


def test_a_verified_email_does_reach_the_customer(
    emulator_function,  # noqa: F811
    stripe_standin,
    new_uid,
):
    # The control for the test above: the same token with `email_verified: true` names the
    # customer (the email update runs beside the response, so wait for it briefly).
    token = emulator_token(new_uid, email="ada@example.com", email_verified=True)
    assert emulator_function.post(token).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        (customer,) = customers_of(stripe_standin, new_uid)
        if customer.get("email"):
            break
        time.sleep(0.05)
    assert customer.get("email") == "ada@example.com"
