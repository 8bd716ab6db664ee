"""Structured logs in Cloud Logging's JSON format: one line per request, to stdout.

Only what an operator needs: severity, status, latency, error code, trace. Never a key, a token
or an email; the user is logged as a short hash so one user's requests can be correlated.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
import traceback
from typing import Any, TextIO

_lock = threading.Lock()
# Defence in depth: whatever reaches a log line (an exception message included) is scrubbed of
# anything shaped like a Stripe key, a webhook signing secret, a JWT or an email address.
# Linear in the line's length, whatever it holds (a log line can carry caller-chosen text, e.g. a
# signed event's id): a JWT or an email is only looked for where a run of the characters it is
# made of begins (the lookbehinds), and runs are taken whole (`++`, `*+`), so no character is
# re-read from every position of a long run, as `[…]+@` did (0.05 s for 8,000 letters, minutes
# for 512 KiB). An email's domain is taken to the end of its run.
_SECRETS = re.compile(
    r"(?:sk|rk|pk)_(?:test|live)_[0-9A-Za-z]++"
    r"|whsec_[0-9A-Za-z_]++"
    r"|(?<![0-9A-Za-z_-])eyJ[0-9A-Za-z_-]*+\.[0-9A-Za-z_-]*+\.[0-9A-Za-z_-]*+"
    r"|(?<![0-9A-Za-z._%+-])[0-9A-Za-z._%+-]++@[0-9A-Za-z.-]+\.[A-Za-z]{2,}[0-9A-Za-z.-]*+"
)


def scrub(text: str) -> str:
    """`text` with key-, token- and email-shaped substrings replaced by `[redacted]`."""
    return _SECRETS.sub("[redacted]", text)


def user_ref(uid: str) -> str:
    """A short, stable, non-reversible reference to a user for logs."""
    return hashlib.sha256(uid.encode()).hexdigest()[:16]


def trace_field(header: str | None, project: str | None) -> dict[str, str]:
    """Cloud Logging's trace fields from an `X-Cloud-Trace-Context: TRACE/SPAN;o=1` header."""
    if not header or not project:
        return {}
    trace, _, rest = header.partition("/")
    if not trace.isalnum() or len(trace) > 64:
        return {}
    fields = {"logging.googleapis.com/trace": f"projects/{project}/traces/{trace}"}
    span = rest.split(";")[0]
    if span.isdigit():
        fields["logging.googleapis.com/spanId"] = span
    return fields


def request_entry(
    request: Any,
    status: int,
    seconds: float,
    what: str,
    project: str | None,
    fields: dict[str, Any],
    severity: str | None = None,
) -> dict[str, Any]:
    """The one line logged per request, in Cloud Logging's shape: severity by status (unless
    given), `httpRequest`, the caller's `fields`, the trace of `X-Cloud-Trace-Context`."""
    level = severity or ("ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO")
    return {
        "severity": level,
        "message": f"{request.method} {what} {status}",
        "httpRequest": {
            "requestMethod": request.method,
            "status": status,
            "latency": f"{seconds:.6f}s",
            "userAgent": (request.headers.get("User-Agent") or "")[:200],
        },
        **fields,
        **trace_field(request.headers.get("X-Cloud-Trace-Context"), project),
    }


def emit(entry: dict[str, Any], stream: TextIO | None = None) -> None:
    """Write one JSON log line (atomically, so concurrent requests never interleave)."""
    line = scrub(json.dumps(entry, separators=(",", ":"), default=str))
    out = stream or sys.stdout
    with _lock:
        out.write(line + "\n")
        out.flush()


def emit_exception(message: str, error: BaseException, **fields: Any) -> None:
    """Log an unexpected error with its stack trace (for Error Reporting), never to the caller."""
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    emit({"severity": "ERROR", "message": f"{message}\n{stack}", **fields})
