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
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise StackFileError(
            f"{path.name} is not UTF-8 text (byte {error.start}). Fix: save it as UTF-8, as "
            "Pulumi writes stack files"
        ) from None
    return load_stack_text(path.name, text)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML with a key given twice refused: PyYAML would keep the last one without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


class StackFileError(ValueError):
    """A stack file that cannot be read as one: the message names the file, the line and the fix."""


def load_stack_text(file_name: str, text: str) -> tuple[str, dict[str, Any]]:
    """`load_stack_file` for a stack file's text (e.g. as of a git commit), named by `file_name`.

    Raises `StackFileError` for YAML that does not parse or has no `config:` mapping.
    """
    match = _STACK_FILE.fullmatch(file_name)
    if not match:
        raise StackFileError(f"{file_name} is not named like a stack file (Pulumi.<stack>.yaml)")
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        raise StackFileError(_yaml_problem(file_name, error)) from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        raise StackFileError(
            f"{file_name} has no `config:` section. Fix: set the stack's settings with "
            f"`pulumi config set <key> <value> --stack {match.group(1)}` (Pulumi.dev.yaml shows "
            "them all)"
        )
    if not isinstance(config, dict):
        raise StackFileError(
            f"{file_name}: `config:` must map keys to values (`billing-portal:region: us-central1`"
            "), not a list or a single value. Fix: write one `key: value` per line under config:"
        )
    return match.group(1), dict(config)


def _yaml_problem(file_name: str, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or "is not valid YAML"
    if "given twice" in problem:
        return f"{file_name}{where}: {problem}. Fix: keep one of the two"
    return (
        f"{file_name}{where}: {problem}. Fix: check the indentation there (two spaces per level, "
        "keys of one mapping aligned) and that values with `: ` or `#` are quoted"
    )


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
    if not directory.is_dir():
        raise StackNotFound(f"{directory} is not a directory; name the project directory with -C")
    names = (
        _STACK_FILE.fullmatch(path.name)
        for path in directory.glob("Pulumi.*.y*ml")
        if path.is_file()
    )
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
