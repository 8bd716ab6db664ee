"""Fixtures of the drift tests that talk to the Stripe stand-in."""

from __future__ import annotations

import pytest


@pytest.fixture
def standin(fresh_stripe_standin):
    """The Stripe stand-in, reset for this test."""
    return fresh_stripe_standin


@pytest.fixture
def env(standin) -> dict[str, str]:
    """The environment `python -m review drift` reads its key and endpoint from."""
    return {"STRIPE_API_KEY": standin.test_key, "STRIPE_API_BASE": standin.url}
