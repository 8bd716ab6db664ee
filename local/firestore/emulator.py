"""Python handle for the Firestore emulator started by ``launcher.mjs`` (or one already running)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import requests

from local.process import REPO_ROOT, ServerProcess

if TYPE_CHECKING:
    from google.cloud import firestore

LAUNCHER = Path(__file__).with_name("launcher.mjs")
EMULATOR_PACKAGE = Path("node_modules", "@firestore-emulator", "server")
READY_PATTERN = r"READY grpc=(?P<grpc>\S+) control=(?P<control>\S+)"
ENV_VAR = "FIRESTORE_EMULATOR_HOST"

# google.cloud.firestore.Client reads FIRESTORE_EMULATOR_HOST while it is constructed; the
# environment is process-wide, so concurrent constructions take turns.
_ENV_LOCK = threading.Lock()


class LauncherRequired(NotImplementedError):
    """The emulator in use is not the project's launcher, so it has no control port."""


def require_emulator_package(root: Path = REPO_ROOT) -> Path:
    """Return the emulator package folder, or explain how to install it."""
    package = root / EMULATOR_PACKAGE
    if not (package / "package.json").is_file():
        raise RuntimeError(
            f"The Firestore emulator package is not installed ({package} is missing). "
            "Run `make setup` (or `npm ci` in the repository root) first."
        )
    return package


def _client_for(host: str, project: str) -> firestore.Client:
    from google.cloud import firestore

    with _ENV_LOCK, mock.patch.dict(os.environ, {ENV_VAR: host}):
        return firestore.Client(project=project)


class FirestoreEmulator:
    """The project's Firestore emulator: a node child process bound to 127.0.0.1."""

    supports_control = True

    def __init__(self, process: ServerProcess, host: str, control_url: str) -> None:
        self.process = process
        self.host = host
        self.control_url = control_url
        self._http = requests.Session()

    @classmethod
    def start(
        cls,
        port: int = 0,
        *,
        log_path: Path | None = None,
        node: str | None = None,
        timeout: float = 20.0,
    ) -> FirestoreEmulator:
        """Start the launcher on ``port`` (0 = any free port) and wait for its READY line."""
        require_emulator_package()
        node = node or shutil.which("node")
        if node is None:
            raise RuntimeError("`node` is not on PATH; the Firestore emulator needs Node.js 18+.")
        log_path = (
            log_path or REPO_ROOT / "test-output" / f"firestore-emulator-{time.time_ns()}.log"
        )
        process = ServerProcess(
            [node, str(LAUNCHER), "--port", str(port)],
            name="firestore-emulator",
            log_path=log_path,
            ready_pattern=READY_PATTERN,
            timeout=timeout,
        ).start()
        assert process.ready_match is not None
        return cls(
            process,
            host=process.ready_match["grpc"],
            control_url=f"http://{process.ready_match['control']}",
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point Google client libraries at this emulator."""
        return {ENV_VAR: self.host}

    def client(self, project: str) -> firestore.Client:
        """A ``google.cloud.firestore.Client`` for ``project`` talking to this emulator."""
        return _client_for(self.host, project)

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, self.control_url + path, timeout=10, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"emulator control {method} {path} failed: {response.status_code} {response.text}"
            )
        return response.json()

    def reset(self) -> None:
        """Delete every document of every project and zero the call counts and faults."""
        self._control("POST", "/reset")

    def stats(self) -> dict[str, int]:
        """gRPC calls per method name since the last reset, e.g. ``{"Commit": 2}``."""
        return self._control("GET", "/stats")["calls"]

    def fail_next(
        self, method: str, count: int = 1, code: int = 14, message: str | None = None
    ) -> None:
        """Make the next ``count`` calls of gRPC ``method`` fail with status ``code``.

        14 is UNAVAILABLE, which the client retries for Commit; 13 (INTERNAL) is not retried.
        """
        body: dict[str, Any] = {"method": method, "count": count, "code": code}
        if message is not None:
            body["message"] = message
        self._control("POST", "/faults", json=body)

    def documents(self, project: str | None = None) -> dict[str, Any]:
        """The emulator's whole state as JSON (``state.toJSON()``), optionally one project."""
        return self._control("GET", "/documents", params={"project": project} if project else None)

    def stop(self) -> None:
        """Stop the launcher and everything it started."""
        self._http.close()
        self.process.stop()


class ExternalFirestoreEmulator:
    """An emulator someone else runs (``FIRESTORE_EMULATOR_HOST``, e.g. the gcloud emulator)."""

    supports_control = False

    def __init__(self, host: str) -> None:
        self.host = host

    def env(self) -> dict[str, str]:
        """Environment variables that point Google client libraries at this emulator."""
        return {ENV_VAR: self.host}

    def client(self, project: str) -> firestore.Client:
        """A ``google.cloud.firestore.Client`` for ``project`` talking to this emulator."""
        return _client_for(self.host, project)

    def _unsupported(self, what: str) -> LauncherRequired:
        return LauncherRequired(
            f"{what} needs the project's Firestore launcher (local/firestore/launcher.mjs), but "
            f"{ENV_VAR}={self.host} points at an external emulator. Unset {ENV_VAR} to let the "
            "tests start their own."
        )

    def reset(self) -> None:
        """Not available on an external emulator."""
        raise self._unsupported("reset()")

    def stats(self) -> dict[str, int]:
        """Not available on an external emulator."""
        raise self._unsupported("stats()")

    def fail_next(
        self, method: str, count: int = 1, code: int = 14, message: str | None = None
    ) -> None:
        """Not available on an external emulator."""
        raise self._unsupported("fail_next()")

    def documents(self, project: str | None = None) -> dict[str, Any]:
        """Not available on an external emulator."""
        raise self._unsupported("documents()")

    def stop(self) -> None:
        """Nothing to stop: the emulator belongs to someone else."""


def emulator_from_environment() -> ExternalFirestoreEmulator | None:
    """The external emulator named by ``FIRESTORE_EMULATOR_HOST``, if that variable is set."""
    host = os.environ.get(ENV_VAR, "").strip()
    return ExternalFirestoreEmulator(host) if host else None
