"""Plumbing shared by the local HTTP servers: a keep-alive threaded server run in a thread."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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
        """Send a complete response with an exact Content-Length (needed for keep-alive)."""
        self.send_response(status)
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


class ServerThread:
    """Serve an ``http.server`` instance from a daemon thread; ``stop()`` closes the socket."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        self.server = server
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and close the listening socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
