"""Cloud Function entry points of the one source: `create_portal_session` and `stripe_webhook`.

Each is deployed as its own function (gen2, HTTP); Cloud Functions names the one an instance
serves in `FUNCTION_TARGET`, and the instance builds only that app, by its row in
`billing_portal.entry_points.ENTRY_POINTS`. Settings are read and validated here, at cold start:
a misconfigured instance stops with a message naming the variable instead of answering requests
wrongly.
"""

from __future__ import annotations

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from billing_portal import logs
from billing_portal.app import finish_request_body, framework_error_response
from billing_portal.entry_points import build_instance
from billing_portal.errors import NotFound
from billing_portal.responses import error_response
from billing_portal.settings import SESSION_ENTRY_POINT, WEBHOOK_ENTRY_POINT, SettingsError

try:
    _instance = build_instance()
except SettingsError as error:
    logs.emit({"severity": "CRITICAL", "message": f"Invalid configuration: {error}"})
    raise SystemExit(f"billing-portal: invalid configuration: {error}") from None

if flask.has_app_context():  # loaded by functions-framework: its own error pages become JSON too
    flask.current_app.register_error_handler(HTTPException, framework_error_response)

# After loading this module the framework registers its `read_request` on the app, by that name:
# it reads every request body to its end, however large, into memory. The bounded one instead.
functions_framework.read_request = finish_request_body

# Open what the first request uses in the process that serves it: functions-framework's gunicorn
# worker, forked from this process after the port listens (nothing is opened here, at import).
if _instance.warm_up is not None:
    _instance.warm_up.start_after_fork()


def _serve(target: str, request: flask.Request) -> flask.Response:
    """The instance's app answers the entry point it was built for; any other, a JSON 404."""
    if target != _instance.target:
        return error_response(
            NotFound("This instance serves the other entry point (FUNCTION_TARGET)."), {}
        )
    return _instance.app(request)


@functions_framework.http
def create_portal_session(request: flask.Request) -> flask.Response:
    """POST with `Authorization: Bearer <ID token>` → `{"url": <portal session URL>}`;
    GET → `{"subscriptions": [...]}`, the caller's billing state."""
    return _serve(SESSION_ENTRY_POINT, request)


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    """A Stripe event, signed (`Stripe-Signature`) → the user's billing state written → 200."""
    return _serve(WEBHOOK_ENTRY_POINT, request)
