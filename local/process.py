"""Run a local server as a child process: wait until it is ready, keep its log, stop it fully."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from local.net import port_is_open
from local.servers import Server

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerProcessError(RuntimeError):
    """The child exited or did not become ready; the message carries the tail of its log."""


class ServerProcess(Server):
    """A child process in its own process group, with stdout and stderr captured to one file.

    ``start()`` (from ``Server``) raises ``ServerProcessError`` if the child exits or is not
    ready in time, after stopping it.

    Readiness is a regular expression on the log (``ready_pattern``), an open TCP port
    (``wait_port``), or both. ``stop()`` signals the whole process group, so grandchildren
    (a shell, a worker pool) go too. The child's stdin is a pipe held by this object: servers
    that watch stdin (the Firestore launcher does) exit when the owner goes away, even if the
    owner is killed without running any cleanup.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_pattern: str | None = None,
        wait_port: tuple[str, int] | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.argv = list(argv)
        self.name = name or Path(self.argv[0]).name
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd or REPO_ROOT
        self.ready_pattern = re.compile(ready_pattern) if ready_pattern else None
        self.wait_port = wait_port
        self.timeout = timeout
        self.ready_match: re.Match[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file = None

    @property
    def pid(self) -> int:
        """Process id of the child (also its process group id)."""
        if self._proc is None:
            raise ServerProcessError(f"{self.name} was never started")
        return self._proc.pid

    def _launch(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if self.ready_pattern is not None and self.ready_match is None:
                self.ready_match = self.ready_pattern.search(self.log_text())
            pattern_ok = self.ready_pattern is None or self.ready_match is not None
            port_ok = self.wait_port is None or port_is_open(*self.wait_port)
            if pattern_ok and port_ok:
                return
            if self._proc is not None and self._proc.poll() is not None:
                raise ServerProcessError(
                    f"{self.name} exited with status {self._proc.returncode} before it was "
                    f"ready; log {self.log_path}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise ServerProcessError(
                    f"{self.name} was not ready within {self.timeout:.0f}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def alive(self) -> bool:
        """Tell whether the child is still running."""
        return self._proc is not None and self._proc.poll() is None

    def close_stdin(self) -> None:
        """Close the child's stdin, as the owner's death would."""
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()

    def wait(self, timeout: float) -> int:
        """Wait for the child to exit by itself; return its status (``TimeoutExpired`` if not)."""
        if self._proc is None:
            raise ServerProcessError(f"{self.name} was never started")
        return self._proc.wait(timeout=timeout)

    def log_text(self) -> str:
        """Everything the child has written so far (stdout and stderr interleaved)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log, for error messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop the whole process group (SIGTERM, then SIGKILL); return the exit status."""
        proc = self._proc
        if proc is None:
            return None
        self.close_stdin()
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        # Children of the leader may outlive it; the group id still names them. A SIGKILL is
        # delivered asynchronously: wait (bounded) until they are gone, so a caller that starts
        # the next server on the same port never meets the last one's grandchild.
        _signal_group(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            member.group == proc.pid for member in living_processes()
        ):
            time.sleep(0.01)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return proc.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat the launchers and the benchmark need."""

    pid: int
    state: str
    parent: int
    group: int


def living_processes() -> list[ProcStat]:
    """Every living (non-zombie) process, read from /proc.

    Zombies are left out: a killed grandchild stays a zombie until some process reaps it, and
    in a container PID 1 may never do so.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            found.append(ProcStat(int(entry.name), fields[0], int(fields[1]), int(fields[2])))
    return found
