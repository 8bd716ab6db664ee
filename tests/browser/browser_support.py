"""Helpers of the browser tests: the local run as a subprocess, the page, screenshots."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from local.process import REPO_ROOT, ServerProcess
from local.run.options import PORTS, PROJECT
from local.stripe.control import StandinControl

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Debian's package; CHROMIUM_PATH points the tests at another Chromium (e.g. on a laptop).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-output" / "browser"
READY_LINE = "billing-portal is running locally"
SESSION_KEY = "billing-portal-example.session"
# Variables of the developer's shell that would change what the local run starts.
RUN_ENV_OVERRIDES = (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
)


def local_run_env() -> dict[str, str]:
    """This environment without the variables that would point the run elsewhere."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in RUN_ENV_OVERRIDES and not name.startswith("LOCAL_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def local_run_argv(ports: dict[str, int]) -> list[str]:
    """`python -m local.run` with every port given as a flag."""
    flags = [item for port in PORTS for item in (port.flag, str(ports[port.name]))]
    return [sys.executable, "-m", "local.run", *flags]


@contextmanager
def running_local_run(name: str, *args: str) -> Iterator[LocalRun]:
    """`python -m local.run` on free ports (plus `args`), until the block ends; then the whole
    process group is stopped."""
    from tests.support.net import free_ports
    from tests.support.processes import log_path

    ports = dict(zip((port.name for port in PORTS), free_ports(len(PORTS)), strict=True))
    process = ServerProcess(
        [*local_run_argv(ports), *args],
        name=name,
        log_path=log_path(name),
        env=local_run_env(),
        ready_pattern=READY_LINE,
        timeout=90,
    ).start()
    try:
        yield LocalRun(process, ports)
    finally:
        process.stop(timeout=20)


@dataclass(frozen=True)
class LocalRun:
    """A running `python -m local.run` and the ports it was given."""

    process: ServerProcess
    ports: dict[str, int]

    def url(self, name: str, path: str = "/") -> str:
        """`http://127.0.0.1:<port of name><path>`."""
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    @property
    def settings_page(self) -> str:
        """The example account-settings page."""
        return self.url("web", "/example/")

    def standin(self) -> StandinControl:
        """A control handle on the run's Stripe stand-in."""
        return StandinControl(self.url("stripe", "").rstrip("/"))

    def customer_of(self, user_id: str) -> str | None:
        """The Stripe customer id the function mapped `user_id` to, read from Firestore."""
        from local.firestore import ExternalFirestoreEmulator

        client = ExternalFirestoreEmulator(f"127.0.0.1:{self.ports['firestore']}").client(PROJECT)
        try:
            snapshot = client.collection("stripe_customers").document(user_id).get(timeout=10)
        finally:
            client.close()
        return (snapshot.to_dict() or {}).get("stripe_customer_id") if snapshot.exists else None


def require_chromium() -> None:
    """Fail (never skip) with the fix when the system browser is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing); the browser tests need it. "
            "Run tools/install-browser.sh (make setup runs it).",
            pytrace=False,
        )


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-output/browser/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_settings(page: Page, run: LocalRun, config: dict[str, Any] | None = None) -> None:
    """Open the settings page; `config` replaces what the local run's config.js says."""
    if config is not None:
        body = f"export default {json.dumps(config)};\n"
        page.route(
            run.url("web", "/example/config.js"),
            lambda route: route.fulfill(body=body, content_type="text/javascript"),
        )
    page.goto(run.settings_page)
    page.wait_for_selector("body[data-ready=true]")


def sign_in(page: Page, email: str) -> str:
    """Sign in as a development user with the page's own control; return the user id."""
    page.fill("#dev-email", email)
    page.click("text=Sign in as development user")
    page.wait_for_function(
        "email => document.getElementById('signed-in-as').textContent === email", arg=email
    )
    session = page.evaluate(f"JSON.parse(sessionStorage.getItem({json.dumps(SESSION_KEY)}))")
    return session["sub"]


def local_config(run: LocalRun, **changes: Any) -> dict[str, Any]:
    """The config the local run serves to the page, with `changes` applied."""
    config = {
        "functionUrl": run.url("function"),
        "issuerTokenUrl": run.url("issuer", "/_issuer/token"),
        "returnUrl": None,
        "plans": {},
        "environment": "browser test",
    }
    config.update(changes)
    return config
