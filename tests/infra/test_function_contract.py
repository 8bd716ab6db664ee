"""One contract between `pulumi preview` and the function: a stack that previews starts.

The function's settings module owns the environment contract; infra builds the environment
through it and runs the function's own `load_settings` on it while reading the stack. These tests
hold both sides to that: every stack infra accepts gives an environment the function accepts, and
a stack the function would refuse fails at preview naming the stack key to change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_portal import settings as function_settings
from infra.service import function_environment
from stackspec.settings import SecretValue, SettingsError, parse_settings
from tests.infra.mocks import PORTAL_CONFIGURATION_ID
from tests.stackspec.stack_configs import minimal_config

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def deployed_env(config, stack="dev") -> dict[str, str]:
    """The environment the function would get from this stack: plain vars + the secret key."""
    stack_settings = parse_settings(stack, config)
    env = dict(function_environment(stack_settings, PORTAL_CONFIGURATION_ID, None))
    env["STRIPE_SECRET_KEY"] = stack_settings.stripe_secret_key.value
    return env


def refusal(config, stack="dev"):
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack, config)
    return raised.value.problems


def test_the_stacks_retention_coupons_reach_the_function_and_nothing_else_is_offered():
    assert "RETENTION_COUPONS" not in deployed_env(minimal_config())
    env = deployed_env(minimal_config(retentionCoupons=["WINBACK20", "LOYAL10"]))
    assert env["RETENTION_COUPONS"] == "WINBACK20,LOYAL10"
    assert function_settings.load_settings(env).retention_coupons == {"WINBACK20", "LOYAL10"}


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"defaultReturnUrl": "https://evil.example\\@app.example.com/x"}, "defaultReturnUrl"),
        ({"allowedOrigins": ["http://0.0.0.0:5173"]}, "allowedOrigins"),
        ({"allowedReturnOrigins": ["https://app.example.com\\"]}, "allowedReturnOrigins"),
        ({"allowedOrigins": ["https://app .example.com"]}, "allowedOrigins"),
        ({"stripeSecretKey": SecretValue("rk_test_short")}, "stripeSecretKey"),
        ({"retentionCoupons": ["WIN BACK"]}, "retentionCoupons"),
    ],
    ids=[
        "backslash-url",
        "http-0.0.0.0",
        "backslash-origin",
        "space-origin",
        "short-key",
        "coupon-with-space",
    ],
)
def test_a_stack_the_function_would_refuse_fails_at_preview_naming_its_key(values, key):
    problems = refusal(minimal_config(**values))
    assert [p.key.split("[")[0] for p in problems] == [f"billing-portal:{key}"], problems
    assert problems[0].fix


@pytest.mark.parametrize(
    "values",
    [
        {"defaultReturnUrl": "http://app.localhost:5173/account"},
        {"allowedOrigins": ["http://app.localhost:5173", "https://app.example.com:443"]},
        {"allowedReturnOrigins": ["HTTPS://App.Example.com"]},
        {"stripeSecretKey": SecretValue("rk_test_12345678")},
    ],
    ids=["app.localhost", "default-port", "upper-case", "8-char-key"],
)
def test_a_stack_infra_accepts_gives_an_environment_the_function_starts_with(values):
    function_settings.load_settings(deployed_env(minimal_config(**values)))


def test_infra_builds_the_environment_with_the_function_contract_names():
    names = {variable.name for variable in function_settings.CONTRACT}
    assert set(deployed_env(minimal_config())) <= names


# Valid origins and URLs with one piece inserted that makes URL parsers disagree, and keys.
_TRICKY = st.sampled_from(
    [
        *("\\", "@", ":", ".", "%2e", " ", "\t", "ä", "/", ":443", ":80", ":0", "#", "?", "-"),
        *("x", "[::1]", "0.0.0.0", "127.1", "//", "user@", "app.localhost", "HTTP"),  # noqa: S104
    ]
)
_BASES = [
    "https://app.example.com",
    "http://localhost:5173",
    "http://127.0.0.1:8080",
    "http://0.0.0.0:8080",
    "https://app.example.com/account",
    "http://app.localhost:5173/x",
]


def _insert(base: str, at: int, piece: str) -> str:
    at = at % (len(base) + 1)
    return base[:at] + piece + base[at:]


_urls = st.one_of(
    st.sampled_from(_BASES),
    st.builds(_insert, st.sampled_from(_BASES), st.integers(0, 40), _TRICKY),
)
_keys = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["sk_test_", "rk_test_", "sk_live_", "pk_test_", "sk_test"]),
    st.text(alphabet="abcXYZ019_-", max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    default_return_url=_urls,
    origins=st.lists(_urls, max_size=2),
    return_origins=st.lists(_urls, max_size=2),
    key=st.one_of(_keys, st.just("rk_test_FunctionKey0001")),
    production=st.booleans(),
)
def test_whatever_infra_accepts_the_function_accepts(
    default_return_url, origins, return_origins, key, production
):
    values = {
        "defaultReturnUrl": default_return_url,
        "allowedOrigins": origins,
        "allowedReturnOrigins": return_origins,
        "stripeSecretKey": SecretValue(key),
        "production": production,
    }
    if production:
        values["portal"] = {
            "businessProfile": {
                "termsOfServiceUrl": "https://example.com/terms",
                "privacyPolicyUrl": "https://example.com/privacy",
            }
        }
    config = minimal_config(**values)
    try:
        env = deployed_env(config, "prod" if production else "dev")
    except SettingsError:
        return  # infra refuses: nothing to deploy
    function_settings.load_settings(env)  # must not raise


def test_the_documented_contract_table_is_the_code_table():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- function-contract:begin -->\n(.*?)<!-- function-contract:end -->", text, re.DOTALL
    )
    assert match, "docs/architecture.md has no generated function contract table"
    assert match.group(1) == function_settings.contract_table(), (
        "docs/architecture.md's function contract table is stale; regenerate it with "
        "`.venv/bin/python -m tools.function_contract`"
    )


def test_preview_runs_the_functions_check_on_both_entry_points_environments(monkeypatch):
    from stackspec import function_contract

    stack = parse_settings("dev", minimal_config())  # itself runs the check: before recording
    seen: list[dict] = []
    real = function_settings.load_settings
    monkeypatch.setattr(
        function_settings, "load_settings", lambda env: seen.append(dict(env)) or real(env)
    )
    assert function_contract.preview_problem(stack) is None
    targets = [env["FUNCTION_TARGET"] for env in seen]
    assert targets == [function_settings.SESSION_ENTRY_POINT, function_settings.WEBHOOK_ENTRY_POINT]
    session, webhook = seen
    assert "STRIPE_WEBHOOK_SECRET" not in session
    assert webhook["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
    assert {
        k: v for k, v in webhook.items() if k not in ("STRIPE_WEBHOOK_SECRET", "FUNCTION_TARGET")
    } == {k: v for k, v in session.items() if k != "FUNCTION_TARGET"}
