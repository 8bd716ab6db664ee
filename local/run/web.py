"""The static frontend: `web/` served from a thread, `example/config.js` written for this run."""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler
from typing import Any

from local.process import REPO_ROOT
from local.run.environment import EXAMPLE_PATH, frontend_config
from local.run.options import HOST, Options
from local.servers import HTTPServerThread

WEB_ROOT = REPO_ROOT / "web"


class WebHandler(SimpleHTTPRequestHandler):
    """Serves `web/`, with `example/config.js` written for this run; never cached."""

    config_js: bytes = b""

    def do_GET(self) -> None:
        """GET, with the generated `config.js` in place of the file of defaults."""
        if self.path.split("?")[0] == f"{EXAMPLE_PATH}config.js":
            self._send_config()
            return
        super().do_GET()

    def _send_config(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript; charset=utf-8")
        self.send_header("Content-Length", str(len(self.config_js)))
        self.end_headers()
        self.wfile.write(self.config_js)

    def end_headers(self) -> None:
        """Every response says no-store: an edited file shows on the next reload."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the frontend's requests are not news."""


def start_web(options: Options) -> HTTPServerThread:
    """Serve `web/` on the web port from a thread of this process."""
    config = json.dumps(frontend_config(options), indent=2)
    script = f"// Written by local/run for this run.\nexport default {config};\n"
    handler = type("ConfiguredWebHandler", (WebHandler,), {"config_js": script.encode()})
    address = (HOST, options.ports["web"])
    return HTTPServerThread(address, partial(handler, directory=WEB_ROOT), name="web").start()
