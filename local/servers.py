"""The local servers' lifecycle, and the plumbing of the ones that serve HTTP from a thread.

``Server`` is the one lifecycle every local server has: ``start()`` launches it and waits until
it is ready (stopping it again if it never is), ``stop()`` releases everything, and a ``with``
block does both. ``HTTPServerThread`` serves HTTP from a daemon thread (the development issuer,
the Stripe stand-in, the local run's static frontend); ``local.process.ServerProcess`` runs a
child process (the Firestore launcher, the local run's parts, the function under test).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class Server:
    """Start, wait until ready, stop; ``with server:`` starts it (unless started) and stops it."""

    _started = False

    def start(self) -> Self:
        """Launch the server and return once it is ready; stop it again if it never is."""
        self._started = True
        self._launch()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self) -> None:
        raise NotImplementedError

    def _wait_ready(self) -> None:
        """Block until the server answers; a bound socket that is served is ready at once."""

    def stop(self) -> object:
        """Stop serving and release what the server holds (its port, its process group)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self if self._started else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_foreground(server: Server, banner: Callable[[], str]) -> int:
    """What a server's command line does: start it, print ``banner()`` on one line once it
    listens, and stop it on SIGTERM or Ctrl-C. Returns the exit status (0)."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with server:
        print(banner(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


class LocalHTTPServer(ThreadingHTTPServer):
    """A thread per connection, sized for bursts of concurrent clients.

    The default listen backlog (5) makes a burst of 50 connections wait for SYN retries, which
    looks like latency that production does not have.
    """

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up mid-response (timeouts do that); report anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (clients such as requests reuse connections) and quiet logs."""

    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection releases its thread after this many seconds.
    timeout = 60
    server_version = "billing-portal-local"
    sys_version = ""
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the servers keep their own structured logs."""

    def read_body(self) -> bytes:
        """Read the whole request body, so the connection stays usable for the next request."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a complete response with an exact Content-Length (needed for keep-alive); a 204
        carries neither a body nor Content-Type/Content-Length (RFC 9110 §8.6, §15.3.5)."""
        self.send_response(status)
        if status == 204:
            body = b""
        else:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Send ``payload`` as a JSON response."""
        body = json.dumps(payload, indent=2).encode("utf-8") + b"\n"
        self.send_bytes(status, body, "application/json", headers)


class HTTPServerThread(Server):
    """An HTTP server on ``address`` served from a daemon thread; handlers reach this object as
    ``self.server.owner``. The socket is bound (so the port known) from construction on."""

    name = "http-server"

    def __init__(self, address: tuple[str, int], handler: Any, name: str | None = None) -> None:
        self.name = name or self.name
        self.http = LocalHTTPServer(address, handler)
        self.http.owner = self  # type: ignore[attr-defined]
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self.http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"

    def _launch(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and close the listening socket."""
        if self._thread.is_alive():  # shutdown() waits for a serve_forever() that never ran
            self.http.shutdown()
        self.http.server_close()
        self._thread.join(timeout=5)
