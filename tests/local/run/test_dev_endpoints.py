"""The local run's development-only surface, attacked over HTTP like any other endpoint.

`POST /_local/test-subscription` subscribes the caller's own customer and nobody else's,
whatever the token's subject says; and no function of the run exposes an interactive console
(Werkzeug's debugger: `/console`, its PIN in the logs), while still reloading on a save.
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


def sign_in(run: LocalRun, sub: str) -> str:
    """What the example page does on sign-in: the function makes sure `sub` has a customer."""
    bearer = token(run, sub)
    answer = requests.post(
        run.url("function"),
        json={},
        headers={"Authorization": f"Bearer {bearer}", "Origin": run.url("web").rstrip("/")},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return bearer


def give_test_subscription(run: LocalRun, bearer: str) -> requests.Response:
    return requests.post(
        run.url("web", "/_local/test-subscription"),
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=30,
    )


def customer_of(run: LocalRun, uid: str) -> str | None:
    """The customer the function mapped `uid` to (its mapping document, by the function's id)."""
    from billing_portal.customers import document_id
    from local.firestore import ExternalFirestoreEmulator
    from local.run.options import PROJECT

    client = ExternalFirestoreEmulator(f"127.0.0.1:{run.ports['firestore']}").client(PROJECT)
    try:
        snapshot = client.collection("stripe_customers").document(document_id(uid)).get()
    finally:
        client.close()
    data = snapshot.to_dict() or {}
    return data.get("stripe_customer_id") if data.get("uid") == uid else None


def subscriptions_of(run: LocalRun, customer: str) -> list[str]:
    client = run.standin().client()
    page = client.v1.subscriptions.list(params={"customer": customer, "status": "all"})
    return [subscription.id for subscription in page.data]


# ---------------------------------------------------------------- POST /_local/test-subscription


def test_a_test_subscription_goes_to_the_callers_own_customer(run):
    uid = f"dev-own-{time.monotonic_ns()}"
    answer = give_test_subscription(run, sign_in(run, uid))
    assert answer.status_code == 200, answer.text
    customer = customer_of(run, uid)
    assert customer is not None
    assert subscriptions_of(run, customer) == [answer.json()["subscription"]]


@pytest.mark.parametrize(
    "shape",
    [
        "{victim}' AND metadata['app_user_id']:'{victim}",
        "x' AND metadata['app_user_id']:'{victim}",
        "{victim}' AND email:'",
    ],
)
def test_a_subject_written_as_a_search_query_never_reaches_another_users_customer(run, shape):
    victim = f"dev-victim-{time.monotonic_ns()}"
    sign_in(run, victim)
    victims_customer = customer_of(run, victim)
    assert victims_customer is not None
    attacker = shape.format(victim=victim)
    answer = give_test_subscription(run, sign_in(run, attacker))
    assert subscriptions_of(run, victims_customer) == [], (
        f"the subject {attacker!r} attached a subscription to {victim}'s customer: "
        f"{answer.status_code} {answer.text}"
    )
    if answer.status_code == 200:  # then it is the attacker's own customer's, by id
        attackers_customer = customer_of(run, attacker)
        assert attackers_customer is not None
        assert subscriptions_of(run, attackers_customer) == [answer.json()["subscription"]]


@pytest.mark.parametrize("length", ["abc", "-1", "99999999999999999999"])
def test_a_malformed_or_huge_content_length_gets_a_json_4xx_at_once(run, length):
    # Issue 19, second review: the length was passed to `read` as given — "abc" closed the
    # connection with no answer (a traceback on the run's stderr), "-1" read until the client
    # hung up, and a huge one waited for bytes that never come.
    address = ("127.0.0.1", run.ports["web"])
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(
            f"POST /_local/test-subscription HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer x\r\nContent-Length: {length}\r\n\r\n{{}}".encode()
        )
        answer = b""
        try:
            while chunk := sock.recv(65536):  # HTTP/1.0: the answer ends when the server closes
                answer += chunk
        except TimeoutError:
            pass
    status = answer.split(b" ", 2)[1:2]
    assert status in ([b"400"], [b"413"]), f"Content-Length: {length}: {answer[:120]!r}"
    assert b"application/json" in answer and b'"error"' in answer, answer[:300]


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
