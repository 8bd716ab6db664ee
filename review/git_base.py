"""A file as it was at a git commit (`git show <ref>:<path>`), for `plan --base`."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


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
