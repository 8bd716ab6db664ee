"""Which app an instance builds: the row of `ENTRY_POINTS` its `FUNCTION_TARGET` names.

In-process, from the environment a test server gets: `build_instance` opens nothing (it runs in
gunicorn's master), so it can be called here; the HTTP tests prove each app answers.
"""

from __future__ import annotations

import pytest

from billing_portal.app import PortalApp
from billing_portal.entry_points import build_instance
from billing_portal.settings import SESSION_ENTRY_POINT, WEBHOOK_ENTRY_POINT
from billing_portal.webhooks import WebhookApp
from tests.function.conftest import WEBHOOK_SECRET, function_env

pytestmark = pytest.mark.integration


@pytest.fixture
def instance_env(stripe_standin, firestore_emulator, dev_issuer, monkeypatch):
    """A test server's environment; the Firestore client reads its emulator from the process."""

    def env(**overrides: str) -> dict[str, str]:
        built = function_env(stripe_standin, firestore_emulator, dev_issuer, **overrides)
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", built["FIRESTORE_EMULATOR_HOST"])
        return built

    return env


def test_the_session_target_builds_the_portal_app_with_its_boot_warm_up(instance_env):
    instance = build_instance(instance_env(FUNCTION_TARGET=SESSION_ENTRY_POINT))
    assert instance.target == SESSION_ENTRY_POINT
    assert isinstance(instance.app, PortalApp), f"{SESSION_ENTRY_POINT} built {instance.app!r}"
    assert instance.warm_up is instance.app.boot, "main.py would start another warm-up"


def test_the_webhook_target_builds_the_webhook_app_and_warms_nothing_up(instance_env):
    env = instance_env(FUNCTION_TARGET=WEBHOOK_ENTRY_POINT, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    instance = build_instance(env)
    assert instance.target == WEBHOOK_ENTRY_POINT
    assert isinstance(instance.app, WebhookApp), f"{WEBHOOK_ENTRY_POINT} built {instance.app!r}"
    assert instance.warm_up is None, "the webhook instance would warm up at boot"
