"""The Firebase Auth emulator from the pinned npm firebase-tools: started offline, unsigned tokens.

Also holds the pins together: package.json pins firebase-tools and the Firebase JS SDK exactly,
node_modules has those versions, and web/example/firebase.html's import map names the SDK
version its auth module imports the app module from.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest

from local.firebase import FirebaseAuthEmulator
from local.firebase.auth import emulator_config, offline_env
from local.process import REPO_ROOT
from tests.support.processes import log_path

PROJECT = "demo-billing-portal-launcher"


@pytest.fixture(scope="module")
def emulator() -> Iterator[FirebaseAuthEmulator]:
    running = FirebaseAuthEmulator.start(project=PROJECT, log_path=log_path("firebase-auth"))
    try:
        yield running
    finally:
        running.stop()


def claims_of(token: str) -> tuple[dict, dict]:
    def part(text: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    head, body, _ = token.split(".")
    return part(head), part(body)


@pytest.mark.integration
def test_the_emulator_signs_users_up_with_unsigned_tokens_for_its_project(emulator):
    user = emulator.sign_up("launcher@example.com", "correct-horse-9")
    header, claims = claims_of(user["idToken"])
    assert header == {"alg": "none", "typ": "JWT"}
    assert user["idToken"].endswith(".")
    assert claims["iss"] == f"https://securetoken.google.com/{PROJECT}"
    assert claims["aud"] == PROJECT
    assert claims["sub"] == user["localId"]


@pytest.mark.integration
def test_the_emulator_started_without_the_ui_and_tried_no_network(emulator):
    log = emulator.process.log_text()
    assert "All emulators ready" in log
    assert "Unable to fetch the CLI MOTD" not in log  # the CLI's network call, skipped
    assert "View Emulator UI" not in log


def test_the_configuration_keeps_every_port_on_loopback_and_the_ui_off():
    config = emulator_config(9099, 9098, 9097)["emulators"]
    assert config["ui"] == {"enabled": False}
    assert {config[part]["host"] for part in ("auth", "hub", "logging")} == {"127.0.0.1"}


def test_the_cli_runs_without_its_network_calls_and_ignores_another_emulator(tmp_path):
    env = offline_env({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:1", "PATH": "/bin"}, tmp_path)
    assert env["CI"] == "true" and env["NO_UPDATE_NOTIFIER"] == "1"
    assert env["XDG_CONFIG_HOME"] == str(tmp_path)
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in env


def test_only_a_demo_project_is_started():
    with pytest.raises(ValueError, match="demo-"):
        FirebaseAuthEmulator.start(project="acme-prod", log_path=log_path("firebase-auth-no"))


def test_package_json_pins_what_node_modules_holds():
    pins = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]
    for name in ("firebase", "firebase-tools"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", pins[name]), f"{name} is not pinned exactly"
        installed = json.loads((REPO_ROOT / "node_modules" / name / "package.json").read_text())
        assert installed["version"] == pins[name], f"run `npm ci`: {name} differs from its pin"


def test_the_firebase_page_maps_the_sdks_own_app_import_to_the_local_file():
    auth_module = (REPO_ROOT / "node_modules" / "firebase" / "firebase-auth.js").read_text()
    (app_import,) = set(re.findall(r"https://www\.gstatic\.com/firebasejs/[^\"']+", auth_module))
    page = (REPO_ROOT / "web" / "example" / "firebase.html").read_text()
    import_map = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S)[1])
    assert import_map["imports"][app_import] == "/vendor/firebase/firebase-app.js"
    assert import_map["imports"]["firebase/app"] == "/vendor/firebase/firebase-app.js"
