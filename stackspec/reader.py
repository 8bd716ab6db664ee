"""Reading a tree of config values with exact key paths, collecting every problem at once.

The settings parser reads stack config through `Section`, which knows the full config key of
everything it hands out (`billing-portal:portal.features.subscriptionCancel.mode`), so a problem
always names the key a user has to change and how (`SettingsProblem`). Problems are collected and
raised together as one `SettingsError` by `Problems.raise_if_any`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROJECT = "billing-portal"  # the config namespace: keys are `billing-portal:<name>`


@dataclass(frozen=True)
class SettingsProblem:
    """One mistake in a stack's config: the full key, what is wrong, and how to fix it."""

    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}. Fix: {self.fix}"


class SettingsError(ValueError):
    """A stack's config is not valid; `problems` lists every mistake found, each with its key."""

    def __init__(self, stack: str, problems: Iterable[SettingsProblem]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"stack '{stack}' has {count} configuration {noun}:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(problem.key for problem in self.problems)


class Problems:
    def __init__(self) -> None:
        self.items: list[SettingsProblem] = []

    def add(self, key: str, problem: str, fix: str) -> None:
        self.items.append(SettingsProblem(key, problem, fix))

    def raise_if_any(self, stack: str) -> None:
        if self.items:
            raise SettingsError(stack, self.items)


def config_set(key: str, value: str, *, secret: bool = False, path: bool = False) -> str:
    """The `pulumi config set` command that fixes a key, for a problem's fix text."""
    flags = " --secret" if secret else ""
    flags += " --path" if path else ""
    return f"`pulumi config set{flags} {key} {value}`"


def describe(value: Any) -> str:
    """A short rendering of a config value for a message."""
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _decode_json(value: Any) -> Any:
    # Pulumi hands structured config to the program as JSON text; YAML gives native values.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_MISSING = object()


class Section:
    """An object in the config tree. `prefix` + a member name is that member's full config key."""

    def __init__(
        self, problems: Problems, prefix: str, value: Any, *, label: str = "", top: bool = False
    ) -> None:
        self.problems = problems
        self.prefix = prefix
        self.label = label or prefix.rstrip(".")
        self.top = top  # the engine passes top-level structured values as JSON text
        self.used: set[str] = set()
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            problems.add(
                self.label,
                f"must be an object (a YAML mapping), got {describe(value)}",
                "write it as nested `key: value` lines in the stack file",
            )
            value = {}
        self.data: dict[str, Any] = dict(value)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def raw(self, name: str) -> Any:
        self.used.add(name)
        value = self.data.get(name)
        if value is None and name in self.data:
            # `key:` with nothing after it, or `color: #0A2540` (YAML reads `#…` as a comment):
            # a setting the author meant to give, silently unset if read as "not set".
            self.add(
                name,
                "has no value",
                "give it one or remove the key; quote a value that starts with # "
                '(primaryColor: "#0A2540")',
            )
        return _decode_json(value) if self.top else value

    def add(self, name: str, problem: str, fix: str) -> None:
        self.problems.add(self.key(name), problem, fix)

    def section(self, name: str) -> Section:
        return Section(self.problems, self.key(name) + ".", self.raw(name), label=self.key(name))

    def string(self, name: str, default: str | None = None, *, required: str = "") -> str | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                self.add(name, "is not set", required)
            return default
        if not isinstance(value, str):
            self.add(name, f"must be a string, got {describe(value)}", "quote the value")
            return default
        return value.strip()

    def boolean(self, name: str, default: Any) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.add(name, f"must be true or false, got {describe(value)}", "write true or false")
        return default

    def integer(
        self, name: str, default: Any, *, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(name, f"must be a whole number, got {describe(value)}", "write a number")
            return default
        low = minimum if minimum is not None else "-∞"
        high = maximum if maximum is not None else "∞"
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.add(
                name, f"is {value}, outside {low}..{high}", f"use a value from {low} to {high}"
            )
            return default
        return value

    def strings(self, name: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return tuple(default)
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in value.split(",")) if part]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(name, f"must be a list of strings, got {describe(value)}", "write a YAML list")
            return tuple(default)
        return tuple(item.strip() for item in value)

    def choice(
        self, name: str, allowed: Iterable[str], default: str | None = None, *, what: str = ""
    ) -> str | None:
        value = self.string(name)
        if value is None:
            return default
        allowed = tuple(allowed)
        if value not in allowed:
            self.add(name, _not_one_of(allowed, value, what), _set_to_one_of(allowed))
            return default
        return value

    def choices(
        self, name: str, allowed: Iterable[str], default: Iterable[str] = (), *, what: str = ""
    ) -> tuple[str, ...]:
        values = self.strings(name, default)
        allowed = tuple(allowed)
        for index, value in enumerate(values):
            if value not in allowed:
                self.problems.add(
                    f"{self.key(name)}[{index}]",
                    _not_one_of(allowed, value, what),
                    _set_to_one_of(allowed),
                )
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            self.add(name, f"lists {', '.join(duplicates)} more than once", "list each value once")
        return tuple(value for value in dict.fromkeys(values) if value in allowed)

    def items(self, name: str) -> list[tuple[str, Any]]:
        """A list member as (item key, item value) pairs, item keys like `name[0]`."""
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(name, f"must be a list, got {describe(value)}", "write a YAML list")
            return []
        return [(f"{self.key(name)}[{index}]", item) for index, item in enumerate(value)]

    def finish(self) -> None:
        """Report members nobody read: almost always a typo."""
        for name in sorted(set(self.data) - self.used):
            known = sorted(self.used)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            self.problems.add(self.key(name), "is not a known setting", f"{hint} (or remove it)")


def _not_one_of(allowed: tuple[str, ...], value: str, what: str) -> str:
    close = difflib.get_close_matches(value, allowed, n=1)
    suffix = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not {what or 'an allowed value'}{suffix}"


def _set_to_one_of(allowed: tuple[str, ...]) -> str:
    return "use one of: " + ", ".join(allowed)
