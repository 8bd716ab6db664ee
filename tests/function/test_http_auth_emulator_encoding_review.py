"""Review attacks on the encoding of an ID token in Firebase Auth emulator mode, over real HTTP.

A JWS segment is base64url without padding (RFC 7515, section 2): `A-Z a-z 0-9 - _` and nothing
else. Python's decoder also takes padding, the standard alphabet's `+` and `/`, and skips
characters outside the alphabet, so without a check one emulator token (which has no signature
binding its bytes) has many spellings. Each spelling here decodes to the very claims the
emulator would write, so only the encoding check can refuse it.
"""

from __future__ import annotations

import pytest

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
