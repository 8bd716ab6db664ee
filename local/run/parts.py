"""How each part is started: the function in its own child (`python -m local.run
--serve-function PORT`, reloading on save, no debugger) and how to tell it answers, the stand-ins as
`python -m` children, and the static server for `web/`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests

from local.process import REPO_ROOT
from local.run.options import (
    EXAMPLE_PATH,
    HOST,
    SESSION_TARGET,
    Options,
    RunError,
    frontend_config,
)
from local.servers import HTTPServerThread

START_TIMEOUT = 30.0

FUNCTION_SOURCE = REPO_ROOT / "function" / "main.py"
SERVE_FUNCTION_FLAG = "--serve-function"


def python_module(module: str, *args: str) -> list[str]:
    """argv running `python -m module args…` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def function_argv(port: int, target: str = SESSION_TARGET) -> list[str]:
    """argv of a function server (entry point `target`): `serve_function` in its own child."""
    return python_module("local.run", SERVE_FUNCTION_FLAG, str(port), target)


def serve_function(port: int, target: str = SESSION_TARGET) -> int:
    """Serve the entry point `target` with `functions_framework.create_app` on Flask's
    development server, reloading when a file under `function/` is saved.

    Not `functions-framework --debug`: that also turns on Werkzeug's debugger, an interactive
    Python console in the function's process at `/console` (and on every traceback page) whose
    PIN it writes to the log. The reloader alone is kept (`use_reloader`, `use_debugger=False`).
    It polls the function's own files (`stat`) instead of watching every folder on `sys.path`
    with inotify (watchdog's default), which floods the inotify queue as soon as anything else on
    the machine reads the virtualenv — a test run, an editor's indexer.
    """
    from functions_framework import create_app

    app = create_app(target, str(FUNCTION_SOURCE))
    app.run(
        HOST,
        port,
        debug=False,
        use_debugger=False,  # never an interactive console, whatever FLASK_DEBUG says
        use_reloader=True,
        reloader_type="stat",
        reloader_interval=1,
        exclude_patterns=_not_function_code(),
    )
    return 0


def _not_function_code() -> list[str]:
    """Reloader exclusions: everything but `function/` (libraries, tests, the local parts)."""
    others = [
        f"{child}{os.sep}*"
        for child in REPO_ROOT.iterdir()
        if child.is_dir() and child != FUNCTION_SOURCE.parent
    ]
    return [f"{sys.prefix}{os.sep}*", f"{sys.base_prefix}{os.sep}*", *others]


def source_fingerprint(root: Path = FUNCTION_SOURCE.parent) -> tuple[tuple[str, int], ...]:
    """Names and modification times of the function's Python files, to notice a save."""
    return tuple(
        sorted((str(path), path.stat().st_mtime_ns) for path in root.rglob("*.py") if path.exists())
    )


# ---- the static frontend ------------------------------------------------------------------


WEB_ROOT = REPO_ROOT / "web"
# The Firebase JS SDK's own browser ES modules (the files its CDN serves), from the pinned npm
# package, so example/firebase.html works offline: URL path → file. Exactly these, no folder.
FIREBASE_SDK = REPO_ROOT / "node_modules" / "firebase"
VENDOR_FILES = {
    f"/vendor/firebase/{name}": FIREBASE_SDK / name
    for name in ("firebase-app.js", "firebase-auth.js")
}


class WebHandler(SimpleHTTPRequestHandler):
    """Serves `web/`, with `example/config.js` written for this run; never cached. GET only: the
    run adds no route of its own (a POST is 501, as `SimpleHTTPRequestHandler` answers it)."""

    config_js: bytes = b""

    def do_GET(self) -> None:
        """GET, with the generated `config.js` in place of the file of defaults, and the
        Firebase JS SDK's browser modules from node_modules (`VENDOR_FILES`)."""
        path = self.path.split("?")[0]
        if path == f"{EXAMPLE_PATH}config.js":
            self._send_config()
            return
        vendor = VENDOR_FILES.get(path)
        if vendor is not None:
            self._send_file(vendor)
            return
        super().do_GET()

    def _send_file(self, path: Path) -> None:
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            self.send_error(404, "Not installed; run `make setup` (npm ci).")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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


def start_web(options: Options, plans: dict[str, dict[str, Any]] | None = None) -> HTTPServerThread:
    """Serve `web/` on the web port from a thread of this process."""
    config = json.dumps(frontend_config(options, plans), indent=2)
    script = f"// Written by local/run for this run.\nexport default {config};\n"
    handler = type("ConfiguredWebHandler", (WebHandler,), {"config_js": script.encode()})
    address = (HOST, options.ports["web"])
    return HTTPServerThread(address, partial(handler, directory=WEB_ROOT), name="web").start()


# ---- waiting for the function ----------------------------------------------------------


def wait_for_http(
    url: str, origin: str, alive: Callable[[], bool], timeout: float = START_TIMEOUT
) -> None:
    """Block until `url` answers a CORS preflight from `origin`; raise `RunError` if it dies."""
    deadline = time.monotonic() + timeout
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    while time.monotonic() < deadline:
        if not alive():
            raise RunError(f"the server behind {url} exited while starting")
        try:
            requests.options(url, headers=headers, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RunError(f"{url} did not answer within {timeout:.0f}s")
