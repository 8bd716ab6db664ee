"""Port helpers for tests (the same ones the local servers use)."""

from local.net import free_port, port_is_open, wait_for_port

__all__ = ["free_port", "listening_addresses", "port_is_open", "wait_for_port"]


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
