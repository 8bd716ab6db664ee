"""The whole product on this machine, offline: `python -m local.run` (what `make run` calls).

Starts, on 127.0.0.1 only: the Firestore emulator, the Stripe stand-in (or, when
`STRIPE_SECRET_KEY=sk_test_…` is set, real Stripe test mode instead), the development sign-in
issuer, the function under functions-framework's debug server (reloads when its code changes;
see `serve_function`) and a static server for `web/` (the example settings page and
`billing-portal.js`). Prints what runs where; Ctrl-C (or SIGTERM) stops everything it started,
whole process groups, nothing left over. A crashed function restarts on the next save.

Ports: `--function-port`, `--web-port`, `--stripe-port`, `--firestore-port`, `--issuer-port`, or
the environment variables `LOCAL_FUNCTION_PORT`, … (flags win). A busy port stops the run before
anything starts, with a one-line message naming the flag to change.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from local.firestore import FirestoreEmulator
from local.http_util import LocalHTTPServer, ServerThread
from local.process import REPO_ROOT, ServerProcess, ServerProcessError
from local.stripe_standin.keys import TEST_KEY as STANDIN_KEY

HOST = "127.0.0.1"
WEB_ROOT = REPO_ROOT / "web"
EXAMPLE_PATH = "/example/"
FUNCTION_SOURCE = REPO_ROOT / "function" / "main.py"
FUNCTION_TARGET = "create_portal_session"
PROJECT = "billing-portal-local"
DEV_AUDIENCE = PROJECT
STANDIN_SUBSCRIPTION = "sub_example"
START_TIMEOUT = 30.0
SERVE_FUNCTION_FLAG = "--serve-function"
EXIT_USAGE = 2


@dataclass(frozen=True)
class PortOption:
    """One configurable port: its flag, its environment variable and its default."""

    name: str
    label: str
    default: int

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. `--function-port`."""
        return f"--{self.name}-port"

    @property
    def env_var(self) -> str:
        """The environment variable, e.g. `LOCAL_FUNCTION_PORT`."""
        return f"LOCAL_{self.name.upper()}_PORT"


PORTS = (
    PortOption("function", "the function", 8080),
    PortOption("web", "the example frontend", 5173),
    PortOption("stripe", "the Stripe stand-in", 12111),
    PortOption("firestore", "the Firestore emulator", 8089),
    PortOption("issuer", "the development issuer", 9099),
)


class RunError(RuntimeError):
    """Something stops the local run; the message says what and how to fix it."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM: stop everything and exit."""


@dataclass(frozen=True)
class Options:
    """What to run where, decided from the command line and the environment."""

    ports: dict[str, int]
    stripe_key: str | None
    subscription_id: str | None
    log_dir: Path | None

    @property
    def real_stripe(self) -> bool:
        """True when a Stripe test key was given: real Stripe test mode, no stand-in."""
        return self.stripe_key is not None

    def url(self, name: str, path: str = "/") -> str:
        """`http://127.0.0.1:<port><path>` of the part called `name`."""
        return f"http://{HOST}:{self.ports[name]}{path}"

    def web_origins(self) -> list[str]:
        """The example frontend's origins (127.0.0.1 and localhost name the same server)."""
        port = self.ports["web"]
        return [f"http://{HOST}:{port}", f"http://localhost:{port}"]


# ---- options ------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None, env: Mapping[str, str]) -> Options:
    """Read flags and environment; raise `RunError` for an unusable Stripe key."""
    parser = argparse.ArgumentParser(
        prog="python -m local.run",
        description="Run billing-portal locally: emulators, Stripe stand-in, function, frontend.",
    )
    for port in PORTS:
        parser.add_argument(
            port.flag,
            type=_port_number,
            default=_env_port(env, port),
            metavar="N",
            help=f"port of {port.label} (env {port.env_var}, default {port.default})",
        )
    parser.add_argument(
        "--subscription-id",
        default=env.get("LOCAL_SUBSCRIPTION_ID") or None,
        help="subscription the example's 'Cancel subscription' names "
        f"(env LOCAL_SUBSCRIPTION_ID; default {STANDIN_SUBSCRIPTION} with the stand-in)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="where the parts' logs go (default: a new temporary folder, removed on a clean stop)",
    )
    args = parser.parse_args(argv)
    ports = {port.name: getattr(args, f"{port.name}_port") for port in PORTS}
    stripe_key = stripe_test_key(env)
    subscription = args.subscription_id or (None if stripe_key else STANDIN_SUBSCRIPTION)
    return Options(ports, stripe_key, subscription, args.log_dir)


def _port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def _env_port(env: Mapping[str, str], port: PortOption) -> int:
    raw = env.get(port.env_var, "").strip()
    if not raw:
        return port.default
    try:
        return _port_number(raw)
    except argparse.ArgumentTypeError as error:
        raise RunError(f"{port.env_var}: {error}", EXIT_USAGE) from None


def stripe_test_key(env: Mapping[str, str]) -> str | None:
    """The Stripe test key from `STRIPE_SECRET_KEY`, None for the stand-in; refuse live keys."""
    key = env.get("STRIPE_SECRET_KEY", "").strip()
    if not key:
        return None
    if key.startswith(("sk_live_", "rk_live_")):
        raise RunError(
            "STRIPE_SECRET_KEY is a live-mode key; the local run uses Stripe test mode only. "
            "Set a test key (sk_test_…/rk_test_…), or unset it to use the Stripe stand-in.",
            EXIT_USAGE,
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        raise RunError(
            "STRIPE_SECRET_KEY is not a Stripe test secret key (sk_test_…/rk_test_…); "
            "unset it to use the Stripe stand-in.",
            EXIT_USAGE,
        )
    return key


# ---- ports --------------------------------------------------------------------------------


def check_ports(options: Options) -> None:
    """Raise `RunError` naming the flag to change if two parts share a port or one is busy."""
    seen: dict[int, PortOption] = {}
    for port in PORTS:
        if options.real_stripe and port.name == "stripe":
            continue
        number = options.ports[port.name]
        if number in seen:
            other = seen[number]
            raise RunError(
                f"{port.flag} and {other.flag} are both {number}; give each part its own port.",
                EXIT_USAGE,
            )
        seen[number] = port
        if not port_is_free(number):
            raise RunError(
                f"Port {number} ({port.label}) is already in use on {HOST}; "
                f"choose another with {port.flag} N (or {port.env_var}=N).",
                EXIT_USAGE,
            )


def port_is_free(port: int) -> bool:
    """Tell whether a server could listen on `127.0.0.1:port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The same option the servers set: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


# ---- the function's environment -----------------------------------------------------------


def function_env(options: Options, base: Mapping[str, str], firestore_host: str) -> dict[str, str]:
    """The function's contract variables, pointing at the local parts."""
    env = {
        name: value
        for name, value in base.items()
        if name not in ("STRIPE_API_BASE", "FIRESTORE_EMULATOR_HOST", "PORT", "DEBUG")
    }
    example = options.url("web", EXAMPLE_PATH)
    env.update(
        {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "FIRESTORE_EMULATOR_HOST": firestore_host,
            "AUTH_ISSUER": issuer_url(options),
            "AUTH_AUDIENCE": DEV_AUDIENCE,
            "AUTH_JWKS_URL": options.url("issuer", "/jwks"),
            "ALLOWED_ORIGINS": ",".join(options.web_origins()),
            "ALLOWED_RETURN_ORIGINS": ",".join(options.web_origins()),
            "DEFAULT_RETURN_URL": example,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if options.real_stripe:
        assert options.stripe_key is not None
        env["STRIPE_SECRET_KEY"] = options.stripe_key
    else:
        env["STRIPE_SECRET_KEY"] = STANDIN_KEY
        env["STRIPE_API_BASE"] = options.url("stripe", "").rstrip("/")
        env.pop("PORTAL_CONFIGURATION_ID", None)
    return env


def issuer_url(options: Options) -> str:
    """The development issuer's `iss`: its own base URL."""
    return options.url("issuer", "").rstrip("/")


def frontend_config(options: Options) -> dict[str, Any]:
    """What `web/example/config.js` says when the local run serves it."""
    stripe = "real Stripe test mode" if options.real_stripe else "Stripe stand-in"
    return {
        "functionUrl": options.url("function"),
        "issuerTokenUrl": options.url("issuer", "/_issuer/token"),
        "returnUrl": None,
        "subscriptionId": options.subscription_id,
        "environment": f"local run · {stripe} · Firestore emulator",
    }


# ---- the static frontend ------------------------------------------------------------------


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


def start_web(options: Options) -> ServerThread:
    """Serve `web/` on the web port from a thread of this process."""
    config = json.dumps(frontend_config(options), indent=2)
    script = f"// Written by local/run.py for this run.\nexport default {config};\n"
    handler = type("ConfiguredWebHandler", (WebHandler,), {"config_js": script.encode()})
    server = LocalHTTPServer((HOST, options.ports["web"]), partial(handler, directory=WEB_ROOT))
    thread = ServerThread(server, name="web")
    thread.start()
    return thread


# ---- child processes ----------------------------------------------------------------------


def python_module(module: str, *args: str) -> list[str]:
    """argv running `python -m module args…` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def function_argv(port: int) -> list[str]:
    """argv of the function server: `serve_function` in a child of its own."""
    return python_module("local.run", SERVE_FUNCTION_FLAG, str(port))


def serve_function(port: int) -> int:
    """Serve the function as `functions-framework --target … --source … --debug` does.

    The same `functions_framework.create_app` and Flask debug server, with one difference: the
    reloader polls the function's own files (`stat`) instead of watching every folder on
    `sys.path` with inotify (watchdog's default), which floods the inotify queue as soon as
    anything else on the machine reads the virtualenv — a test run, an editor's indexer.
    """
    from functions_framework import create_app

    app = create_app(FUNCTION_TARGET, str(FUNCTION_SOURCE))
    app.run(
        HOST,
        port,
        debug=True,
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


@dataclass
class LocalRun:
    """Everything started by one `python -m local.run`, stopped in reverse order."""

    options: Options
    log_dir: Path
    firestore: FirestoreEmulator | None = None
    processes: dict[str, ServerProcess] = field(default_factory=dict)
    web: ServerThread | None = None
    follower: LogFollower | None = None

    def start(self) -> None:
        """Start every part and wait until each answers; raise `RunError` otherwise."""
        self.firestore = FirestoreEmulator.start(
            self.options.ports["firestore"],
            log_path=self.log_dir / "firestore.log",
            timeout=START_TIMEOUT,
        )
        if not self.options.real_stripe:
            self._start_process(
                "stripe",
                python_module("local.stripe_standin", "--port", str(self.options.ports["stripe"])),
            )
        self._start_process(
            "issuer",
            python_module(
                "local.dev_issuer",
                "--port",
                str(self.options.ports["issuer"]),
                "--audience",
                DEV_AUDIENCE,
            ),
        )
        self.web = start_web(self.options)
        self.start_function()

    def _start_process(
        self, name: str, argv: list[str], env: Mapping[str, str] | None = None
    ) -> ServerProcess:
        process = ServerProcess(
            argv,
            name=name,
            log_path=self.log_dir / f"{name}.log",
            env=env,
            wait_port=(HOST, self.options.ports[name]),
            timeout=START_TIMEOUT,
        )
        self.processes[name] = process
        try:
            process.start()
        except ServerProcessError as error:
            raise RunError(str(error)) from None
        return process

    def start_function(self) -> None:
        """(Re)start the function and wait until it answers HTTP."""
        assert self.firestore is not None
        env = function_env(self.options, os.environ, self.firestore.host)
        process = self._start_process(
            "function", function_argv(self.options.ports["function"]), env
        )
        try:
            wait_for_http(
                self.options.url("function"), self.options.web_origins()[0], process.alive
            )
        except RunError:
            raise RunError(
                f"the function did not start; log {process.log_path}:\n{process.log_tail()}"
            ) from None
        if self.follower is None:
            self.follower = LogFollower(process.log_path, prefix="function | ")
            self.follower.start()
        else:
            self.follower.follow(process.log_path)

    def stop(self) -> None:
        """Stop everything started so far, newest first; safe to call twice."""
        if self.follower is not None:
            self.follower.stop()
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.processes.clear()
        if self.web is not None:
            self.web.stop()
            self.web = None
        if self.firestore is not None:
            self.firestore.stop()
            self.firestore = None

    def dead_part(self) -> str | None:
        """The name of a part that stopped on its own, if any."""
        for name, process in self.processes.items():
            if not process.alive():
                return name
        if self.firestore is not None and not self.firestore.process.alive():
            return "firestore"
        return None


class LogFollower:
    """Copies new lines of a log file to this terminal, prefixed, from a daemon thread."""

    def __init__(self, path: Path, prefix: str) -> None:
        self._path = path
        self._generation = 0
        self._prefix = prefix
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="log-follower", daemon=True)

    def start(self) -> None:
        """Start following."""
        self._thread.start()

    def follow(self, path: Path) -> None:
        """Follow `path` from its start (the log of a restarted process, maybe the same file)."""
        with self._lock:
            self._path = path
            self._generation += 1

    def stop(self) -> None:
        """Stop following."""
        self._stopped.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        generation = -1
        position = 0
        while not self._stopped.wait(0.2):
            with self._lock:
                path, current = self._path, self._generation
            if current != generation:
                generation, position = current, 0
            position = self._copy_new_lines(path, position)

    def _copy_new_lines(self, path: Path, position: int) -> int:
        try:
            with path.open("rb") as log:
                log.seek(position)
                chunk = log.read()
        except FileNotFoundError:
            return position
        complete = chunk.rfind(b"\n") + 1
        for line in chunk[:complete].decode("utf-8", "replace").splitlines():
            print(f"{self._prefix}{line}", flush=True)
        return position + complete


# ---- the terminal -------------------------------------------------------------------------


def summary(options: Options, firestore_host: str, log_dir: Path) -> str:
    """The table printed once everything runs."""
    stripe = (
        ("stripe", "api.stripe.com", "real Stripe TEST mode (STRIPE_SECRET_KEY is set)")
        if options.real_stripe
        else ("stripe", options.url("stripe"), "Stripe stand-in (no network, fake portal pages)")
    )
    rows = [
        ("open", options.url("web", EXAMPLE_PATH), "example settings page — start here"),
        ("function", options.url("function"), "functions-framework, debug (reloads on save)"),
        ("web", options.url("web"), "web/: the example page and billing-portal.js"),
        stripe,
        ("firestore", firestore_host, f"Firestore emulator, project {PROJECT}"),
        ("issuer", options.url("issuer"), "development sign-in (local only, never deployed)"),
        ("logs", str(log_dir), "one file per part"),
    ]
    width = max(len(row[1]) for row in rows)
    lines = ["", "billing-portal is running locally. Ctrl-C stops everything.", ""]
    lines += [f"  {name:<10} {where:<{width}}  {what}" for name, where, what in rows]
    return "\n".join([*lines, ""])


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """SIGINT (Ctrl-C) and SIGTERM both mean: stop everything and exit."""
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)


def ignore_signals() -> None:
    """While stopping, a second Ctrl-C must not interrupt the cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def source_fingerprint(root: Path = FUNCTION_SOURCE.parent) -> tuple[tuple[str, int], ...]:
    """Names and modification times of the function's Python files, to notice a save."""
    return tuple(
        sorted((str(path), path.stat().st_mtime_ns) for path in root.rglob("*.py") if path.exists())
    )


def supervise(run: LocalRun) -> None:
    """Wait for a signal; restart a crashed function after its next save; fail on other deaths."""
    waiting_since: tuple[tuple[str, int], ...] | None = None
    while True:
        time.sleep(0.25)
        dead = run.dead_part()
        if dead == "function" and waiting_since is None:
            process = run.processes["function"]
            print(
                f"\nThe function stopped (exit {process.stop()}); see above or {process.log_path}. "
                "It restarts when you save a file under function/.",
                flush=True,
            )
            waiting_since = source_fingerprint()
        elif dead not in (None, "function"):
            raise RunError(
                f"{dead} stopped unexpectedly; stopping everything (logs: {run.log_dir})"
            )
        if waiting_since is not None and source_fingerprint() != waiting_since:
            waiting_since = _restart_function(run)


def _restart_function(run: LocalRun) -> tuple[tuple[str, int], ...] | None:
    print("function/ changed; starting the function again…", flush=True)
    try:
        run.start_function()
    except RunError as error:
        print(f"{error}\nStill waiting for a fix under function/.", flush=True)
        return source_fingerprint()
    print(f"The function is back at {run.options.url('function')}", flush=True)
    return None


@dataclass
class Workspace:
    """The log folder: kept when given or when the run failed, removed after a clean stop."""

    path: Path
    temporary: bool

    @classmethod
    def create(cls, wanted: Path | None) -> Workspace:
        """Use `wanted` (created if needed) or a new temporary folder."""
        if wanted is not None:
            wanted.mkdir(parents=True, exist_ok=True)
            return cls(wanted.resolve(), temporary=False)
        return cls(Path(tempfile.mkdtemp(prefix="billing-portal-run-")), temporary=True)

    def finish(self, clean: bool) -> None:
        """Remove a temporary folder after a clean stop."""
        if self.temporary and clean:
            shutil.rmtree(self.path, ignore_errors=True)


def _fail(message: str) -> None:
    print(f"local.run: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; return the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [SERVE_FUNCTION_FLAG] and len(args) == 2:
        return serve_function(int(args[1]))
    try:
        options = parse_options(args, os.environ)
        check_ports(options)
    except RunError as error:
        _fail(str(error))
        return error.exit_code
    install_signal_handlers()
    workspace = Workspace.create(options.log_dir)
    run = LocalRun(options, workspace.path)
    status = 0
    try:
        print("Starting billing-portal locally…", flush=True)
        run.start()
        assert run.firestore is not None
        print(summary(options, run.firestore.host, workspace.path), flush=True)
        supervise(run)
    except Stop:
        print("\nStopping…", flush=True)
    except (RunError, ServerProcessError, RuntimeError) as error:
        _fail(str(error))
        status = 1
    finally:
        ignore_signals()
        run.stop()
        workspace.finish(clean=status == 0)
    if status == 0:
        print("Stopped; nothing left running.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
