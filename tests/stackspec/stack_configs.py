"""Stack configs for tests, as a stack file holds them and as the Pulumi engine passes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from stackspec.settings import SecretValue

REPO = Path(__file__).resolve().parents[2]
PROJECT_FILE = REPO / "Pulumi.yaml"
FUNCTION_KEY = "rk_test_FunctionKey0000000000000000001"


def _as_engine_text(value: Any) -> str:
    # How the Pulumi CLI hands config to a program: strings; objects and lists as JSON text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def engine_config(
    stack_config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """A stack's config as the engine passes it: Pulumi.yaml defaults applied, all text."""
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    values: dict[str, Any] = {
        f"billing-portal:{name}": spec["default"]
        for name, spec in declared.items()
        if "default" in spec
    }
    values.update(stack_config)
    values.update(secrets)
    return {key: _as_engine_text(value) for key, value in values.items()}, sorted(secrets)


def minimal_config(**project_values: Any) -> dict[str, Any]:
    """The smallest valid dev config as a stack file holds it, plus `project_values`."""
    config: dict[str, Any] = {
        "gcp:project": "acme-billing-dev",
        "billing-portal:stripeSecretKey": SecretValue(FUNCTION_KEY),
        "billing-portal:defaultReturnUrl": "https://app.example.com/account",
    }
    config.update({f"billing-portal:{key}": value for key, value in project_values.items()})
    return config


def portal(**features: Any) -> dict[str, Any]:
    """A `portal` config value with the given features."""
    return {"features": features}
