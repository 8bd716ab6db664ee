"""Where an admin tool (`tools.adopt`, `tools.backfill`) gets its settings: the function's own.

The tools run with the session function's environment contract (`STRIPE_SECRET_KEY`,
`STRIPE_API_BASE`, `CUSTOMERS_COLLECTION`, `GOOGLE_CLOUD_PROJECT`, `FIRESTORE_DATABASE`,
`FIRESTORE_EMULATOR_HOST`) and build the function's own clients from it, so they read and write
exactly what the deployed function does. `--stack NAME` takes the deployment's Firestore settings
(`gcp:project`, `firestore.database`, `customersCollection`) from `Pulumi.<NAME>.yaml` instead;
a variable set in the environment that disagrees with the stack is refused rather than silently
preferred (a leftover `CUSTOMERS_COLLECTION` of dev must not send a prod run elsewhere). The Stripe
key always comes from the environment (stack files hold it encrypted). A live key with a stack
that is not `production: true` is refused, as `pulumi preview` refuses it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "function") not in sys.path:
    sys.path.append(str(REPO / "function"))

from billing_portal.settings import Settings, SettingsError, load_settings  # noqa: E402

# What load_settings needs but the tools never use (no sessions, no tokens).
UNUSED_DEFAULTS = {
    "DEFAULT_RETURN_URL": "https://admin-tool.example.com/",
    "AUTH_ISSUER": "https://admin-tool.example.com",
    "AUTH_AUDIENCE": "admin-tool",
    "AUTH_JWKS_URL": "https://admin-tool.example.com/jwks",
}


class ToolSetupError(ValueError):
    """The tool cannot run with these settings (exit status 2); the message says how to fix it."""


def stack_values(stack: str, project_dir: Path = REPO) -> tuple[dict[str, str], bool]:
    """({variable: value} of the Firestore settings of `stack`, is it production)."""
    from stackspec.settings import SettingsError as StackSettingsError
    from stackspec.stackfiles import StackFileError, StackNotFound, read_settings, stack_file

    try:
        settings = read_settings(stack_file(project_dir, stack))
    except (StackNotFound, StackFileError, StackSettingsError) as error:
        raise ToolSetupError(str(error)) from None
    values = {
        "GOOGLE_CLOUD_PROJECT": settings.gcp_project,
        "FIRESTORE_DATABASE": settings.firestore.database,
        "CUSTOMERS_COLLECTION": settings.customers_collection,
    }
    return values, settings.production


def tool_environment(
    env: Mapping[str, str], stack: str | None, project_dir: Path = REPO
) -> dict[str, str]:
    """The environment a tool builds its clients from: `env`, completed by `stack` if given."""
    merged = {**UNUSED_DEFAULTS, **env}
    if stack is None:
        return merged
    values, production = stack_values(stack, project_dir)
    for name, value in values.items():
        if env.get(name) not in (None, "", value):
            raise ToolSetupError(
                f"{name}={env[name]} in the environment, but stack {stack} says {value}. "
                f"Fix: unset {name} (the stack's value is used) or run without --stack"
            )
        merged[name] = value
    key = env.get("STRIPE_SECRET_KEY", "")
    if "_live_" in key[:8] and not production:
        raise ToolSetupError(
            f"STRIPE_SECRET_KEY is a live key but stack {stack} is not production. Fix: use "
            f"the stack's test key (rk_test_…), or the production stack"
        )
    return merged


def tool_settings(env: Mapping[str, str], stack: str | None = None) -> Settings:
    """The function's settings for a tool run; `ToolSetupError` names what is wrong."""
    try:
        return load_settings(tool_environment(env, stack))
    except SettingsError as error:
        raise ToolSetupError(str(error)) from None
