"""An app of the function served in-process, as functions-framework serves a deployed one.

functions-framework tests its apps with `create_app(target, source).test_client()`; so does this
tier: `client(app)` builds the framework's own Flask app from a tiny source (framework_source.py)
whose function hands every request to `app`. No process, no port: a request is a call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask
import functions_framework
from flask.testing import FlaskClient

from tests.function.unit.framework_source import MOUNTED

SOURCE = Path(__file__).with_name("framework_source.py")


def client(app: Callable[[flask.Request], flask.Response]) -> FlaskClient:
    """A Flask test client of functions-framework's app serving `app` at every path."""
    framework_app = functions_framework.create_app("mounted", str(SOURCE))
    framework_app.config[MOUNTED] = app
    return framework_app.test_client()
