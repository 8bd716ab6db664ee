"""JSON responses: the one place a typed error (`ApiError`) becomes the caller's JSON.

`{"error": {"code", "message"}}` with the error's status and headers; never cached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import flask

from .errors import ApiError

_JSON = "application/json"


def error_response(error: ApiError, headers: Mapping[str, str]) -> flask.Response:
    """The JSON response of a typed error: `{"error": {"code", "message"}}` with its status."""
    return json_response(
        error.status,
        {"error": {"code": error.code, "message": error.message}},
        {**headers, **error.headers},
    )


def json_response(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> flask.Response:
    """`body` as JSON with `status` and `headers`, never cached."""
    return flask.Response(
        json.dumps(body),
        status=status,
        mimetype=_JSON,
        headers={**headers, "Cache-Control": "no-store"},
    )
