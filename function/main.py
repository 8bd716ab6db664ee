"""Cloud Function entry point: `create_portal_session` (gen2, HTTP).

Settings are read and validated here, at cold start: a misconfigured instance stops with a
message naming the variable instead of answering requests wrongly.
"""

from __future__ import annotations

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from billing_portal import logs
from billing_portal.app import build_app, framework_error_response
from billing_portal.settings import SettingsError

try:
    _app = build_app()
except SettingsError as error:
    logs.emit({"severity": "CRITICAL", "message": f"Invalid configuration: {error}"})
    raise SystemExit(f"billing-portal: invalid configuration: {error}") from None

if flask.has_app_context():  # loaded by functions-framework: its own error pages become JSON too
    flask.current_app.register_error_handler(HTTPException, framework_error_response)

# Open what the first request uses in the process that serves it: functions-framework's gunicorn
# worker, forked from this process after the port listens (nothing is opened here, at import).
_app.boot.start_after_fork()


@functions_framework.http
def create_portal_session(request: flask.Request) -> flask.Response:
    """POST with `Authorization: Bearer <ID token>` → `{"url": <portal session URL>}`."""
    return _app(request)
