"""Log lines: Cloud Logging fields, and nothing secret."""

from __future__ import annotations

import io
import json

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
