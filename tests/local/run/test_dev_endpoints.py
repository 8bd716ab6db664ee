"""The local run's development surface, attacked over HTTP like any other endpoint.

The run's web server serves files and nothing else (the development-only
`POST /_local/test-subscription` is gone: a plan starts through the function's Checkout); no
function of the run exposes an interactive console (Werkzeug's debugger: `/console`, its PIN in
the logs), while still reloading on a save.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.process import REPO_ROOT
from tests.browser.browser_support import LocalRun, running_local_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run() -> Iterator[LocalRun]:
    with running_local_run("local-run-dev-endpoints") as started:
        yield started


def token(run: LocalRun, sub: str) -> str:
    """An ID token of the run's development issuer for the subject `sub`."""
    answer = requests.post(run.url("issuer", "/_issuer/token"), json={"sub": sub}, timeout=10)
    answer.raise_for_status()
    return answer.json()["id_token"]


# ---------------------------------------------------------------- the web server: files only


@pytest.mark.parametrize("path", ["/_local/test-subscription", "/example/", "/"])
def test_the_web_server_takes_no_post_and_the_test_subscription_route_is_gone(run, path):
    before = len(run.standin().subscriptions())
    answer = requests.post(
        run.url("web", path),
        headers={"Authorization": f"Bearer {token(run, 'dev-no-post')}"},
        timeout=10,
    )
    assert answer.status_code in (404, 501), (path, answer.status_code, answer.text[:200])
    assert len(run.standin().subscriptions()) == before


@pytest.mark.parametrize("part", ["function", "webhook"])
def test_a_client_that_hangs_up_mid_body_leaves_no_traceback_in_the_runs_log(run, part):
    # Issue 19, second review: under Werkzeug's development server, functions-framework's own
    # read of the rest of the body raised ClientDisconnected after the function had answered:
    # a 500 and two ERROR tracebacks for every client that hung up mid-body.
    logged = len(run.process.log_text())
    address = ("127.0.0.1", run.ports[part])
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"locale"'
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while '"httpRequest"' not in run.process.log_text()[logged:]:
        assert time.monotonic() < deadline, f"{part}: the truncated request was never answered"
        time.sleep(0.1)
    time.sleep(1)  # the function's log reaches the run's own through a follower
    new = run.process.log_text()[logged:]
    assert "Traceback" not in new and "ERROR" not in new, f"{part}:\n{new[:1500]}"


# ---------------------------------------------------------------------------- no console


@pytest.mark.parametrize("part", ["function", "webhook"])
def test_no_function_of_the_run_serves_werkzeugs_debugger_console(run, part):
    for path in ("/console", "/?__debugger__=yes&cmd=resource&f=debugger.js"):
        answer = requests.get(run.url(part, path), timeout=10)
        body = answer.text
        assert "Werkzeug" not in body and "__debugger__" not in body, (
            f"GET {part}{path}: {answer.status_code} serves the debugger: {body[:200]!r}"
        )
        assert "CONSOLE_MODE" not in body and "SECRET" not in body, f"GET {part}{path}"


def test_the_runs_logs_hold_no_debugger_pin(run):
    # a request that fails inside the function is where a debugger would speak up
    requests.post(run.url("function"), data=b"{", timeout=10)
    time.sleep(1)  # the function's log reaches the run's own through a follower
    text = run.process.log_text()
    # the functions' start-up lines are in it: where Werkzeug prints the PIN
    assert "function |  * Serving Flask app" in text, f"no function log in {run.process.log_path}"
    assert "Debugger PIN" not in text and "Debugger is active" not in text, (
        f"the debugger is on in {run.process.log_path}"
    )


def test_the_function_still_reloads_when_a_file_under_function_is_saved(run):
    saved = REPO_ROOT / "function" / "billing_portal" / "__init__.py"
    before = run.process.log_text().count("Detected change")
    stat = saved.stat()
    os.utime(saved, ns=(stat.st_atime_ns, time.time_ns()))  # a save, content unchanged
    deadline = time.monotonic() + 30
    while run.process.log_text().count("Detected change") <= before:
        assert time.monotonic() < deadline, f"no reload after saving {Path(saved).name}"
        time.sleep(0.25)
    deadline = time.monotonic() + 30
    while True:  # answering again, from the reloaded code
        try:
            if requests.get(run.url("function"), timeout=5).status_code == 401:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the function did not come back after the reload"
        time.sleep(0.25)
