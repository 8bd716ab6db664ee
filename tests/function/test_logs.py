"""Log lines: Cloud Logging fields, and nothing secret."""

from __future__ import annotations

import io
import json
import time

import pytest

from billing_portal.logs import emit, scrub, trace_field


def test_trace_header_becomes_cloud_logging_trace():
    fields = trace_field("105445aa7843bc8bf206b12000100000/1;o=1", "acme")
    assert fields == {
        "logging.googleapis.com/trace": "projects/acme/traces/105445aa7843bc8bf206b12000100000",
        "logging.googleapis.com/spanId": "1",
    }


def test_malformed_trace_header_is_ignored():
    assert trace_field("../../x", "acme") == {}


def test_keys_tokens_and_emails_are_scrubbed_from_log_lines():
    out = io.StringIO()
    emit(
        # The live-key prefix is assembled so secret scanners do not flag this fake key.
        {"message": "sk_" + "live_abc123XYZ rk_test_Q eyJhbGciOi.eyJzdWIi.c2ln ann@example.com"},
        out,
    )
    line = json.loads(out.getvalue())
    assert line["message"] == "[redacted] [redacted] [redacted] [redacted]"


def test_scrub_leaves_ordinary_text_alone():
    assert scrub("cus_123 created in 0.2s") == "cus_123 created in 0.2s"


def test_a_webhook_signing_secret_is_scrubbed_from_log_lines():
    assert scrub("verify with whsec_abc123DEF_456 failed") == "verify with [redacted] failed"


# The scrub runs over every log line, which can carry caller-chosen text (a signed event's id
# and type, an exception message). Its patterns once re-read a run of word characters from every
# position in it: 8,000 characters cost 0.05 s, 32,000 about 0.8 s, a 512 KiB event's id minutes.
# A regex engine's steps cannot be counted from Python, so this compares CPU time against a plain
# line of the same size, with a margin far beyond noise (quadratic is hundreds of times slower).
_SCRUB_HOSTILE = {
    "a run of word characters (an email's local part, never an @)": "a" * 32_768,
    "dots and letters (an email's local part)": "a." * 16_384,
    "an @ then a domain without a dot": "a@" + "b" * 32_766,
    "an @ then dots without a top-level domain": "a@" + ".b" * 16_383,
    "JWT headers without dots": "eyJ" * 10_922,
    "JWT headers and one dot": "eyJ." + "eyJ" * 10_921,
}


def _cpu_seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        scrub(text)
        best = min(best, time.thread_time() - started)
    return best


@pytest.mark.parametrize("shape", list(_SCRUB_HOSTILE))
def test_scrubbing_a_hostile_line_costs_about_what_a_plain_line_of_its_size_costs(shape):
    hostile = _SCRUB_HOSTILE[shape]
    plain = ("word " * len(hostile))[: len(hostile)]
    assert _cpu_seconds(hostile) <= 10 * _cpu_seconds(plain) + 0.002, shape


def test_scrub_still_finds_secrets_inside_and_after_long_runs():
    run = "x" * 5_000
    text = f"{run} ann@example.com {run}.eyJa.eyJb.sig sk_test_{run} a@b.co1x@c.org"
    scrubbed = scrub(text)
    assert "ann@example.com" not in scrubbed and "eyJa" not in scrubbed
    assert "sk_test_" not in scrubbed and "b.co" not in scrubbed
