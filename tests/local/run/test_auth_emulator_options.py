"""`local/run` with the Firebase Auth emulator: which tokens the function trusts, decided from
flags and FIREBASE_AUTH_EMULATOR_HOST, without starting anything."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from billing_portal.settings import load_settings
from local.run.options import RunError, check_ports, frontend_config, function_env, parse_options
from local.run.supervisor import summary
from tests.support.net import free_ports

FIRESTORE = "127.0.0.1:8089"
EMULATOR = ["--firebase-auth-emulator", "127.0.0.1:9099", "--firebase-project", "demo-acme"]


def test_the_auth_emulator_puts_the_function_in_emulator_mode_for_that_project() -> None:
    env = function_env(parse_options(EMULATOR, {}), {}, FIRESTORE)
    assert env["FIREBASE_AUTH_EMULATOR_HOST"] == "127.0.0.1:9099"
    assert env["AUTH_ISSUER"] == "https://securetoken.google.com/demo-acme"
    assert env["AUTH_AUDIENCE"] == "demo-acme"
    settings = load_settings({**env, "PATH": "/bin"})  # the function starts with it
    assert settings.auth_emulator_host == "127.0.0.1:9099"


def test_firebase_tools_variable_names_the_emulator_as_the_flag_does() -> None:
    chosen = parse_options(
        ["--firebase-project", "demo-acme"], {"FIREBASE_AUTH_EMULATOR_HOST": "localhost:9199"}
    )
    env = function_env(chosen, {}, FIRESTORE)
    assert env["FIREBASE_AUTH_EMULATOR_HOST"] == "localhost:9199"


def test_under_firebase_emulators_exec_the_project_comes_from_gcloud_project() -> None:
    # `firebase emulators:exec --only auth --project demo-acme "make run"` sets both variables.
    env = {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099", "GCLOUD_PROJECT": "demo-acme"}
    trusted = parse_options([], env).token_issuer
    assert trusted is not None
    assert (trusted.auth_emulator, trusted.project) == ("127.0.0.1:9099", "demo-acme")
    with pytest.raises(RunError, match="demo-"):  # a real project is still refused
        parse_options([], {**env, "GCLOUD_PROJECT": "acme-prod"})
    # GCLOUD_PROJECT alone (a developer's gcloud setting) changes nothing
    assert parse_options([], {"GCLOUD_PROJECT": "demo-acme"}).token_issuer is None


def test_the_shells_variable_reaches_the_function_only_through_the_options() -> None:
    # Without the run's own decision, the variable of the developer's shell is not passed on.
    env = function_env(parse_options([], {}), {"FIREBASE_AUTH_EMULATOR_HOST": "x:1"}, FIRESTORE)
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in env
    env = function_env(
        parse_options(["--firebase-project", "acme-dev"], {}),
        {"FIREBASE_AUTH_EMULATOR_HOST": "x:1"},
        FIRESTORE,
    )
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in env


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--firebase-auth-emulator", "127.0.0.1:9099"], "--firebase-project demo-"),
        (["--firebase-auth-emulator", "127.0.0.1:9099", "--firebase-project", "acme"], "demo-"),
        (
            ["--firebase-auth-emulator", "http://127.0.0.1:9099", "--firebase-project", "demo-a1"],
            "host:port",
        ),
        ([*EMULATOR, "--auth-issuer", "https://i.example"], "--auth-issuer"),
        (
            ["--start-firebase-auth-emulator", "--firebase-auth-emulator", "10.0.0.2:9099"],
            "127.0.0.1",
        ),
    ],
)
def test_a_mistaken_emulator_setting_is_refused_naming_the_fix(argv, named) -> None:
    with pytest.raises(RunError, match=named.replace("-", "\\-")):
        parse_options(argv, {})


def test_starting_the_emulator_defaults_its_address_and_a_demo_project() -> None:
    trusted = parse_options(["--start-firebase-auth-emulator"], {}).token_issuer
    assert trusted is not None
    assert trusted.auth_emulator == "127.0.0.1:9099"
    assert trusted.project.startswith("demo-")
    assert trusted.start_auth_emulator


def test_a_busy_auth_emulator_port_stops_the_run_before_it_starts() -> None:
    ports = free_ports(7)
    flags = [
        item
        for name, port in zip(
            ("function", "webhook", "web", "stripe", "firestore", "issuer"), ports, strict=False
        )
        for item in (f"--{name}-port", str(port))
    ]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports[6]))
        busy.listen()
        chosen = parse_options(
            [
                *flags,
                "--start-firebase-auth-emulator",
                "--firebase-auth-emulator",
                f"127.0.0.1:{ports[6]}",
            ],
            {},
        )
        with pytest.raises(RunError, match="Firebase Auth emulator"):
            check_ports(chosen)


def test_the_page_config_and_the_summary_say_whose_tokens_are_trusted() -> None:
    chosen = parse_options(EMULATOR, {})
    firebase = frontend_config(chosen)["firebase"]
    assert firebase["projectId"] == "demo-acme"
    assert firebase["authEmulatorUrl"] == "http://127.0.0.1:9099"
    assert frontend_config(parse_options([], {}))["firebase"] is None
    table = summary(chosen, FIRESTORE, Path("/tmp/logs"))
    assert "UNSIGNED ID tokens of the Firebase Auth emulator at 127.0.0.1:9099" in table
    assert "signatures NOT checked" in table
    assert "/example/firebase.html" in table
