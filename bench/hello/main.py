"""The floor for cold start: a hello-world function served exactly as the real one is."""

from __future__ import annotations

import flask
import functions_framework


@functions_framework.http
def hello(request: flask.Request) -> str:
    """Answer 200 with a constant body."""
    return "hello"
