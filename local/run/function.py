"""The function in its own child (`python -m local.run --serve-function PORT`); reloads on save."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from local.process import REPO_ROOT
from local.run.options import HOST

FUNCTION_SOURCE = REPO_ROOT / "function" / "main.py"
FUNCTION_TARGET = "create_portal_session"
SERVE_FUNCTION_FLAG = "--serve-function"


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


def source_fingerprint(root: Path = FUNCTION_SOURCE.parent) -> tuple[tuple[str, int], ...]:
    """Names and modification times of the function's Python files, to notice a save."""
    return tuple(
        sorted((str(path), path.stat().st_mtime_ns) for path in root.rglob("*.py") if path.exists())
    )
