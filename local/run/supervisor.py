"""Starting and stopping the parts, signals, and restarting a crashed function after a save."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import requests

from local.firestore import FirestoreEmulator
from local.process import ServerProcess, ServerProcessError
from local.run.environment import DEV_AUDIENCE, function_env
from local.run.function import function_argv, python_module, source_fingerprint
from local.run.logs import LogFollower
from local.run.options import HOST, Options, RunError
from local.run.web import start_web
from local.servers import HTTPServerThread

START_TIMEOUT = 30.0


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM: stop everything and exit."""


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
    web: HTTPServerThread | None = None
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
                python_module("local.stripe", "--port", str(self.options.ports["stripe"])),
            )
        self._start_process(
            "issuer",
            python_module(
                "local.issuer",
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


# ---- signals ------------------------------------------------------------------------------


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


# ---- while running ------------------------------------------------------------------------


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
