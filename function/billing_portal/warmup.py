"""Boot warm-up: open what the first request uses while the instance starts, without delaying it.

What a new instance's first request would otherwise do on its own, serially: fetch the signing
keys, build the Firestore gRPC channel (TCP, TLS, HTTP/2, credentials) and read, open a Stripe
connection (TCP, TLS). The warm-up does these in background threads, in parallel, as soon as the
serving process exists; a request that arrives meanwhile waits for them (`wait`, bounded by
`BOOT_WAIT_SECONDS` after the warm-up began) instead of opening its own connections. A task that
fails is logged and changes nothing else: the request path opens and retries as it always did.

Where it runs: functions-framework imports main.py in gunicorn's *master*, then listens, then
forks the worker that serves. Threads do not survive a fork, and a gRPC channel must not cross one
(nor a lock held by a thread that does not), so nothing here runs at import: `start_after_fork`
registers the warm-up to start in every forked child — the gunicorn worker, right after it is
forked, which is after the port listens — and `start` runs it in the current process, for a
server that does not fork. Time to listening is unchanged by construction: the master does no
network work.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping

from . import logs

BOOT_WAIT_SECONDS = 3.0  # at most this long after the warm-up began does a request wait for it

Task = Callable[[Callable[[], None]], None]  # called with `ready`: "what a request needs is open"


class BootWarmup:
    """Named warm-up tasks run once per serving process, each in its own daemon thread."""

    def __init__(
        self,
        tasks: Mapping[str, Task],
        *,
        wait_seconds: float = BOOT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks = dict(tasks)
        self._wait_seconds = wait_seconds
        self._clock = clock
        self._pid: int | None = None  # the process the current warm-up runs in
        self._deadline = float("-inf")
        self._ready: dict[str, threading.Event] = {}
        self._results: dict[str, str] = {}
        self._guard = threading.Lock()

    def start_after_fork(self) -> None:
        """Start the warm-up in each process forked from this one (gunicorn's worker)."""
        os.register_at_fork(after_in_child=self._start_in_child)

    def _start_in_child(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here.
        self._guard = threading.Lock()
        self.start()

    def start(self) -> None:
        """Start every task now, in this process (once per process); never blocks, never raises."""
        with self._guard:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._deadline = self._clock() + self._wait_seconds
            self._ready = {name: threading.Event() for name in self._tasks}
            self._results = {}
            started = self._clock()
        for name, task in self._tasks.items():
            thread = threading.Thread(
                target=self._run,
                args=(name, task, self._ready[name], started),
                name=f"warm-up-{name}",
                daemon=True,
            )
            thread.start()

    def wait(self) -> bool:
        """Wait for the warm-up of this process, until at most `BOOT_WAIT_SECONDS` after it began.

        True when everything a request uses is ready (or there is no warm-up to wait for: none
        was started in this process); False when the bound ran out first, and the request goes on
        opening what it needs itself.
        """
        if self._pid != os.getpid():
            return True
        for event in self._ready.values():
            if event.is_set():
                continue
            if not event.wait(max(0.0, self._deadline - self._clock())):
                return False
        return True

    def _run(self, name: str, task: Task, ready: threading.Event, started: float) -> None:
        try:
            task(ready.set)
            outcome = f"ok in {(self._clock() - started) * 1000.0:.1f} ms"
        except Exception as error:  # a warm-up never fails anything: say what and move on
            outcome = f"failed after {(self._clock() - started) * 1000.0:.1f} ms"
            logs.emit(
                {
                    "severity": "WARNING",
                    "message": f"Boot warm-up of {name} failed; the first request will "
                    f"connect itself: {type(error).__name__}: {str(error)[:300]}",
                }
            )
        finally:
            ready.set()
        with self._guard:
            self._results[name] = outcome
            finished = len(self._results) == len(self._tasks)
            results = dict(self._results)
        if finished:
            logs.emit(
                {
                    "severity": "INFO",
                    "message": "Boot warm-up finished",
                    "warmUp": {key: results[key] for key in self._tasks},
                }
            )
