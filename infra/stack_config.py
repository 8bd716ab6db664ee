"""The thin adapter between the Pulumi engine's config and the pure settings parser.

The engine hands the program every config value of the stack (Pulumi.yaml defaults applied) as
text, with the set of keys that were stored encrypted. This module passes them to
`parse_settings` unchanged, secret ones wrapped in `SecretValue`, and turns a `SettingsError` into
one that also is a `pulumi.RunError`, so `pulumi preview` prints just the list of problems.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from stackspec.settings import SecretValue, Settings, SettingsError, parse_settings


class StackSettingsError(SettingsError, pulumi.RunError):
    """A `SettingsError` that the Pulumi engine reports as a clean error, without a traceback."""


def engine_config() -> dict[str, Any]:
    """Every config value the engine gave this program, secrets wrapped in `SecretValue`."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    return {
        key: SecretValue(value)
        if runtime_config.is_config_secret(key) or key in secret_keys
        else value
        for key, value in values.items()
    }


def load_settings() -> Settings:
    """The current stack's settings, read from the engine; raises `StackSettingsError`."""
    stack = pulumi.get_stack()
    try:
        return parse_settings(stack, engine_config())
    except SettingsError as error:
        raise StackSettingsError(error.stack, error.problems) from None
