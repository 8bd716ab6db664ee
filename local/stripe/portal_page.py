"""The stand-in's own portal page, served at a session's URL (never Stripe's real UI)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 36rem; color: #1a1a1a; }
header { border-bottom: 4px solid %(primary)s; margin-bottom: 1.5rem; }
dt { font-weight: 600; } dd { margin: 0 0 .75rem 0; }
a#return-link { color: %(primary)s; }
"""


def _page(title: str, body: str, primary: str = "#635bff") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE % {'primary': escape(primary)}}</style>"
        f"</head><body>{body}</body></html>\n"
    )


def session_page(
    session: dict[str, Any], configuration: dict[str, Any], account: dict[str, Any]
) -> str:
    """The page a customer lands on from a portal session URL."""
    business = (
        account["settings"]["dashboard"]["display_name"] or account["business_profile"]["name"]
    )
    primary = account["settings"]["branding"]["primary_color"] or "#635bff"
    headline = configuration["business_profile"]["headline"]
    flow = session["flow"]
    enabled = [name for name, feature in configuration["features"].items() if feature["enabled"]]
    return_url = session["return_url"]
    return_label = business or urlsplit(return_url).netloc
    rows = [
        ("Customer", session["customer"]),
        ("Configuration", configuration["id"]),
        ("Mode", "live" if session["livemode"] else "test"),
        ("Flow", flow["type"] if flow else "none (portal home)"),
        ("Enabled features", ", ".join(enabled) or "none"),
    ]
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
    body = (
        f"<header><h1>Stripe stand-in portal</h1><p>{escape(business or '')}</p></header>"
        f'<p id="headline">{escape(headline or "")}</p>'
        f'<p>Billing portal for customer <code id="customer">{escape(session["customer"])}</code>'
        "</p>"
        f"<dl>{details}</dl>"
        f'<p><a id="return-link" href="{escape(return_url, quote=True)}">'
        f"Return to {escape(return_label)}</a></p>"
    )
    return _page("Stripe stand-in portal", body, primary)


def missing_page(what: str) -> str:
    """The 404 page for an unknown session or login link."""
    body = f"<h1>Not found</h1><p>No such {escape(what)} on this Stripe stand-in.</p>"
    return _page("Not found", body)


def login_page(configuration: dict[str, Any]) -> str:
    """The portal login page of a configuration with ``login_page.enabled``."""
    body = (
        "<h1>Stripe stand-in portal login</h1>"
        f"<p>Configuration <code>{escape(configuration['id'])}</code>. The stand-in has no "
        "customer login; create a portal session through the API instead.</p>"
    )
    return _page("Stripe stand-in portal login", body)
