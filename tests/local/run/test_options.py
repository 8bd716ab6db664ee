"""`local/run` decisions, without starting anything: ports, Stripe mode, the function's env."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_portal.settings import load_settings
from local.run.options import (
    PORTS,
    Options,
    RunError,
    check_ports,
    frontend_config,
    function_env,
    parse_options,
)
from local.run.supervisor import summary
from tests.support.net import free_ports

TEST_KEY = "sk_test_" + "a1" * 12
FIRESTORE = "127.0.0.1:8089"


def options(**env: str) -> Options:
    return parse_options([], env)


def test_ports_default_to_the_documented_numbers() -> None:
    assert options().ports == {
        "function": 8080,
        "webhook": 8081,
        "web": 5173,
        "stripe": 12111,
        "firestore": 8089,
        "issuer": 9919,
    }


def test_an_environment_variable_changes_a_port() -> None:
    assert options(LOCAL_FUNCTION_PORT="18080").ports["function"] == 18080


def test_a_flag_wins_over_the_environment() -> None:
    chosen = parse_options(["--web-port", "15173"], {"LOCAL_WEB_PORT": "25173"})
    assert chosen.ports["web"] == 15173


def test_a_malformed_port_variable_is_refused_naming_it() -> None:
    with pytest.raises(RunError, match="LOCAL_ISSUER_PORT"):
        options(LOCAL_ISSUER_PORT="ninety")


def test_two_parts_on_one_port_are_refused_naming_both_flags() -> None:
    ports = dict(zip((port.name for port in PORTS), free_ports(len(PORTS)), strict=True))
    ports["issuer"] = ports["function"]
    with pytest.raises(RunError, match="--issuer-port and --function-port"):
        check_ports(Options(ports, None, None))


def test_without_a_stripe_key_the_function_talks_to_the_stand_in() -> None:
    run = options()
    env = function_env(run, {}, FIRESTORE)
    assert env["STRIPE_API_BASE"] == "http://127.0.0.1:12111"
    assert env["STRIPE_SECRET_KEY"].startswith("sk_test_")


def test_a_stripe_test_key_selects_real_stripe_without_an_api_base() -> None:
    run = options(STRIPE_SECRET_KEY=TEST_KEY)
    env = function_env(run, {"STRIPE_API_BASE": "http://127.0.0.1:1"}, FIRESTORE)
    assert run.real_stripe
    assert "STRIPE_API_BASE" not in env, "real Stripe test mode must not keep a stand-in base"
    assert env["STRIPE_SECRET_KEY"] == TEST_KEY


def test_a_live_stripe_key_is_refused() -> None:
    with pytest.raises(RunError, match="live-mode key"):
        options(STRIPE_SECRET_KEY="sk_live_" + "b2" * 12)


def test_a_key_that_is_not_a_secret_key_is_refused() -> None:
    with pytest.raises(RunError, match="not a Stripe test secret key"):
        options(STRIPE_SECRET_KEY="pk_test_" + "c3" * 12)


def test_the_function_trusts_the_development_issuer() -> None:
    env = function_env(options(), {}, FIRESTORE)
    assert env["AUTH_ISSUER"] == "http://127.0.0.1:9919"
    assert env["AUTH_JWKS_URL"] == "http://127.0.0.1:9919/jwks"
    assert env["AUTH_AUDIENCE"] == "billing-portal-local"


def test_the_function_allows_the_example_frontend_origins() -> None:
    env = function_env(options(), {}, FIRESTORE)
    assert env["ALLOWED_ORIGINS"] == "http://127.0.0.1:5173,http://localhost:5173"


def test_the_portal_returns_to_the_example_page_by_default() -> None:
    env = function_env(options(), {}, FIRESTORE)
    assert env["DEFAULT_RETURN_URL"] == "http://127.0.0.1:5173/example/"


def test_the_function_uses_the_firestore_emulator() -> None:
    env = function_env(options(), {"FIRESTORE_EMULATOR_HOST": "elsewhere:1"}, FIRESTORE)
    assert env["FIRESTORE_EMULATOR_HOST"] == FIRESTORE


@pytest.mark.parametrize("stripe_key", [None, TEST_KEY], ids=["stand-in", "real-test-mode"])
def test_the_function_environment_passes_the_functions_own_validation(
    stripe_key: str | None,
) -> None:
    env = {"STRIPE_SECRET_KEY": stripe_key} if stripe_key else {}
    settings = load_settings(function_env(options(**env), {}, FIRESTORE))
    assert settings.mode == "test"


def test_the_served_page_config_points_at_this_runs_ports() -> None:
    config = frontend_config(
        parse_options(["--function-port", "18080", "--issuer-port", "19099"], {})
    )
    assert config["functionUrl"] == "http://127.0.0.1:18080/"
    assert config["issuerTokenUrl"] == "http://127.0.0.1:19099/_issuer/token"


def test_the_served_page_config_has_the_plans_and_no_development_endpoint() -> None:
    plans = {"price_1": {"product": "Acme Team", "amount": 2900, "currency": "eur"}}
    for config in (
        frontend_config(options(), plans),
        frontend_config(options(STRIPE_SECRET_KEY=TEST_KEY), plans),
    ):
        assert config["plans"] == plans
        # a plan starts through the function's Checkout, as in a deployed stack
        assert "testSubscriptionUrl" not in config
        assert "subscriptionId" not in config, "the page takes the subscription from GET"


# ---- the webhook function ----------------------------------------------------------------


def test_the_webhook_port_is_checked_like_the_others() -> None:
    ports = dict(zip((port.name for port in PORTS), free_ports(len(PORTS)), strict=True))
    ports["webhook"] = ports["function"]
    with pytest.raises(RunError, match="--webhook-port and --function-port"):
        check_ports(Options(ports, None, None))
    assert options(LOCAL_WEBHOOK_PORT="18081").ports["webhook"] == 18081


def test_the_webhook_function_serves_stripe_webhook_with_a_generated_secret() -> None:
    run = options()
    env = function_env(
        run, {"STRIPE_WEBHOOK_SECRET": "whsec_elsewhere0"}, FIRESTORE, None, "stripe_webhook"
    )
    assert env["FUNCTION_TARGET"] == "stripe_webhook"
    assert env["STRIPE_WEBHOOK_SECRET"] == run.webhook_secret
    assert run.webhook_secret.startswith("whsec_") and not run.webhook_secret_given
    settings = load_settings(env)
    assert settings.function_target == "stripe_webhook"
    assert options().webhook_secret != run.webhook_secret, "a new secret per run"


def test_the_session_function_gets_no_webhook_secret() -> None:
    env = function_env(options(), {"STRIPE_WEBHOOK_SECRET": "whsec_x"}, FIRESTORE)
    assert env["FUNCTION_TARGET"] == "create_portal_session"
    assert "STRIPE_WEBHOOK_SECRET" not in env


def test_a_given_webhook_secret_is_used_as_the_stripe_cli_prints_it() -> None:
    run = options(STRIPE_SECRET_KEY=TEST_KEY, STRIPE_WEBHOOK_SECRET="whsec_fromStripeCli123")
    assert run.webhook_secret == "whsec_fromStripeCli123" and run.webhook_secret_given
    env = function_env(run, {}, FIRESTORE, None, "stripe_webhook")
    assert env["STRIPE_WEBHOOK_SECRET"] == "whsec_fromStripeCli123"


def test_a_malformed_webhook_secret_is_refused_naming_it() -> None:
    with pytest.raises(RunError, match="STRIPE_WEBHOOK_SECRET"):
        options(STRIPE_WEBHOOK_SECRET="not-a-secret")


def test_the_summary_has_the_webhook_row_and_in_real_stripe_mode_the_stripe_cli_command() -> None:
    table = summary(options(), FIRESTORE, Path("/tmp/logs"))
    assert "webhook    http://127.0.0.1:8081/" in table
    assert "the stand-in forwards every event to it" in table
    real = summary(options(STRIPE_SECRET_KEY=TEST_KEY), FIRESTORE, Path("/tmp/logs"))
    assert "stripe listen --forward-to http://127.0.0.1:8081/" in real
    assert "STRIPE_WEBHOOK_SECRET=whsec_" in real
    given = options(STRIPE_SECRET_KEY=TEST_KEY, STRIPE_WEBHOOK_SECRET="whsec_fromStripeCli123")
    assert "verifying STRIPE_WEBHOOK_SECRET" in summary(given, FIRESTORE, Path("/tmp/logs"))


# ---- whose tokens the local function trusts ---------------------------------------------------


def test_the_issuer_port_does_not_clash_with_the_firebase_auth_emulator() -> None:
    assert options().ports["issuer"] != 9099  # the Firebase Auth emulator's default port


def test_by_default_the_function_trusts_the_development_sign_in() -> None:
    env = function_env(options(), {}, FIRESTORE)
    assert env["AUTH_ISSUER"] == options().url("issuer", "").rstrip("/")
    assert env["AUTH_JWKS_URL"] == options().url("issuer", "/jwks")


def test_a_firebase_project_makes_the_function_verify_that_projects_tokens() -> None:
    chosen = parse_options(["--firebase-project", "acme-dev"], {})
    env = function_env(chosen, {}, FIRESTORE)
    assert env["AUTH_ISSUER"] == "https://securetoken.google.com/acme-dev"
    assert env["AUTH_AUDIENCE"] == "acme-dev"
    assert env["AUTH_JWKS_URL"].startswith("https://www.googleapis.com/")
    assert load_settings({**env, "PATH": "/bin"}).auth_issuer.endswith("/acme-dev")


def test_the_firebase_project_can_come_from_the_environment() -> None:
    env = function_env(options(LOCAL_FIREBASE_PROJECT="acme-dev"), {}, FIRESTORE)
    assert env["AUTH_AUDIENCE"] == "acme-dev"


def test_another_oidc_issuer_needs_all_three_settings() -> None:
    with pytest.raises(RunError, match="--auth-audience"):
        parse_options(["--auth-issuer", "https://issuer.example"], {})
    chosen = parse_options(
        [
            "--auth-issuer",
            "https://issuer.example",
            "--auth-audience",
            "my-app",
            "--auth-jwks-url",
            "https://issuer.example/jwks",
        ],
        {},
    )
    env = function_env(chosen, {}, FIRESTORE)
    assert (env["AUTH_ISSUER"], env["AUTH_AUDIENCE"], env["AUTH_JWKS_URL"]) == (
        "https://issuer.example",
        "my-app",
        "https://issuer.example/jwks",
    )


def test_a_firebase_project_and_another_issuer_are_one_too_many() -> None:
    with pytest.raises(RunError, match="--firebase-project"):
        parse_options(["--firebase-project", "p", "--auth-issuer", "https://i.example"], {})


def test_an_app_origin_is_allowed_by_cors_and_as_a_return_origin() -> None:
    chosen = parse_options(["--app-origin", "http://localhost:3000"], {})
    env = function_env(chosen, {}, FIRESTORE)
    assert "http://localhost:3000" in env["ALLOWED_ORIGINS"].split(",")
    assert "http://localhost:3000" in env["ALLOWED_RETURN_ORIGINS"].split(",")
    assert load_settings({**env, "PATH": "/bin"}).allowed_origins >= {"http://localhost:3000"}


def test_a_malformed_app_origin_is_refused_naming_the_flag() -> None:
    with pytest.raises(RunError, match="--app-origin"):
        parse_options(["--app-origin", "localhost:3000/app"], {})
