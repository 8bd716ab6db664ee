"""How deep a JSON text nests, found in one pass over its characters. Pure, no I/O.

`json.loads` recurses once per level and raises `RecursionError` (not `ValueError`) past the
interpreter's limit, so text from outside is scanned before it is parsed: the caller's body
(inputs.py) and a signed event (webhooks.py). The scan must itself be safe on any input: it is a
small state machine that visits each character once, never going back — work linear in the size
whatever the text (issue 19: a regex that skipped strings re-read the rest of the text from every
quote of an unterminated one, the square of the size). `scan_depth` reports the characters it
visited, so tests count its work instead of timing it.
"""

from __future__ import annotations

from dataclasses import dataclass

_OPENERS = frozenset("[{")
_CLOSERS = frozenset("]}")


@dataclass(frozen=True)
class DepthScan:
    """The verdict, and the work it took: characters visited (at most the text's length)."""

    too_deep: bool
    steps: int


def scan_depth(text: str, limit: int) -> DepthScan:
    """Whether the brackets of `text`, outside JSON strings, nest deeper than `limit`.

    Stops at the first bracket too many. An unterminated string's brackets do not count: the
    parser stops at that string (the text is invalid JSON) without descending into them. A
    closer without an opener does not take the depth below 0, so it can never hide openers.
    """
    depth = 0
    in_string = escaped = False
    steps = 0
    for char in text:
        steps += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            depth += 1
            if depth > limit:
                return DepthScan(True, steps)
        elif char in _CLOSERS and depth:
            depth -= 1
    return DepthScan(False, steps)


def json_too_deep(text: str, limit: int) -> bool:
    """True if `text` nests JSON arrays and objects deeper than `limit` (see `scan_depth`)."""
    return scan_depth(text, limit).too_deep
