"""The stand-in's portal pages (never Stripe's real UI): a session's page at ``/p/session/<id>``,
a configuration's login page at ``/p/login/<token>``, and ``/favicon.ico``.

A session's page is plain, server-rendered HTML: the configuration's name (or the business's),
the customer once, the business profile (headline, terms and privacy links), the enabled
features, the session's flow, the customer's subscriptions, and a link back to the return URL.
Each subscription has the actions the configuration enables, as plain forms POSTing to
``/p/session/<id>/subscriptions/<sub>/<action>``; every action goes through the stand-in's own
subscription logic (``subscriptions.update_subscription`` / ``cancel_subscription``), so it
records (and delivers) the same ``customer.subscription.*`` events the API does.

Actions: ``cancel_at_period_end`` and ``cancel_now`` (when ``subscription_cancel`` is enabled;
``cancel_now`` only when its mode is ``immediately``), ``renew`` (undo a cancellation at the
period end), ``switch_price`` (when ``subscription_update`` is enabled with ``price`` among its
``default_allowed_updates``, to a price of its ``products``).

A deep link narrows the page as Stripe's does (``flow_actions``): a ``subscription_cancel`` flow
shows only that subscription and only its cancel actions, a ``subscription_update`` flow only its
plan switch, a ``payment_method_update`` flow only a payment-method form (the stand-in keeps no
payment methods: the form says so and changes nothing). The page takes the account's branding
colours (``settings.branding``: primary for the header, links and buttons, secondary for the
background), which the local run sets from the stack file's ``branding``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from html import escape
from urllib.parse import quote, urlsplit

from local.stripe import subscriptions
from local.stripe.core.errors import StripeError
from local.stripe.core.routing import Payload, StripeApi
from local.stripe.core.store import ModeState

# (status, HTML, extra headers)
PageAnswer = tuple[int, str, dict[str, str]]

ACTIONS = ("cancel_at_period_end", "cancel_now", "renew", "switch_price")
DONE = {
    "payment_method": "Your payment method is updated (stand-in: nothing was stored).",
    "cancel_at_period_end": "Your subscription will be canceled at the end of the period.",
    "cancel_now": "Your subscription is canceled.",
    "renew": "Your subscription will renew.",
    "switch_price": "Your plan is changed.",
}

_STYLE = """
html { background: %(secondary)s; }
body { font-family: system-ui, sans-serif; margin: 2.5rem auto; max-width: 40rem;
       color: #1a1a1a; line-height: 1.45; padding: 1rem 1.25rem; background: #fff;
       border-radius: 8px; }
button { background: %(primary)s; color: #fff; border: 0; border-radius: 6px;
         padding: .4rem .8rem; font: inherit; cursor: pointer; }
.payment-method label { display: block; margin: .4rem 0; }
header { border-bottom: 4px solid %(primary)s; margin-bottom: 1.25rem; }
header p { margin: .25rem 0 .75rem; color: #555; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
@media (max-width: 480px) { body { margin: 0; border-radius: 0; } }
.subscription { border: 1px solid #ddd; border-radius: 6px; padding: .75rem 1rem;
                margin: .75rem 0; }
.subscription form { display: inline-block; margin: .5rem .5rem 0 0; }
.notice { background: #ecfdf5; border: 1px solid #10b981; padding: .5rem .75rem; }
.error { background: #fef2f2; border: 1px solid #ef4444; padding: .5rem .75rem; }
.muted { color: #666; font-size: .9rem; }
a#return-link { color: %(primary)s; font-weight: 600; }
"""


DEFAULT_PRIMARY, DEFAULT_SECONDARY = "#635bff", "#f6f9fc"


def render_page(
    title: str, body: str, primary: str = DEFAULT_PRIMARY, secondary: str = DEFAULT_SECONDARY
) -> str:
    """A whole stand-in page: `title`, the shared style in the stack's colours, `body`."""
    colours = {"primary": escape(primary), "secondary": escape(secondary)}
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{_STYLE % colours}</style>"
        f"</head><body>{body}</body></html>\n"
    )


def _date(timestamp: int | None) -> str:
    if not timestamp:
        return "—"
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%B %-d, %Y")


def _amount(price: Payload) -> str:
    amount = price.get("unit_amount")
    money = (
        f"{amount / 100:,.2f} {str(price.get('currency', '')).upper()}"
        if amount is not None
        else "custom amount"
    )
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval")
    count = recurring.get("interval_count") or 1
    if not interval:
        return money
    return f"{money} / {interval}" if count == 1 else f"{money} / {count} {interval}s"


def plan_text(state: ModeState, price: Payload) -> str:
    """A price in words: its product's name and amount (`Team · 9.00 EUR / month`)."""
    product = state.products.get(str(price.get("product")), {})
    name = product.get("name") or price.get("product") or "?"
    return f"{name} · {_amount(price)}"


# --- what the configuration allows ---------------------------------------------------------


def _cancel(configuration: Payload) -> Payload | None:
    feature = configuration["features"]["subscription_cancel"]
    return feature if feature["enabled"] else None


def switch_prices(configuration: Payload) -> list[str]:
    """The prices the configuration lets a customer switch to (none if switching is off)."""
    feature = configuration["features"]["subscription_update"]
    if not feature["enabled"] or "price" not in (feature.get("default_allowed_updates") or []):
        return []
    return [price for product in feature.get("products") or [] for price in product["prices"]]


def allowed_actions(configuration: Payload, subscription: Payload) -> list[str]:
    """The actions the page offers on ``subscription`` under ``configuration``. Pure."""
    if subscription["status"] == "canceled":
        return []
    actions = []
    cancel = _cancel(configuration)
    if subscription["cancel_at_period_end"]:
        actions.append("renew")
    elif cancel is not None:
        actions.append("cancel_at_period_end")
    if cancel is not None and cancel["mode"] == "immediately":
        actions.append("cancel_now")
    items = subscription["items"]["data"]
    if len(items) == 1 and any(p != items[0]["price"]["id"] for p in switch_prices(configuration)):
        actions.append("switch_price")
    return actions


CANCEL_ACTIONS = ("cancel_at_period_end", "cancel_now", "renew")
# What each deep link shows of a subscription: its actions, or None for the whole portal.
_FLOW_ACTIONS: dict[str, tuple[str, ...]] = {
    "subscription_cancel": CANCEL_ACTIONS,
    "subscription_update": ("switch_price",),
    "subscription_update_confirm": ("switch_price",),
    "payment_method_update": (),
}


def flow_actions(flow: Payload | None) -> tuple[str | None, tuple[str, ...] | None]:
    """What a session's deep link narrows the page to: (the one subscription it names or None,
    the actions it allows or None for all). Pure."""
    if not flow or flow.get("type") not in _FLOW_ACTIONS:
        return None, None
    detail = flow.get(flow["type"])
    subscription = detail.get("subscription") if isinstance(detail, dict) else None
    return subscription, _FLOW_ACTIONS[flow["type"]]


# --- rendering ------------------------------------------------------------------------------


def _subscription_html(
    state: ModeState, session: Payload, configuration: Payload, subscription: Payload
) -> str:
    sub_id = subscription["id"]
    items = subscription["items"]["data"]
    plans = "; ".join(
        plan_text(state, item["price"])
        + (f" × {item['quantity']}" if (item.get("quantity") or 1) != 1 else "")
        for item in items
    )
    period_end = max((item["current_period_end"] for item in items), default=None)
    if subscription["status"] == "canceled":
        status = f"canceled on {_date(subscription['ended_at'])}"
    elif subscription["cancel_at_period_end"]:
        status = f"{subscription['status']} · cancels on {_date(subscription['cancel_at'])}"
    else:
        status = f"{subscription['status']} · renews on {_date(period_end)}"
    base = f"/p/session/{quote(session['id'])}/subscriptions/{quote(sub_id)}"
    forms = []
    _, only = flow_actions(session["flow"])
    for action in allowed_actions(configuration, subscription):
        if only is not None and action not in only:
            continue
        if action == "switch_price":
            current = items[0]["price"]["id"]
            options = "".join(
                f'<option value="{escape(price_id)}">'
                f"{escape(plan_text(state, state.prices[price_id]))}</option>"
                for price_id in switch_prices(configuration)
                if price_id != current and price_id in state.prices
            )
            forms.append(
                f'<form method="post" action="{base}/switch_price">'
                f'<label>Switch to <select name="price">{options}</select></label> '
                '<button type="submit">Switch plan</button></form>'
            )
            continue
        label = {
            "cancel_at_period_end": "Cancel at end of period",
            "cancel_now": "Cancel now",
            "renew": "Don't cancel (renew)",
        }[action]
        forms.append(
            f'<form method="post" action="{base}/{action}">'
            f'<button type="submit" name="action" value="{action}">{label}</button></form>'
        )
    return (
        f'<div class="subscription" id="{escape(sub_id, quote=True)}">'
        f"<strong>{escape(plans)}</strong><br>"
        f'<span class="status">{escape(status)}</span> '
        f'<span class="muted"><code>{escape(sub_id)}</code></span>'
        f"<div>{''.join(forms)}</div></div>"
    )


def _features(configuration: Payload) -> tuple[str, str]:
    features = configuration["features"]
    enabled = [name for name, feature in features.items() if feature["enabled"]]
    cancel = _cancel(configuration)
    notes = []
    if cancel is not None:
        notes.append(f"cancel mode: {cancel['mode']}")
    switch = switch_prices(configuration)
    if switch:
        notes.append(f"plan switching among {len(switch)} prices")
    return ", ".join(enabled) or "none", "; ".join(notes)


def session_page(
    state: ModeState,
    session: Payload,
    configuration: Payload,
    account: Payload,
    *,
    done: str | None = None,
    error: str | None = None,
) -> str:
    """The page a customer lands on from a portal session URL."""
    business = (
        account["settings"]["dashboard"]["display_name"] or account["business_profile"]["name"]
    )
    branding = account["settings"]["branding"]
    primary = branding["primary_color"] or DEFAULT_PRIMARY
    secondary = branding["secondary_color"] or DEFAULT_SECONDARY
    name = configuration.get("name") or business or "Billing portal"
    profile = configuration["business_profile"]
    flow = session["flow"]
    return_url = session["return_url"]
    return_label = urlsplit(return_url).netloc
    enabled, notes = _features(configuration)
    rows = [
        ("Customer", f'<code id="customer">{escape(session["customer"])}</code>'),
        ("Configuration", f"<code>{escape(configuration['id'])}</code>"),
        ("Mode", "live" if session["livemode"] else "test"),
        ("Flow", escape(_flow_text(flow))),
        ("Enabled features", escape(enabled)),
    ]
    if notes:
        rows.append(("Settings", escape(notes)))
    links = [
        f'<a href="{escape(url, quote=True)}">{label}</a>'
        for label, url in (
            ("Terms of service", profile.get("terms_of_service_url")),
            ("Privacy policy", profile.get("privacy_policy_url")),
        )
        if url
    ]
    if links:
        rows.append(("Business", " · ".join(links)))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    owned = sorted(
        (s for s in state.subscriptions.values() if s["customer"] == session["customer"]),
        key=lambda s: (s["created"], s["id"]),
        reverse=True,
    )
    named, only = flow_actions(flow)
    if named is not None:  # a subscription deep link: that subscription alone
        owned = [s for s in owned if s["id"] == named]
    subs = "".join(_subscription_html(state, session, configuration, s) for s in owned) or (
        '<p class="muted" id="no-subscriptions">No subscriptions.</p>'
    )
    cancel = _cancel(configuration)
    offers_cancel = only is None or "cancel_now" in only
    if cancel is not None and cancel["mode"] == "immediately" and owned and offers_cancel:
        subs += (
            "<p class=\"muted\">Stripe's portal offers only this configuration's cancel mode "
            "(immediately); the stand-in also offers cancel at the end of the period, to try "
            "both in development.</p>"
        )
    message = ""
    if done in DONE:
        message = f'<p class="notice" id="done" role="status">{escape(DONE[done])}</p>'
    if error:
        message = f'<p class="error" id="error" role="alert">{escape(error)}</p>'
    if only == ():  # the payment-method deep link: its form, no subscription actions
        main = _payment_method_form(session)
    else:
        main = f'<h2>Subscriptions</h2><div id="subscriptions">{subs}</div>'
    body = (
        f"<header><h1>{escape(name)}</h1>"
        f"<p>Stripe stand-in · a development page, not Stripe's portal</p></header>"
        f'<p id="headline">{escape(profile.get("headline") or "")}</p>'
        f"{message}"
        f"<dl>{details}</dl>"
        f"{main}"
        f'<p><a id="return-link" href="{escape(return_url, quote=True)}">'
        f"Return to {escape(return_label)}</a></p>"
    )
    return render_page(f"{name} — Stripe stand-in", body, primary, secondary)


def _payment_method_form(session: Payload) -> str:
    """The payment-method deep link's form: Stripe's test cards; nothing is stored."""
    action = f"/p/session/{quote(session['id'])}/payment_method"
    cards = (("4242424242424242", "Visa ·••• 4242"), ("5555555555554444", "Mastercard ·••• 4444"))
    options = "".join(f'<option value="{number}">{label}</option>' for number, label in cards)
    return (
        '<h2>Payment method</h2><form class="payment-method" id="payment-method-form" '
        f'method="post" action="{action}">'
        f'<label>Test card <select name="card">{options}</select></label>'
        '<button type="submit">Update payment method</button></form>'
        '<p class="muted">The stand-in keeps no payment methods: this form changes nothing in '
        "it (Stripe's portal would attach the card and make it the default).</p>"
    )


def _flow_text(flow: Payload | None) -> str:
    if not flow:
        return "none (portal home)"
    detail = flow.get(flow["type"]) or {}
    subscription = detail.get("subscription") if isinstance(detail, dict) else None
    return f"{flow['type']} ({subscription})" if subscription else flow["type"]


def missing_page(what: str) -> str:
    """The 404 page for an unknown session or login link."""
    body = f"<h1>Not found</h1><p>No such {escape(what)} on this Stripe stand-in.</p>"
    return render_page("Not found — Stripe stand-in", body)


def login_page(configuration: Payload) -> str:
    """The portal login page of a configuration with ``login_page.enabled``."""
    body = (
        "<h1>Stripe stand-in portal login</h1>"
        f"<p>Configuration <code>{escape(configuration['id'])}</code>. The stand-in has no "
        "customer login; create a portal session through the API instead.</p>"
    )
    return render_page("Portal login — Stripe stand-in", body)


# --- the routes -----------------------------------------------------------------------------


def _find_session(api: StripeApi, session_id: str) -> tuple[ModeState, Payload] | None:
    for state in api.store.modes.values():  # the page has no API key: either mode
        if session_id in state.sessions:
            return state, state.sessions[session_id]
    return None


def _act(
    api: StripeApi, state: ModeState, session: Payload, sub_id: str, action: str, form: Payload
) -> None:
    """Run ``action`` on the session customer's subscription, through the API's own logic."""
    configuration = state.configurations[session["configuration"]]
    subscription = state.subscriptions.get(sub_id)
    if subscription is None or subscription["customer"] != session["customer"]:
        raise StripeError(404, f"No such subscription for this customer: '{sub_id}'")
    if action not in allowed_actions(configuration, subscription):
        raise StripeError(
            400, f"The portal configuration {configuration['id']} does not offer {action} here."
        )
    named, only = flow_actions(session["flow"])
    if (named is not None and named != sub_id) or (only is not None and action not in only):
        raise StripeError(400, f"This portal session's deep link does not offer {action} here.")
    if action == "cancel_now":
        subscriptions.cancel_subscription(api, state, {}, sub_id)
        return
    if action == "switch_price":
        price = form.get("price")
        if price not in switch_prices(configuration):
            raise StripeError(400, f"The portal does not offer the price {price!r}.")
        item = subscription["items"]["data"][0]["id"]
        params: Payload = {"items": [{"id": item, "price": price}]}
    else:
        params = {"cancel_at_period_end": action == "cancel_at_period_end"}
    subscriptions.update_subscription(api, state, params, sub_id)


def page(api: StripeApi, method: str, path: str, form: Payload) -> PageAnswer:
    """``/p/session/<id>`` (GET: the page; POST ``…/subscriptions/<sub>/<action>``: an action,
    then back to the page) and ``/p/login/<token>``; a 404 page for anything else."""
    parts = path.removeprefix("/p/").split("/")
    store = api.store
    with store.lock:
        if parts[0] == "session" and len(parts) >= 2:
            found = _find_session(api, parts[1])
            if found is None:
                return 404, missing_page("portal session"), {}
            state, session = found
            configuration = state.configurations[session["configuration"]]
            if method == "GET" and len(parts) == 2:
                html = session_page(
                    state, session, configuration, store.account, done=form.get("done")
                )
                return 200, html, {}
            if method == "POST" and len(parts) == 3 and parts[2] == "payment_method":
                if not configuration["features"]["payment_method_update"]["enabled"]:
                    html = session_page(
                        state,
                        session,
                        configuration,
                        store.account,
                        error="The portal configuration does not offer payment method updates.",
                    )
                    return 400, html, {}
                return (
                    303,
                    "",
                    {"Location": f"/p/session/{quote(session['id'])}?done=payment_method"},
                )
            if method == "POST" and len(parts) == 5 and parts[2] == "subscriptions":
                sub_id, action = parts[3], parts[4]
                try:
                    _act(api, state, session, sub_id, action, form)
                except StripeError as error:
                    html = session_page(
                        state, session, configuration, store.account, error=error.message
                    )
                    return error.status, html, {}
                page_url = f"/p/session/{quote(session['id'])}?done={quote(action)}"
                return 303, "", {"Location": page_url}
        if parts[0] == "login" and method == "GET":
            for state in store.modes.values():
                for configuration in state.configurations.values():
                    if (configuration["login_page"]["url"] or "").endswith(path):
                        return 200, login_page(configuration), {}
    return 404, missing_page("portal session" if parts[0] == "session" else "page"), {}


def favicon(api: StripeApi, method: str, path: str, form: Payload) -> PageAnswer:
    """``/favicon.ico``: nothing (a browser asks for it on every page)."""
    return 204, "", {}


Page = Callable[[StripeApi, str, str, Payload], PageAnswer]
PAGES: dict[str, Page] = {"/p/": page, "/favicon.ico": favicon}
