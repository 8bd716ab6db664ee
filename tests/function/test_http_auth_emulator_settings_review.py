"""Review attacks on when Firebase Auth emulator mode switches on (settings.auth_emulator_mode),
over real HTTP against a started function.

Emulator mode must fail closed: a blank `FIREBASE_AUTH_EMULATOR_HOST` is unset (signed tokens
only), and every marker Cloud Run sets on a deployed instance refuses emulator mode, not only
`K_SERVICE` (a platform or wrapper that drops one variable must not open the door).
`FUNCTION_TARGET` is no such marker: the functions framework and this suite set it locally.
"""

from __future__ import annotations

import pytest

from tests.function.test_http_auth_emulator import (
    DEMO_PROJECT,
    EMULATOR_ISSUER,
    assert_refused,
    emulator_token,
    refused_start,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_a_blank_emulator_host_is_not_emulator_mode(
    blank, function_factory, stripe_standin, new_uid
):
    function = function_factory(
        f"emu-blank-{len(blank)}-{ord(blank[0]) if blank else 0}",
        FIREBASE_AUTH_EMULATOR_HOST=blank,
        AUTH_ISSUER=EMULATOR_ISSUER,
        AUTH_AUDIENCE=DEMO_PROJECT,
    )
    calls_before = len(stripe_standin.requests())
    response = function.post(emulator_token(new_uid))
    assert_refused(response, stripe_standin, calls_before, f"blank host {blank!r}")
    assert "RS256" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("marker", "value"),
    [("K_REVISION", "create-portal-session-00001-abc"), ("K_CONFIGURATION", "portal")],
)
def test_emulator_mode_with_any_cloud_run_marker_does_not_start(
    marker, value, stripe_standin, firestore_emulator, dev_issuer
):
    # Cloud Run sets K_SERVICE, K_REVISION and K_CONFIGURATION on every instance; any one of them
    # is enough to know the instance is deployed.
    message = refused_start(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        f"emu-{marker.lower()}",
        **{marker: value},
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message
    assert marker in message


@pytest.mark.parametrize("marker", ["K_SERVICE", "K_REVISION", "K_CONFIGURATION"])
def test_a_blank_cloud_run_marker_does_not_refuse_emulator_mode(
    marker, function_factory, stripe_standin, new_uid
):
    # Only a value marks Cloud Run (a local shell may export the name empty): the emulator's
    # token still opens the portal, so the refusal above is the marker's, nothing else.
    function = function_factory(
        f"emu-blank-{marker.lower()}",
        FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
        AUTH_ISSUER=EMULATOR_ISSUER,
        AUTH_AUDIENCE=DEMO_PROJECT,
        **{marker: " "},
    )
    response = function.post(emulator_token(new_uid))
    assert response.status_code == 200, response.text
