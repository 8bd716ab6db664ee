"""CORS decisions: which browser origins may call the function. Pure functions, no I/O."""

from __future__ import annotations

from .errors import Forbidden

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "3600"


def cors_headers(origin: str | None, allowed_origins: frozenset[str]) -> dict[str, str]:
    """Headers for a response to `origin`; raise `Forbidden` for an origin not on the list.

    Requests without an `Origin` header (servers, curl) are not browser cross-origin calls and
    get no CORS headers; the bearer token still authenticates them. The origin must be byte-equal
    to an allowed one, as a browser serializes it (lower-case scheme and host, no default port,
    no trailing slash; the settings store the allowed origins that way): anything else did not
    come from a browser on an allowed origin, and echoing it would grant an origin not listed.
    """
    headers = {"Vary": "Origin"}
    if origin is None:
        return headers
    if origin not in allowed_origins:
        raise Forbidden(
            "This origin may not call the billing portal endpoint; add it to ALLOWED_ORIGINS.",
            code="origin_not_allowed",
        )
    headers["Access-Control-Allow-Origin"] = origin
    return headers


def preflight_headers(origin: str | None, allowed_origins: frozenset[str]) -> dict[str, str]:
    """Headers answering an `OPTIONS` preflight from an allowed origin."""
    if origin is None:
        raise Forbidden("A preflight request needs an Origin header.", code="origin_not_allowed")
    headers = cors_headers(origin, allowed_origins)
    headers.update(
        {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
    )
    return headers
