"""The body pre-scan's worst case over HTTP: a hostile body of the maximum size against a plain
body of the same size, both refused with a 400 after the same token check (issue 19).

The hostile body is the issue's: `"` followed by `\\"` repeated, which the old regex pre-scan
re-read from every quote (about 1.1 s per 16 KB request, the square of the size). The plain body
is a valid JSON object of the same size whose one field is too long: it travels the same path
(token, depth scan, `json.loads`, validation) and is refused by validation. Both are sent by the
same signed-in user over one kept-alive connection, interleaved; the ratio of their p50s is the
row's measure (target ≤ 1.5×).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from bench import client
from bench.measure import Summary, interleaved
from bench.servers import FrameworkServer, LocalParts
from bench.warm import WARMUP_ROUNDS, Users
from billing_portal.inputs import MAX_BODY_BYTES


def hostile_body(size: int = MAX_BODY_BYTES) -> bytes:
    """`"` then `\\"` repeated, padded to exactly `size` bytes: an unterminated string."""
    body = b'"' + b'\\"' * ((size - 1) // 2)
    return body + b"a" * (size - len(body))


def plain_body(size: int = MAX_BODY_BYTES) -> bytes:
    """A valid JSON object of exactly `size` bytes: one return URL, far too long to accept."""
    head, tail = b'{"return_url": "https://app.example.test/', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def worst_case_body(parts: LocalParts, function: FrameworkServer, *, rounds: int) -> dict[str, Any]:
    """p50/p95/p99 of the hostile and the plain body, interleaved, and their p50 ratio."""
    ((_, token),) = Users(parts, "bench-body").fresh(1)
    session = requests.Session()
    headers = client.headers(token)
    bodies = {"worst": hostile_body(), "plain": plain_body()}

    def sender(body: bytes) -> Callable[[int], None]:
        def send(_: int) -> None:
            response = session.post(function.url, data=body, headers=headers, timeout=30)
            if response.status_code != 400:
                raise client.BenchError(
                    f"a {len(body)}-byte body answered {response.status_code}, not 400: "
                    f"{response.text[:300]}"
                )

        return send

    calls = {name: sender(body) for name, body in bodies.items()}
    interleaved(calls, min(WARMUP_ROUNDS, rounds))
    samples = interleaved(calls, rounds)
    result: dict[str, Any] = {
        name: Summary.of(values).as_dict() for name, values in samples.items()
    }
    result["bytes"] = {name: len(body) for name, body in bodies.items()}
    result["ratio_p50"] = round(result["worst"]["p50"] / result["plain"]["p50"], 3)
    return result
