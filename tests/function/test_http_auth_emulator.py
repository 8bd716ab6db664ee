"""Firebase Auth emulator mode over real HTTP: unsigned emulator tokens, and every way around it.

The Auth emulator signs nothing: its ID tokens carry the header `{"alg": "none", "typ": "JWT"}`
and an empty signature. The function accepts such tokens only in emulator mode
(`FIREBASE_AUTH_EMULATOR_HOST`, beside `FIRESTORE_EMULATOR_HOST`, a test key and a `demo-`
project), and then only those: the claims are checked exactly as for a signed token, and a
signed token is refused (a real Firebase project never issues tokens for a `demo-` project).
Tokens here are built the way the emulator builds them (see `emulator_token`); the browser test
(tests/browser/test_firebase_page.py) uses the emulator itself.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from local.process import ServerProcessError
from tests.function.conftest import STRIPE_KEY, function_env, start_function

pytestmark = pytest.mark.integration

DEMO_PROJECT = "demo-billing-portal-tests"
EMULATOR_ISSUER = f"https://securetoken.google.com/{DEMO_PROJECT}"
EMULATOR_HOST = "127.0.0.1:9099"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def emulator_token(
    uid: str,
    *,
    header: dict[str, Any] | None = None,
    signature: str = "",
    omit: tuple[str, ...] = (),
    **changes: Any,
) -> str:
    """A token as the Auth emulator writes it (firebase-tools 15.34.2), with `changes`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "email": "ada@example.com",
        "email_verified": False,
        "auth_time": now,
        "user_id": uid,
        "firebase": {"identities": {"email": ["ada@example.com"]}, "sign_in_provider": "password"},
        "iat": now,
        "exp": now + 3600,
        "aud": DEMO_PROJECT,
        "iss": EMULATOR_ISSUER,
        "sub": uid,
    }
    claims.update(changes)
    for name in omit:
        claims.pop(name, None)
    head = header if header is not None else {"alg": "none", "typ": "JWT"}
    return f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims).encode())}.{signature}"


def emulator_overrides(**changes: str | None) -> dict[str, str | None]:
    """The environment changes of a function in emulator mode (the suite's Firestore emulator is
    already named by FIRESTORE_EMULATOR_HOST)."""
    return {
        "FIREBASE_AUTH_EMULATOR_HOST": EMULATOR_HOST,
        "AUTH_ISSUER": EMULATOR_ISSUER,
        "AUTH_AUDIENCE": DEMO_PROJECT,
        **changes,
    }


@pytest.fixture(scope="module")
def emulator_function(function_factory):
    """A session function in Firebase Auth emulator mode."""
    return function_factory("auth-emulator", **emulator_overrides())


@pytest.fixture(scope="module")
def plain_function(function_factory):
    """The same deployment (issuer and audience of the demo project) without emulator mode."""
    return function_factory(
        "no-auth-emulator", AUTH_ISSUER=EMULATOR_ISSUER, AUTH_AUDIENCE=DEMO_PROJECT
    )


def assert_refused(response, stripe_standin, calls_before: int, what: str) -> None:
    assert response.status_code == 401, f"{what}: {response.status_code} {response.text}"
    assert response.json()["error"]["code"] in ("invalid_token", "token_expired"), what
    assert len(stripe_standin.requests()) == calls_before, f"{what} caused a Stripe call"


# ---- a function not in emulator mode ----------------------------------------------------------


def test_an_emulator_token_is_refused_by_a_function_not_in_emulator_mode(
    plain_function, stripe_standin, new_uid
):
    calls_before = len(stripe_standin.requests())
    response = plain_function.post(emulator_token(new_uid))
    assert_refused(response, stripe_standin, calls_before, "emulator token")
    assert "RS256" in response.json()["error"]["message"]
    get = plain_function.session.get(
        plain_function.url, headers={"Authorization": f"Bearer {emulator_token(new_uid)}"}
    )
    assert get.status_code == 401


# ---- in emulator mode: the emulator's own tokens ---------------------------------------------


def test_an_emulator_token_opens_the_portal_in_emulator_mode(
    emulator_function, stripe_standin, new_uid
):
    token = emulator_token(new_uid)
    response = emulator_function.post(token)
    assert response.status_code == 200, response.text
    assert response.json()["url"].startswith("http")
    state = emulator_function.session.get(
        emulator_function.url, headers={"Authorization": f"Bearer {token}"}
    )
    assert state.status_code == 200, state.text
    assert state.json()["subscriptions"] == []


def test_emulator_mode_says_loudly_at_start_up_that_signatures_are_not_checked(
    emulator_function,
):
    warnings = [
        line
        for line in emulator_function.log_lines()
        if line.get("severity") == "WARNING" and "FIREBASE_AUTH_EMULATOR_HOST" in line["message"]
    ]
    assert warnings, emulator_function.process.log_text()
    assert "NOT checked" in warnings[0]["message"]
    assert DEMO_PROJECT in warnings[0]["message"]


def forgeries(uid: str) -> dict[str, str]:
    now = int(time.time())
    return {
        "another audience": emulator_token(uid, aud="demo-another-app"),
        "another issuer": emulator_token(uid, iss="https://securetoken.google.com/demo-other"),
        "issuer of another kind": emulator_token(uid, iss="https://evil.example"),
        "expired": emulator_token(uid, iat=now - 7200, exp=now - 3600),
        "issued in the future": emulator_token(uid, iat=now + 3600, exp=now + 7200),
        "empty sub": emulator_token(uid, sub=""),
        "blank sub": emulator_token(uid, sub="   "),
        "no sub": emulator_token(uid, omit=("sub",)),
        "no exp": emulator_token(uid, omit=("exp",)),
        "no iat": emulator_token(uid, omit=("iat",)),
        "no aud": emulator_token(uid, omit=("aud",)),
        "no iss": emulator_token(uid, omit=("iss",)),
        "a signature": emulator_token(uid, signature=b64(b"x" * 32)),
        "alg None": emulator_token(uid, header={"alg": "None", "typ": "JWT"}),
        "alg NONE": emulator_token(uid, header={"alg": "NONE", "typ": "JWT"}),
        "alg none with a space": emulator_token(uid, header={"alg": "none ", "typ": "JWT"}),
        "no alg": emulator_token(uid, header={"typ": "JWT"}),
        "alg none and a kid": emulator_token(uid, header={"alg": "none", "typ": "JWT", "kid": "k"}),
        "alg none and a jku": emulator_token(
            uid, header={"alg": "none", "typ": "JWT", "jku": "https://evil.example/jwks"}
        ),
        "alg none and crit": emulator_token(uid, header={"alg": "none", "crit": ["exp"]}),
        "typ other than JWT": emulator_token(uid, header={"alg": "none", "typ": "at+jwt"}),
        "alg HS256 and no signature": emulator_token(uid, header={"alg": "HS256", "typ": "JWT"}),
        "two dots missing": emulator_token(uid).rstrip("."),
        "garbage": "this-is.not-a.jwt",
    }


@pytest.mark.parametrize("kind", list(forgeries("x")))
def test_a_forged_token_is_refused_in_emulator_mode(
    kind, emulator_function, stripe_standin, new_uid
):
    calls_before = len(stripe_standin.requests())
    response = emulator_function.post(forgeries(new_uid)[kind])
    assert_refused(response, stripe_standin, calls_before, kind)


def test_a_signed_token_is_refused_in_emulator_mode_even_with_the_right_claims(
    emulator_function, dev_issuer, stripe_standin, new_uid
):
    # Emulator mode trusts the emulator's tokens only, as the Firebase Admin SDK does: no real
    # Firebase project is a demo- project, so a signed token for one is not a real user's.
    calls_before = len(stripe_standin.requests())
    signed = dev_issuer.mint(new_uid, iss=EMULATOR_ISSUER, aud=DEMO_PROJECT)
    response = emulator_function.post(signed)
    assert_refused(response, stripe_standin, calls_before, "RS256 token")
    assert "emulator" in response.json()["error"]["message"]


# ---- emulator mode refuses to start anywhere but on the emulators ----------------------------


def refused_start(stripe_standin, firestore_emulator, dev_issuer, name: str, **changes) -> str:
    env = function_env(
        stripe_standin, firestore_emulator, dev_issuer, **emulator_overrides(**changes)
    )
    with pytest.raises(ServerProcessError) as caught:
        start_function(env, name)
    return str(caught.value)


def test_emulator_mode_without_the_firestore_emulator_does_not_start(
    stripe_standin, firestore_emulator, dev_issuer
):
    message = refused_start(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        "emu-no-firestore",
        FIRESTORE_EMULATOR_HOST=None,
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert "FIRESTORE_EMULATOR_HOST" in message


def test_emulator_mode_with_a_live_key_does_not_start(
    stripe_standin, firestore_emulator, dev_issuer
):
    live_key = STRIPE_KEY.replace("_test_", "_live_")  # assembled here: no live key in the tree
    message = refused_start(
        stripe_standin, firestore_emulator, dev_issuer, "emu-live-key", STRIPE_SECRET_KEY=live_key
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert "live" in message
    assert live_key not in message


def test_emulator_mode_for_a_project_that_is_not_a_demo_project_does_not_start(
    stripe_standin, firestore_emulator, dev_issuer
):
    message = refused_start(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        "emu-real-project",
        AUTH_ISSUER="https://securetoken.google.com/acme-prod",
        AUTH_AUDIENCE="acme-prod",
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert "demo-" in message


def test_emulator_mode_with_another_issuer_than_the_projects_does_not_start(
    stripe_standin, firestore_emulator, dev_issuer
):
    message = refused_start(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        "emu-other-issuer",
        AUTH_ISSUER=dev_issuer.issuer,
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert "AUTH_ISSUER" in message


def test_emulator_mode_on_cloud_run_does_not_start(stripe_standin, firestore_emulator, dev_issuer):
    # Cloud Run, and so Cloud Functions gen2, sets K_SERVICE on every deployed instance.
    message = refused_start(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        "emu-cloud-run",
        K_SERVICE="create-portal-session",
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert "K_SERVICE" in message
