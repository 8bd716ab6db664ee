"""Boot warm-up: what the first request uses is opened in the background, in the serving process.

Unit tests of `BootWarmup` (waits, bounds, failures), then the real server over HTTP, with the
benchmark's latency proxies in front of the local parts so that connections can be counted and
made slow.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench.latency import LatencyProxy
from billing_portal.warmup import BootWarmup
from local.net import free_port
from tests.function.conftest import assert_no_secrets_logged, function_env, start_function

# --- BootWarmup ------------------------------------------------------------------------------


def test_a_request_waits_for_the_warm_up_until_it_is_ready():
    release = threading.Event()
    order: list[str] = []

    def slow(ready):
        release.wait(5)
        order.append("warmed")

    boot = BootWarmup({"slow": slow, "quick": lambda ready: None}, wait_seconds=5)
    boot.start()
    threading.Timer(0.2, release.set).start()
    started = time.monotonic()
    assert boot.wait() is True
    order.append("request")
    assert order == ["warmed", "request"]
    assert 0.15 < time.monotonic() - started < 2


def test_ready_lets_the_request_go_before_the_task_ends():
    finish = threading.Event()

    def connect_then_read(ready):
        ready()  # connected: the rest of the task need not be waited for
        finish.wait(5)

    boot = BootWarmup({"firestore": connect_then_read}, wait_seconds=5)
    boot.start()
    started = time.monotonic()
    assert boot.wait() is True
    assert time.monotonic() - started < 0.5
    finish.set()


def test_the_wait_is_bounded_from_when_the_warm_up_began():
    hang = threading.Event()
    boot = BootWarmup({"stuck": lambda ready: hang.wait(10)}, wait_seconds=0.3)
    boot.start()
    started = time.monotonic()
    assert boot.wait() is False
    assert 0.2 < time.monotonic() - started < 1.0
    started = time.monotonic()
    assert boot.wait() is False  # later requests do not wait again
    assert time.monotonic() - started < 0.05
    hang.set()


def test_a_failing_task_is_logged_and_releases_the_request(capsys):
    def broken(ready):
        raise ConnectionRefusedError("nothing listens there")

    boot = BootWarmup({"stripe": broken, "keys": lambda ready: None}, wait_seconds=5)
    boot.start()  # never raises
    assert boot.wait() is True
    deadline = time.monotonic() + 5
    while "Boot warm-up finished" not in (out := capsys.readouterr().out) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)
        out += capsys.readouterr().out
    assert "Boot warm-up of stripe failed" in out


def test_nothing_to_wait_for_where_no_warm_up_was_started():
    boot = BootWarmup({"never": lambda ready: time.sleep(10)})
    started = time.monotonic()
    assert boot.wait() is True
    assert time.monotonic() - started < 0.05


def test_starts_once_per_process():
    runs: list[int] = []
    boot = BootWarmup({"count": lambda ready: runs.append(os.getpid())})
    boot.start()
    boot.start()
    boot.wait()
    time.sleep(0.05)
    assert runs == [os.getpid()]


# --- the real server -------------------------------------------------------------------------

pytestmark_http = pytest.mark.integration


def _proxy(address: str, delay_ms: float) -> LatencyProxy:
    host, _, port_text = address.rpartition(":")
    return LatencyProxy((host, int(port_text)), delay_ms=delay_ms).start()


def _stop(server, issuer) -> None:
    server.process.stop()
    assert_no_secrets_logged(server, issuer.minted_tokens())


def _wait_for_log(server, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = server.process.log_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged:\n{server.process.log_text()[-2000:]}")


@pytestmark_http
def test_the_first_request_uses_the_warm_up_connections_instead_of_opening_its_own(
    stripe_standin, firestore_emulator, dev_issuer, new_uid
):
    # Slow links (60 ms each way, 240 ms per new connection): the request arrives while the
    # warm-up is still connecting, waits for it, and opens nothing itself.
    stripe = _proxy(stripe_standin.url.split("://", 1)[1], 60)
    firestore = _proxy(firestore_emulator.host, 60)
    env = function_env(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        STRIPE_API_BASE=stripe.url,
        FIRESTORE_EMULATOR_HOST=firestore.address,
    )
    server = start_function(env, "warm-up-waits")
    try:
        response = server.post(dev_issuer.mint(new_uid, email=f"{new_uid}@example.test"))
        assert response.status_code == 200, response.text
        log = _wait_for_log(server, "Boot warm-up finished")
        assert "failed" not in log
        # two pooled Stripe connections (a new user's email update runs beside the session
        # create), one gRPC channel: all opened by the warm-up
        assert stripe.stats.connections == 2
        assert firestore.stats.connections == 1
    finally:
        _stop(server, dev_issuer)
        stripe.stop()
        firestore.stop()


@pytestmark_http
def test_a_failed_warm_up_neither_fails_start_up_nor_the_request(
    stripe_standin, firestore_emulator, dev_issuer, new_uid
):
    # Stripe is unreachable while the instance boots, then comes back: the warm-up fails and
    # says so, the instance listens all the same, and the request connects by itself.
    port = free_port()
    env = function_env(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        STRIPE_API_BASE=f"http://127.0.0.1:{port}",
    )
    server = start_function(env, "warm-up-fails")
    try:
        log = _wait_for_log(server, "Boot warm-up finished")
        assert "Boot warm-up of stripe failed" in log
        host, _, standin_port = stripe_standin.url.split("://", 1)[1].rpartition(":")
        with LatencyProxy((host, int(standin_port)), delay_ms=0, port=port) as stripe:
            response = server.post(dev_issuer.mint(new_uid))
            assert response.status_code == 200, response.text
            assert stripe.stats.connections >= 1
    finally:
        _stop(server, dev_issuer)


@pytestmark_http
def test_a_slow_key_server_does_not_hang_the_first_request(
    stripe_standin, firestore_emulator, dev_issuer, new_uid
):
    # Regression: the key prefetch used to start at import, in gunicorn's master. When the fetch
    # took longer than the master needs to listen and fork (any real network), the worker
    # inherited the key cache's lock held by a thread that does not exist there, and every
    # request needing keys hung. Now nothing is fetched before the fork.
    issuer = _proxy(dev_issuer.url.split("://", 1)[1], 50)
    env = function_env(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        AUTH_JWKS_URL=issuer.url + dev_issuer.jwks_url.removeprefix(dev_issuer.url),
    )
    server = start_function(env, "slow-keys")
    try:
        response = server.post(dev_issuer.mint(new_uid), timeout=10)
        assert response.status_code == 200, response.text
        assert issuer.stats.connections == 1  # one fetch, at boot, in the worker
    finally:
        _stop(server, dev_issuer)
        issuer.stop()
