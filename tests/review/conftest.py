"""Fixtures of the drift tests that talk to the Stripe stand-in."""

from __future__ import annotations

import pytest

from local.run.stack_features import create_stack_features
from stackspec.stackfiles import read_settings
from tests.review.review_support import DEV_PRODUCT_IDS, REPO


@pytest.fixture
def standin(fresh_stripe_standin):
    """The Stripe stand-in, reset for this test, with the dev and prod stacks' features attached
    to their products as `pulumi up` attaches them (dev's products under `DEV_PRODUCT_IDS`)."""
    client = fresh_stripe_standin.client()
    for stack in ("dev", "prod"):
        create_stack_features(client, read_settings(REPO / f"Pulumi.{stack}.yaml"), DEV_PRODUCT_IDS)
    return fresh_stripe_standin


@pytest.fixture
def env(standin) -> dict[str, str]:
    """The environment `python -m review drift` reads its key and endpoint from."""
    return {"STRIPE_API_KEY": standin.test_key, "STRIPE_API_BASE": standin.url}
