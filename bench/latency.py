"""Network-latency mode: a byte-level TCP proxy on loopback that adds a WAN's delays.

Every dependency of the benchmark (the Stripe stand-in, the Firestore emulator, the token
issuer) answers on 127.0.0.1, where a new connection and a round trip cost microseconds, so the
work a new instance does to reach them is invisible. Put one `LatencyProxy` in front of each and
point the function at the proxies: then a round trip costs what it costs across a region.

What is modelled, with `delay_ms` = d (one way):

- **per round trip**: every chunk read from one side is written to the other d ms after it was
  read, in order (each direction is a queue; nothing overtakes). A request/response exchange
  costs 2d; a pipelined stream is not slowed down beyond the d of each chunk.
- **per connection set-up**: `setup_rtts` round trips (default 2: the TCP handshake and a TLS 1.3
  handshake, as every production dependency is HTTPS or TLS gRPC) before any byte passes. The
  client's `connect()` itself returns at once (loopback: the kernel completes the handshake);
  the set-up cost is charged by holding the first bytes in either direction until
  accept + setup_rtts × 2d, then adding the normal d. A request sent right after connecting is
  answered after (setup_rtts + 1) × 2d, as over a real TLS connection.

Not modelled: bandwidth, loss, DNS, the TLS handshake's CPU. The proxy relays bytes unchanged
(HTTP/1.1 and gRPC's HTTP/2 alike), listens on loopback only and relays to loopback only, and
bounds its connections and its buffering (a full queue stops reading: back-pressure).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CHUNK_BYTES = 64 * 1024
QUEUE_CHUNKS = 64  # per direction and connection: at most 4 MiB in flight, then back-pressure
MAX_CONNECTIONS = 256
DEFAULT_SETUP_RTTS = 2  # TCP handshake + TLS 1.3 handshake
MAX_DELAY_MS = 1000.0


def require_loopback(host: str) -> str:
    """`host` if it is a loopback address (127.0.0.0/8, ::1); ValueError otherwise."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the latency proxy takes loopback IPs only, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the latency proxy relays on loopback only, not {host}")
    return host


@dataclass
class ProxyStats:
    """What a proxy relayed so far."""

    connections: int = 0
    refused: int = 0
    chunks: int = 0
    bytes: int = 0


class LatencyProxy:
    """One listening port on 127.0.0.1 relaying to one loopback target with added delay.

    >>> with LatencyProxy(("127.0.0.1", 8080), delay_ms=20) as proxy:
    ...     requests.get(f"http://127.0.0.1:{proxy.port}/")  # ≈ 120 ms: 2 set-up RTTs + 1 RTT
    """

    def __init__(
        self,
        target: tuple[str, int],
        *,
        delay_ms: float,
        setup_rtts: int = DEFAULT_SETUP_RTTS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not 0 <= delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms must be within 0..{MAX_DELAY_MS:g}, not {delay_ms}")
        if setup_rtts < 0:
            raise ValueError("setup_rtts must be >= 0")
        self.target = (require_loopback(target[0]), int(target[1]))
        self.host = require_loopback(host)
        self.delay = delay_ms / 1000.0
        self.setup_rtts = setup_rtts
        self.setup = setup_rtts * 2 * self.delay
        self.stats = ProxyStats()
        self.port = port  # 0: a free one, known after start()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> LatencyProxy:
        """Listen and relay in a daemon thread; return self."""
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, limit=CHUNK_BYTES)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"latency-proxy-{self.target[1]}")
        self._thread.daemon = True
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the latency proxy did not start")
        return self

    def stop(self) -> None:
        """Close the listener and every relayed connection; stop the thread."""
        if self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop.close()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """`127.0.0.1:<port>`: what a `host:port` setting (FIRESTORE_EMULATOR_HOST) takes."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{self.address}"

    # --- relaying --------------------------------------------------------------------------

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        accepted = self._loop.time()
        if len(self._writers) >= MAX_CONNECTIONS:
            self.stats.refused += 1
            client_w.close()
            return
        self.stats.connections += 1
        self._writers.add(client_w)
        upstream_w: asyncio.StreamWriter | None = None
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target, limit=CHUNK_BYTES)
            self._writers.add(upstream_w)
            open_until = accepted + self.setup
            await asyncio.gather(
                self._pipe(client_r, upstream_w, open_until),
                self._pipe(upstream_r, client_w, open_until),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the proxy is stopping: end quietly (streams would log a cancelled handler)
        finally:
            for writer in (client_w, upstream_w):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, open_until: float
    ) -> None:
        """Copy `source` to `sink`, each chunk d after it was read (not before set-up is done)."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)

        async def read() -> None:
            try:
                while chunk := await source.read(CHUNK_BYTES):
                    due = max(self._loop.time(), open_until) + self.delay
                    await queue.put((due, chunk))
            except OSError:
                pass
            finally:
                await queue.put(None)

        async def write() -> None:
            while (item := await queue.get()) is not None:
                due, chunk = item
                wait = due - self._loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.stats.chunks += 1
                self.stats.bytes += len(chunk)
                sink.write(chunk)
                await sink.drain()
            if sink.can_write_eof():  # half-close, as the sender did
                with contextlib.suppress(OSError):
                    sink.write_eof()

        reader = asyncio.ensure_future(read())
        try:
            await write()
        except OSError:
            reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


@dataclass
class ProxiedParts:
    """The proxies in front of the three local parts, and the addresses the function uses."""

    delay_ms: float
    stripe: LatencyProxy
    firestore: LatencyProxy
    issuer: LatencyProxy

    def stats(self) -> dict[str, int]:
        """New connections per dependency so far."""
        return {
            "stripe": self.stripe.stats.connections,
            "firestore": self.firestore.stats.connections,
            "issuer": self.issuer.stats.connections,
        }


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


@contextmanager
def proxied(
    *, stripe_url: str, firestore_host: str, issuer_url: str, delay_ms: float
) -> Iterator[ProxiedParts]:
    """Latency proxies in front of the stand-in, the emulator and the issuer, for the block."""
    targets = [
        _host_port(stripe_url.split("://", 1)[1].split("/", 1)[0]),
        _host_port(firestore_host),
        _host_port(issuer_url.split("://", 1)[1].split("/", 1)[0]),
    ]
    started: list[LatencyProxy] = []
    try:
        for target in targets:
            started.append(LatencyProxy(target, delay_ms=delay_ms).start())
        yield ProxiedParts(delay_ms, *started)
    finally:
        for proxy in started:
            proxy.stop()
