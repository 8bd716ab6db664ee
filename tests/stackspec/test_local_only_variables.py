"""The local-only variables never reach a deployed function: preview refuses them, every stack.

No stack key sets `FIREBASE_AUTH_EMULATOR_HOST` (Firebase Auth emulator mode: unsigned tokens)
or `FIRESTORE_EMULATOR_HOST`; the stack model builds the function's environment from its typed
settings alone. The contract check refuses them anyway, so that a future stack key, or a change
to how the environment is built, that let one through would fail at `pulumi preview`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackspec import function_contract
from stackspec.settings import SettingsError, parse_settings
from stackspec.stackfiles import read_settings, stack_names
from tests.stackspec.stack_configs import minimal_config

REPO = Path(__file__).resolve().parents[2]
DEMO = "demo-billing-portal"


def emulator_mode_env() -> dict[str, str]:
    """An environment the function itself accepts in emulator mode (a test key, the Firestore
    emulator, a demo- project): only the deploy-time rule can refuse it."""
    return {
        "STRIPE_SECRET_KEY": "rk_test_" + "a" * 24,
        "DEFAULT_RETURN_URL": "http://localhost:5173/",
        "GOOGLE_CLOUD_PROJECT": DEMO,
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8089",
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
    }


def test_the_function_alone_would_start_in_emulator_mode_with_that_environment():
    settings = function_contract.function_settings.load_settings(emulator_mode_env())
    assert settings.auth_emulator_host == "127.0.0.1:9099"


@pytest.mark.parametrize("variable", ["FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"])
def test_the_contract_check_refuses_a_local_only_variable(variable):
    env = emulator_mode_env()
    if variable == "FIRESTORE_EMULATOR_HOST":
        del env["FIREBASE_AUTH_EMULATOR_HOST"]
    found = function_contract.check_environment(env)
    assert found is not None
    _key, message = found
    assert variable in message
    assert "local" in message


@pytest.mark.parametrize("stack", stack_names(REPO))
def test_preview_refuses_the_auth_emulator_variable_for_every_stack(stack, monkeypatch):
    settings = read_settings(REPO / f"Pulumi.{stack}.yaml")
    assert function_contract.preview_problem(settings) is None  # the stack as it is previews
    real = function_contract.function_environment

    def with_emulator(*args, **kwargs):  # a stack that could name the Auth emulator
        return {**real(*args, **kwargs), "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}

    monkeypatch.setattr(function_contract, "function_environment", with_emulator)
    found = function_contract.preview_problem(settings)
    assert found is not None
    assert "FIREBASE_AUTH_EMULATOR_HOST" in found[1]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_whose_function_would_get_the_variable_fails_at_preview(stack, monkeypatch):
    real = function_contract.function_environment
    monkeypatch.setattr(
        function_contract,
        "function_environment",
        lambda *a, **k: {**real(*a, **k), "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"},
    )
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack, minimal_config())
    assert "FIREBASE_AUTH_EMULATOR_HOST" in str(raised.value)
