"""Review attacks on Firebase Auth emulator mode (issue 26), over real HTTP.

Each reads one token the way Python (PyJWT) and Firebase (the Admin SDK, jsonwebtoken) could
read it differently: claim types Firebase refuses but `int()` or a list membership would accept,
ambiguous JSON (duplicate keys) in the header or the claims, and odd segment counts.
"""

from __future__ import annotations

import time

import pytest

from tests.function.test_http_auth_emulator import (
    DEMO_PROJECT,
    EMULATOR_ISSUER,
    assert_refused,
    b64,
    emulator_overrides,
    emulator_token,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emulator_function(function_factory):
    """A session function in Firebase Auth emulator mode."""
    return function_factory("auth-emulator-review", **emulator_overrides())


def raw_token(header: str, claims: str, signature: str = "") -> str:
    return f"{b64(header.encode())}.{b64(claims.encode())}.{signature}"


def claims_text(uid: str, **raw: str) -> str:
    now = int(time.time())
    fields = {
        "iat": str(now),
        "exp": str(now + 3600),
        "aud": f'"{DEMO_PROJECT}"',
        "iss": f'"{EMULATOR_ISSUER}"',
        "sub": f'"{uid}"',
    }
    fields.update(raw)
    return "{" + ", ".join(f'"{k.split("__")[0]}": {v}' for k, v in fields.items()) + "}"


def attacks(uid: str) -> dict[str, str]:
    now = int(time.time())
    good_header = '{"alg": "none", "typ": "JWT"}'
    return {
        # Firebase requires aud to equal the project id; PyJWT accepts a list that contains it.
        "aud as a list": emulator_token(uid, aud=[DEMO_PROJECT, "demo-other"]),
        # jsonwebtoken requires numeric exp/iat; int("…") would accept a string.
        "exp as a string": emulator_token(uid, exp=str(now + 3600)),
        "iat as a string": emulator_token(uid, iat=str(now)),
        "exp as true": emulator_token(uid, exp=True),
        "exp as a float string": emulator_token(uid, exp=f"{now + 3600}.5"),
        "sub as a number": emulator_token(uid, sub=12345),
        "sub of 129 characters": emulator_token(uid, sub="u" * 129),
        "duplicate alg, none last": raw_token(
            '{"alg": "RS256", "alg": "none", "typ": "JWT"}', claims_text(uid)
        ),
        "duplicate sub": raw_token(good_header, claims_text(uid, sub__2='"someone-else"')),
        "four segments": emulator_token(uid) + ".",
        "one segment": b64(good_header.encode()),
        "header not an object": raw_token('["alg", "none"]', claims_text(uid)),
        "claims not an object": raw_token(good_header, '["sub"]'),
    }


@pytest.mark.parametrize("kind", list(attacks("x")))
def test_an_ambiguous_or_mistyped_token_is_refused_in_emulator_mode(
    kind,
    emulator_function,
    stripe_standin,
    new_uid,
):
    calls_before = len(stripe_standin.requests())
    response = emulator_function.post(attacks(new_uid)[kind])
    assert_refused(response, stripe_standin, calls_before, kind)


def test_a_huge_token_is_refused_before_any_stripe_call(emulator_function, stripe_standin, new_uid):
    # The local server (gunicorn) refuses a header this long with its own HTML 431 before the
    # app runs; the app's own limit (MAX_TOKEN_LENGTH) is then never reached. Either way: a 4xx
    # and no Stripe call. (The HTML body is a known limitation of the server, not the app.)
    calls_before = len(stripe_standin.requests())
    response = emulator_function.post(emulator_token(new_uid, pad="x" * 20000))
    assert response.status_code in (401, 431), response.text
    assert len(stripe_standin.requests()) == calls_before
