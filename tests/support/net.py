"""Port helpers for tests (`free_port` and `port_is_open` are the local servers' own)."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

from local.net import free_port, port_is_open

__all__ = ["free_port", "free_ports", "listening_addresses", "port_is_open", "wait_for_port"]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port``, read from /proc/net/tcp{,6}.

    IPv4 addresses come back dotted (``127.0.0.1``, ``0.0.0.0``), IPv6 ones as the kernel's hex.
    """
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            if len(address) == 8:
                octets = bytes.fromhex(address)[::-1]
                found.add(".".join(str(octet) for octet in octets))
            else:
                found.add(address)
    return found


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that were free a moment ago (all held open while choosing)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until ``host:port`` accepts connections; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(host, port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout:.1f}s")
