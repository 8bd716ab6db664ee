"""The request log tests read back: what each API request asked for and what it got.

Entries never hold the Authorization header; the key appears only as its mode and kind.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any

# Enough for any test; a long benchmark keeps the most recent entries instead of growing forever.
MAX_ENTRIES = 100_000


class RequestLog:
    """Request entries (dicts) in arrival order, safe to use from many threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)

    def add(self, entry: dict[str, Any]) -> None:
        """Record one finished request."""
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries in arrival order, optionally only one method and/or path prefix."""
        with self._lock:
            selected = [
                entry
                for entry in self._entries
                if (method is None or entry["method"] == method.upper())
                and (path_prefix is None or entry["path"].startswith(path_prefix))
            ]
            return copy.deepcopy(selected)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
