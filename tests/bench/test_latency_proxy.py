"""The latency mode's proxy: delays per round trip and per connection, intact bytes, loopback."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench.latency import LatencyProxy, require_loopback

DELAY_MS = 30


@pytest.fixture(scope="module")
def echo_server() -> Iterator[tuple[str, int]]:
    """A loopback TCP echo server."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[:2]
    stop.set()
    server.close()


@contextmanager
def _through(
    target: tuple[str, int], **options: float
) -> Iterator[tuple[LatencyProxy, socket.socket]]:
    """A proxy in front of `target` and one client connection through it."""
    with (
        LatencyProxy(target, **options) as proxy,  # type: ignore[arg-type]
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        yield proxy, sock


def _round_trip(sock: socket.socket, payload: bytes) -> float:
    started = time.perf_counter()
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += sock.recv(65536)
    assert got == payload
    return time.perf_counter() - started


def test_each_round_trip_costs_two_delays_and_a_new_connection_two_more_round_trips(
    echo_server,
):
    delay = DELAY_MS / 1000.0
    with _through(echo_server, delay_ms=DELAY_MS) as (proxy, sock):
        first = _round_trip(sock, b"ping")
        later = [_round_trip(sock, b"ping") for _ in range(3)]
    # set-up: 2 round trips (TCP + TLS), then the request's own round trip. Upper bounds are
    # loose (a shared 2-CPU machine can stall a thread for tens of ms); the median is not.
    assert 6 * delay <= first < 6 * delay + 0.5, first
    for seconds in later:
        assert 2 * delay <= seconds < 6 * delay, later  # no set-up on a kept connection
    assert sorted(later)[1] < 2 * delay + 0.03, later
    assert proxy.stats.connections == 1


def test_setup_rtts_zero_charges_only_the_round_trip(echo_server):
    with _through(echo_server, delay_ms=DELAY_MS, setup_rtts=0) as (_, sock):
        first = _round_trip(sock, b"x")
    assert 2 * DELAY_MS / 1000.0 <= first < 6 * DELAY_MS / 1000.0, first


def test_bytes_arrive_intact_and_in_order_in_both_directions(echo_server):
    payload = os.urandom(3 * 1024 * 1024)  # many chunks, more than one queue's worth
    with _through(echo_server, delay_ms=1) as (proxy, sock):
        received = bytearray()

        def read() -> None:
            while len(received) < len(payload):
                received.extend(sock.recv(1 << 20))

        reader = threading.Thread(target=read)
        reader.start()
        sock.sendall(payload)
        reader.join(30)
        assert bytes(received) == payload
        sock.shutdown(socket.SHUT_WR)  # a half-close is passed on: the echo server ends
        assert sock.recv(10) == b""
    assert proxy.stats.bytes == 2 * len(payload)


def test_a_pipelined_stream_is_delayed_once_not_once_per_chunk(echo_server):
    with _through(echo_server, delay_ms=DELAY_MS, setup_rtts=0) as (_, sock):
        started = time.perf_counter()
        for _ in range(20):
            sock.sendall(b"y" * 100)
            time.sleep(0.002)
        got = b""
        while len(got) < 2000:
            got += sock.recv(65536)
        seconds = time.perf_counter() - started
    assert seconds < 20 * 0.002 + 2 * DELAY_MS / 1000.0 + 0.4, seconds  # per chunk: > 1.2 s


NOT_LOOPBACK = ["10.0.0.1", "0.0.0.0", "192.168.1.10", "example.com", "::"]  # noqa: S104


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_only_loopback_addresses(host):
    with pytest.raises(ValueError):
        require_loopback(host)
    with pytest.raises(ValueError):
        LatencyProxy((host, 80), delay_ms=1)
    with pytest.raises(ValueError):
        LatencyProxy(("127.0.0.1", 80), delay_ms=1, host=host)


def test_delay_is_bounded():
    with pytest.raises(ValueError):
        LatencyProxy(("127.0.0.1", 80), delay_ms=-1)
    with pytest.raises(ValueError):
        LatencyProxy(("127.0.0.1", 80), delay_ms=60_000)
    assert require_loopback("127.0.0.1") == "127.0.0.1"
    assert require_loopback("::1") == "::1"
