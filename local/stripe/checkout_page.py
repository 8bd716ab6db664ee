"""The stand-in's Checkout page (never Stripe's real UI): ``/c/pay/<cs_id>``, a session's ``url``.

An open session's page shows what is bought (product, amount, quantity, trial) and two plain
forms:

- ``#checkout-complete`` POSTs ``/c/pay/<id>/complete``: the session completes through
  ``checkout.complete`` (subscription created, ``checkout.session.completed`` recorded), then
  ``303`` to its ``success_url`` with ``{CHECKOUT_SESSION_ID}`` replaced, as Stripe redirects;
- ``#checkout-cancel`` POSTs ``/c/pay/<id>/cancel``: ``303`` to its ``cancel_url``; the session
  stays open (a customer who comes back may still pay), as on Stripe's page.

A session that is not open (complete, expired) shows ``#checkout-closed`` and no form.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from local.stripe import checkout
from local.stripe.core.errors import StripeError
from local.stripe.core.routing import Payload, StripeApi
from local.stripe.core.store import ModeState
from local.stripe.portal_page import PageAnswer, missing_page, plan_text, render_page


def session_page(state: ModeState, session: Payload, *, error: str | None = None) -> str:
    """The page a customer lands on from a Checkout Session's URL."""
    private = state.checkout_private[session["id"]]
    lines = "".join(
        f'<li class="line-item">{escape(plan_text(state, state.prices[price_id]))}'
        f' × <span class="quantity">{quantity}</span></li>'
        for price_id, quantity in private["items"]
    )
    trial = private["trial_period_days"]
    notes = []
    if trial:
        notes.append(f"{trial}-day free trial")
    if session["allow_promotion_codes"]:
        notes.append("promotion codes accepted")
    if session["automatic_tax"]["enabled"]:
        notes.append("tax calculated automatically")
    if session["billing_address_collection"] == "required":
        notes.append("billing address required")
    if (session["consent_collection"] or {}).get("terms_of_service") == "required":
        notes.append("terms of service to accept")
    base = f"/c/pay/{quote(session['id'])}"
    if session["status"] == "open":
        actions = (
            f'<form method="post" action="{base}/complete">'
            '<button id="checkout-complete" type="submit">Subscribe</button></form> '
            f'<form method="post" action="{base}/cancel">'
            '<button id="checkout-cancel" type="submit">Cancel and go back</button></form>'
        )
    else:
        actions = (
            f'<p class="notice" id="checkout-closed" role="status">This Checkout Session is '
            f"{escape(session['status'])}.</p>"
        )
    message = f'<p class="error" id="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<header><h1>Checkout</h1>"
        "<p>Stripe stand-in · a development page, not Stripe's Checkout</p></header>"
        f"{message}"
        f'<ul id="line-items">{lines}</ul>'
        f'<p class="muted" id="checkout-notes">{escape("; ".join(notes))}</p>'
        f'<p class="muted">Customer <code id="customer">{escape(session["customer"])}</code> · '
        f'session <code id="session">{escape(session["id"])}</code></p>'
        f'<div id="checkout-actions">{actions}</div>'
    )
    return render_page("Checkout — Stripe stand-in", body)


def page(api: StripeApi, method: str, path: str, form: Payload) -> PageAnswer:
    """``GET /c/pay/<id>`` (the page), ``POST /c/pay/<id>/complete`` and ``…/cancel``."""
    parts = path.removeprefix("/c/").split("/")
    store = api.store
    with store.lock:
        if parts[0] != "pay" or len(parts) not in (2, 3):
            return 404, missing_page("page"), {}
        found = checkout.find_any_mode(store, parts[1])
        if found is None:
            return 404, missing_page("Checkout Session"), {}
        state, session = found
        if method == "GET" and len(parts) == 2:
            return 200, session_page(state, session), {}
        if method == "POST" and len(parts) == 3 and parts[2] == "complete":
            try:
                checkout.complete(store, state, session["id"])
            except StripeError as error:
                return error.status, session_page(state, session, error=error.message), {}
            return 303, "", {"Location": checkout.success_url(session)}
        if method == "POST" and len(parts) == 3 and parts[2] == "cancel":
            if session["status"] != "open" or not session["cancel_url"]:
                message = "This Checkout Session cannot be canceled."
                return 400, session_page(state, session, error=message), {}
            return 303, "", {"Location": session["cancel_url"]}
    return 404, missing_page("page"), {}


PAGES = {"/c/": page}
