"""Stack files on disk: which stacks there are, and one stack's validated settings.

Stack files hold no plain-text secrets (keys are set with `pulumi config set --secret`), so they
are read with `secrets_required=False`; every other rule, and every message, is `parse_settings`'s
own, exactly as `pulumi preview` reports it. Branding image paths are read relative to the stack
file's directory (the project directory), from the working tree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from stackspec.settings import Settings, parse_settings

_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_STACK_FILE = re.compile(r"Pulumi\.(.+)\.ya?ml")


def load_stack_file(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(stack name, config values) of a `Pulumi.<stack>.yaml` file; secrets stay encrypted."""
    path = Path(path)
    return load_stack_text(path.name, path.read_text(encoding="utf-8"))


def load_stack_text(file_name: str, text: str) -> tuple[str, dict[str, Any]]:
    """`load_stack_file` for a stack file's text (e.g. as of a git commit), named by `file_name`."""
    match = _STACK_FILE.fullmatch(file_name)
    if not match:
        raise ValueError(f"{file_name} is not named like a stack file (Pulumi.<stack>.yaml)")
    document = yaml.safe_load(text) or {}
    return match.group(1), dict(document.get("config") or {})


class StackNotFound(LookupError):
    """No stack file for the stack in the project directory."""


def stack_file(directory: Path, stack: str) -> Path:
    """`Pulumi.<stack>.yaml` (or `.yml`) in `directory`; raises `StackNotFound`."""
    if not _STACK_NAME.fullmatch(stack):
        raise StackNotFound(f"{stack!r} is not a stack name")
    for suffix in ("yaml", "yml"):
        path = directory / f"Pulumi.{stack}.{suffix}"
        if path.is_file():
            return path
    known = ", ".join(stack_names(directory)) or "none"
    raise StackNotFound(f"no stack file Pulumi.{stack}.yaml in {directory} (stacks: {known})")


def stack_names(directory: Path) -> list[str]:
    """The stacks with a stack file in `directory`, sorted."""
    names = (_STACK_FILE.fullmatch(path.name) for path in directory.glob("Pulumi.*.y*ml"))
    return sorted(match.group(1) for match in names if match)


def read_settings(path: Path) -> Settings:
    """A stack file's settings; raises `stackspec.settings.SettingsError` listing every mistake."""
    stack, config = load_stack_file(path)
    return parse_settings(stack, config, secrets_required=False, project_dir=path.parent)


def settings_from_text(file_name: str, text: str, project_dir: Path) -> Settings:
    """`read_settings` for a stack file's text (such as the file at a git commit); its image
    files are read from `project_dir` as they are now."""
    stack, config = load_stack_text(file_name, text)
    return parse_settings(stack, config, secrets_required=False, project_dir=project_dir)
