"""The JSON depth scan that guards `json.loads` on caller bodies and signed events (pure).

Its work is measured, not timed: `scan_depth` reports the characters it visited, and for every
body shape that made the old regex pre-scan quadratic (issue 19: `"` followed by `\\"` repeated,
0.05 / 0.19 / 0.74 s at 4 / 8 / 16 KB) the count must grow with the size, not its square.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_portal.inputs import MAX_BODY_BYTES, MAX_JSON_DEPTH
from billing_portal.jsonscan import json_too_deep, scan_depth

SIZES = (4 * 1024, 8 * 1024, 16 * 1024)


def _fill(unit: str, size: int, prefix: str = "") -> str:
    return prefix + unit * ((size - len(prefix)) // len(unit))


# Each is a body of about `size` characters that a backtracking string pattern re-reads from
# every quote (the body first), or that costs a scan per bracket or per escape.
HOSTILE = {
    "issue 19: a quote, then escaped quotes": lambda n: _fill('\\"', n, '"'),
    "a quote, then escaped backslashes": lambda n: _fill("\\\\", n, '"'),
    "escaped quotes, never opened": lambda n: _fill('\\"', n),
    "quotes and backslashes alternating": lambda n: _fill('"\\', n),
    "unterminated strings of brackets": lambda n: _fill('"[{', n),
    "empty arrays side by side": lambda n: _fill("[]", n),
    "closers only": lambda n: _fill("]}", n),
    "short strings": lambda n: _fill('"a",', n, "["),
    "a long plain return_url": lambda n: (
        _fill("a", n - 2, '{"return_url": "https://x.test/') + '"}'
    ),
}


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_the_depth_scan_visits_each_character_at_most_once(shape):
    bodies = [HOSTILE[shape](size) for size in SIZES]
    steps = [scan_depth(body, MAX_JSON_DEPTH).steps for body in bodies]
    for body, count in zip(bodies, steps, strict=True):
        assert count <= len(body), f"{shape}: {count} steps for {len(body)} characters"


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_the_depth_scan_work_grows_linearly_with_the_body(shape):
    steps = [scan_depth(HOSTILE[shape](size), MAX_JSON_DEPTH).steps for size in SIZES]
    # Twice the body, twice the work: 4 → 8 → 16 KiB may not cost more than 2× (+ a few
    # characters of rounding) per doubling. The old pre-scan's work quadrupled.
    for smaller, larger in itertools.pairwise(steps):
        assert larger <= 2 * smaller + 8, f"{shape}: steps {steps} for sizes {SIZES}"


def test_a_body_within_the_depth_limit_is_read_to_its_end_once():
    body = HOSTILE["issue 19: a quote, then escaped quotes"](MAX_BODY_BYTES)
    scan = scan_depth(body, MAX_JSON_DEPTH)
    assert not scan.too_deep
    assert scan.steps == len(body)


def test_a_body_over_the_depth_limit_is_refused_at_the_first_bracket_too_many():
    body = "[" * (MAX_JSON_DEPTH + 1) + "]" * 10_000
    scan = scan_depth(body, MAX_JSON_DEPTH)
    assert scan.too_deep and scan.steps == MAX_JSON_DEPTH + 1


def test_brackets_count_outside_strings_only():
    deepest_valid = '{"flow": {"type": "subscription_update_confirm", "items": [{"id": "si_1"}]}}'
    assert not json_too_deep(deepest_valid, MAX_JSON_DEPTH)
    assert not json_too_deep('{"return_url": "https://a.example/[[[[[[[[[[\\"{{{{{{{{{"}', 1)
    assert not json_too_deep('["\\\\", "[[[["]', 1)  # an escaped backslash ends no string
    assert json_too_deep('["\\\\", [[1]]]', 2)
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)
    assert not json_too_deep("[]" * 5000, 1)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}', max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=4), children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    value=json_values, limit=st.integers(min_value=0, max_value=6), indent=st.none() | st.just(1)
)
def test_the_scan_agrees_with_the_parsed_depth_of_any_json(value, limit, indent):
    text = json.dumps(value, indent=indent)
    assert json_too_deep(text, limit) == (_depth(value) > limit)
