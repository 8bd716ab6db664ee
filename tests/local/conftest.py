"""Fixtures for the tests of the local parts themselves."""

from __future__ import annotations

import pytest
import stripe

from local.stripe import StandinControl


@pytest.fixture
def sdk(fresh_stripe_standin: StandinControl) -> stripe.StripeClient:
    """The real stripe SDK on a freshly reset stand-in, without retries (errors surface as-is)."""
    return fresh_stripe_standin.client(max_network_retries=0)


@pytest.fixture
def launcher_emulator(fresh_firestore):
    """The project's own emulator, reset; skips when FIRESTORE_EMULATOR_HOST names another."""
    if not fresh_firestore.supports_control:
        pytest.skip("needs the project's Firestore launcher (FIRESTORE_EMULATOR_HOST is set)")
    return fresh_firestore
