"""A stack as it was at a git commit, for `plan --base`: its file, and its plan by its own code."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class GitError(RuntimeError):
    """git could not answer: not a repository, unknown ref, git missing."""


@dataclass(frozen=True)
class BaseFile:
    """A file at a commit: `text` is None when the file does not exist there."""

    ref: str
    commit: str
    path: str  # relative to the repository root
    text: str | None


def file_at(ref: str, path: Path) -> BaseFile:
    """`path` (a file in a git work tree) as of commit `ref`; raises `GitError`."""
    directory = path.resolve().parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    commit = _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    relative = path.resolve().relative_to(top.resolve()).as_posix()
    exists = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{relative}"], cwd=top, capture_output=True
    )
    text = _git(top, "show", f"{commit}:{relative}") if exists.returncode == 0 else None
    return BaseFile(ref=ref, commit=commit, path=relative, text=text)


def _git(directory: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True, encoding="utf-8"
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if result.returncode != 0:
        if args[:2] == ("rev-parse", "--verify"):
            raise GitError(f"{args[-1].removesuffix('^{commit}')!r} is not a commit in {directory}")
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise GitError(f"git {args[0]} failed in {directory}: {reason[0]}")
    return result.stdout


def plan_rows_at(commit: str, stack: str, path: Path) -> dict[str, Any] | None:
    """The stack's setting rows as the commit's own code computes them, or None if it cannot.

    A change to `stackspec/` (how settings become Stripe parameters) then shows in `plan --base` as
    well as a change to the stack file. The commit's tree is exported to a temporary folder and
    its `python -m review plan --format json` run there; a commit without that tool, or whose
    stack file has settings errors, gives None and the caller falls back to reading the old stack
    file with the current code.
    """
    directory = path.resolve().parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip()).resolve()
    stack_dir = directory.relative_to(top)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=top, capture_output=True
    )
    if archive.returncode != 0:
        return None
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        if not (Path(tmp) / "review" / "__main__.py").is_file():
            return None
        env = {**os.environ, "PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "review", "-C", str(Path(tmp) / stack_dir)]
        command += ["plan", "--stack", stack, "--format", "json"]
        try:
            result = subprocess.run(
                command, cwd=tmp, env=env, capture_output=True, text=True, timeout=120
            )
        except subprocess.TimeoutExpired:
            return None
    if result.returncode != 0:
        return None
    try:
        rows = json.loads(result.stdout)["settings"]
    except (ValueError, KeyError, TypeError):
        return None
    return rows if isinstance(rows, dict) else None
