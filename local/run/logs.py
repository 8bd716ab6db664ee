"""The parts' logs: the log folder, and the function's log copied to this terminal."""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path


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
