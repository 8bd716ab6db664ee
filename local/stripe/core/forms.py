"""Stripe's form encoding: ``a[b][0][c]=v`` pairs to nested dicts, and parameter names back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^(?P<name>[^\[\]]+)(?P<brackets>(?:\[[^\[\]]*\])*)$")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")

# Nested values: a dict per bracketed level, a list only for ``name[]=`` appends, strings at
# the leaves. Indexed lists (``a[0]=x``, what the Stripe SDK sends) stay dicts with "0", "1"…
# keys here; the validator knows from the schema which of them are lists.
Params = dict[str, Any]


class FormError(ValueError):
    """The body is not valid Stripe form encoding; ``param`` names the offending key."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def decode_form(body: str | bytes) -> Params:
    """Decode an ``application/x-www-form-urlencoded`` body or query string into nested params."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return decode_pairs(parse_qsl(body, keep_blank_values=True, strict_parsing=False))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> Params:
    """Build nested params from ``(key, value)`` pairs such as ``("metadata[k]", "v")``."""
    root: Params = {}
    for key, value in pairs:
        _insert(root, key, value)
    return root


def _insert(root: Params, key: str, value: str) -> None:
    match = _KEY.match(key)
    if match is None:
        raise FormError(f"Invalid parameter name: {key}", key)
    parts = [match["name"], *_BRACKET.findall(match["brackets"])]
    appends = len(parts) > 1 and parts[-1] == ""
    path = parts[:-1] if appends else parts
    node: Params = root
    for depth, part in enumerate(path[:-1]):
        if part == "":
            raise FormError(f"Invalid array: `[]` may only end a parameter name ({key})", key)
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise FormError(f"Invalid hash: {bracket_name(path[: depth + 1])}", key)
        node = child
    last = path[-1]
    existing = node.get(last)
    if appends:
        if existing is None:
            existing = node[last] = []
        elif not isinstance(existing, list):
            raise FormError(f"Invalid array: {bracket_name(path)}", key)
        existing.append(value)
    elif last == "" or isinstance(existing, dict | list):
        raise FormError(f"Invalid hash: {bracket_name(path)}", key)
    else:
        node[last] = value


def bracket_name(parts: Sequence[str | int]) -> str:
    """Stripe's name for a nested parameter: ``("a", "b", 0)`` → ``a[b][0]``."""
    if not parts:
        return ""
    head, *rest = parts
    return str(head) + "".join(f"[{part}]" for part in rest)
