"""The servers a benchmark run talks to, all on 127.0.0.1.

- Stripe stand-in: a **separate process** (`python -m local.stripe`). In this process it
  would share the GIL with the load generator and the floor's own client, so a busy client
  would slow the "Stripe" it measures against, and the floor and the function would not see
  the same server behaviour.
- Firestore emulator: the project's node launcher (a child process, as in the tests).
- Development token issuer: in this process (a thread). It only serves the rare JWKS fetch
  (that is what the key-fetch row counts) and mints tokens before any timing starts.
- The function and the hello-world function: `functions-framework --target … --source …`,
  which — with gunicorn installed and no `--debug` — is functions-framework's own gunicorn
  application, the way Cloud Functions serves Python: one worker (`WORKERS=1`) with
  `THREADS` threads.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local.contract import build_environment
from local.firestore import FirestoreEmulator
from local.issuer import DevIssuer
from local.net import free_port
from local.process import REPO_ROOT, ServerProcess, living_processes
from local.stripe import TEST_KEY, StandinControl

HOST = "127.0.0.1"
FUNCTION_DIR = REPO_ROOT / "function"
FUNCTION_TARGET = "create_portal_session"
HELLO_DIR = Path(__file__).resolve().parent / "hello"
HELLO_TARGET = "hello"
LOG_DIR = REPO_ROOT / "test-output" / "bench"
PROJECT = "billing-portal-bench"
APP_ORIGIN = "https://app.example.test"
DEFAULT_RETURN_URL = f"{APP_ORIGIN}/settings/billing"
STRIPE_KEY = TEST_KEY
# Google's securetoken JWKS is served with a max-age of hours; the dev issuer's default (300 s)
# would expire the cache in the middle of a full run and count a legitimate refresh.
JWKS_MAX_AGE = 6 * 3600
START_TIMEOUT = 60.0


@dataclass
class LocalParts:
    """The stand-in (another process), the Firestore emulator and the token issuer."""

    standin_process: ServerProcess
    standin: StandinControl
    firestore: FirestoreEmulator
    issuer: DevIssuer
    log_dir: Path


@contextmanager
def local_parts(log_dir: Path = LOG_DIR) -> Iterator[LocalParts]:
    """Start the three local parts for the block; stop everything afterwards."""
    log_dir.mkdir(parents=True, exist_ok=True)
    standin_process = ServerProcess(
        [sys.executable, "-m", "local.stripe", "--host", HOST, "--port", "0"],
        name="stripe-standin",
        log_path=log_dir / "stripe-standin.log",
        ready_pattern=r"listening on (?P<url>http://127\.0\.0\.1:\d+)",
        timeout=START_TIMEOUT,
    )
    firestore: FirestoreEmulator | None = None
    issuer: DevIssuer | None = None
    try:
        standin_process.start()
        assert standin_process.ready_match is not None
        standin = StandinControl(standin_process.ready_match["url"])
        firestore = FirestoreEmulator.start(
            log_path=log_dir / "firestore-emulator.log", timeout=START_TIMEOUT
        )
        issuer = DevIssuer(HOST, 0, audience=PROJECT, jwks_max_age=JWKS_MAX_AGE).start()
        yield LocalParts(standin_process, standin, firestore, issuer, log_dir)
    finally:
        if issuer is not None:
            issuer.stop()
        if firestore is not None:
            firestore.stop()
        standin_process.stop()


def function_env(
    parts: LocalParts, *, threads: int, collection: str | None = None
) -> dict[str, str]:
    """The function's contract variables pointed at the local parts, plus gunicorn's sizing.

    The Stripe and Firestore timeouts and retries stay at the function's production defaults:
    the benchmark measures the function as deployed.
    """
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        **build_environment(
            stripe_secret_key=STRIPE_KEY,
            stripe_api_base=parts.standin.url,
            default_return_url=DEFAULT_RETURN_URL,
            allowed_origins=[APP_ORIGIN],
            auth_issuer=parts.issuer.issuer,
            auth_audience=parts.issuer.audience,
            auth_jwks_url=parts.issuer.jwks_url,
            customers_collection=collection or f"bench_{uuid.uuid4().hex[:10]}",
            google_cloud_project=PROJECT,
            firestore_emulator_host=parts.firestore.host,
        ),
        # functions-framework's gunicorn application reads these two.
        "WORKERS": "1",
        "THREADS": str(threads),
    }


def framework_argv(target: str, source_dir: Path, port: int) -> list[str]:
    """The functions-framework command, the same for the function and the hello-world one."""
    return [
        str(Path(sys.executable).parent / "functions-framework"),
        f"--target={target}",
        f"--source={source_dir / 'main.py'}",
        f"--host={HOST}",
        f"--port={port}",
    ]


@dataclass
class FrameworkServer:
    """A functions-framework server process (gunicorn master + one worker)."""

    name: str
    process: ServerProcess
    port: int

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>/`."""
        return f"http://{HOST}:{self.port}/"

    def worker_pid(self) -> int | None:
        """The gunicorn worker: the master's child (the master only supervises)."""
        children = child_pids(self.process.pid)
        return children[0] if children else None

    def stop(self) -> None:
        """Stop master and worker."""
        self.process.stop()


def spawn_framework(
    name: str, target: str, source_dir: Path, env: Mapping[str, str], log_dir: Path, *, wait: bool
) -> FrameworkServer:
    """Start functions-framework on a free port; with `wait`, return once the port accepts."""
    port = free_port(HOST)
    process = ServerProcess(
        framework_argv(target, source_dir, port),
        name=name,
        log_path=log_dir / f"{name}-{port}.log",
        env=env,
        cwd=REPO_ROOT,
        wait_port=(HOST, port) if wait else None,
        timeout=START_TIMEOUT,
    )
    process.start()
    return FrameworkServer(name, process, port)


def child_pids(pid: int) -> list[int]:
    """Living children of `pid` (oldest first)."""
    return sorted(proc.pid for proc in living_processes() if proc.parent == pid)


def memory_kib(pid: int) -> dict[str, int]:
    """`VmHWM` (peak resident set) and `VmRSS` of a process, in KiB, from /proc/<pid>/status."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")
