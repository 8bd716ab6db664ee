"""Child processes for tests: logs under test-output/, whole process group stopped on teardown."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.process import REPO_ROOT, ServerProcess, ServerProcessError, living_processes

TEST_OUTPUT = REPO_ROOT / "test-output"
_counter = itertools.count(1)

__all__ = [
    "TEST_OUTPUT",
    "ServerProcess",
    "ServerProcessError",
    "group_is_empty",
    "log_path",
    "pid_alive",
    "start_process",
]


def log_path(name: str) -> Path:
    """A fresh log file path under test-output/, unique per xdist worker and call."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return TEST_OUTPUT / f"{name}-{worker}-{os.getpid()}-{next(_counter)}.log"


def start_process(argv: Sequence[str], *, name: str, **options: Any) -> ServerProcess:
    """Start ``argv`` as a ``ServerProcess`` logging to test-output/ and wait until ready.

    ``options`` go to ``ServerProcess``: ``ready_pattern``, ``wait_port``, ``env``, ``cwd``,
    ``timeout``. Stop it with ``.stop()`` (or use it as a context manager).
    """
    return ServerProcess(argv, name=name, log_path=log_path(name), **options).start()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    """Living processes in process group ``pgid``."""
    return [proc.pid for proc in living_processes() if proc.group == pgid]


def group_is_empty(pgid: int) -> bool:
    """Tell whether no living process is left in process group ``pgid``."""
    if not Path("/proc/self/stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return False
    return not group_members(pgid)
