"""A functions-framework source for the in-process tier (see in_process.py): its one function
serves the app a test mounted on the framework's Flask app, as main.py's functions serve the
instance's app."""

from __future__ import annotations

import flask
import functions_framework

MOUNTED = "IN_PROCESS_APP"


@functions_framework.http
def mounted(request: flask.Request) -> flask.Response:
    """Hand the request to the mounted app (a `WebhookApp`, a `PortalApp`, …)."""
    return flask.current_app.config[MOUNTED](request)
