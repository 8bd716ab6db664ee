"""The stand-in's portal page and its command line."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser

import requests

from tests.support.processes import group_is_empty, start_process


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.by_id[attributes["id"] or ""] = {"tag": tag, **attributes}

    def handle_data(self, data):
        self.text.append(data)


def portal_session(sdk, **params):
    customer = sdk.v1.customers.create()
    configuration = sdk.v1.billing_portal.configurations.create(
        params={
            "features": {
                "invoice_history": {"enabled": True},
                "payment_method_update": {"enabled": True},
            },
            "business_profile": {"headline": "Acme billing"},
        }
    )
    session = sdk.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "configuration": configuration.id,
            "return_url": "https://app.example.test/settings?tab=billing&x=<1>",
            **params,
        }
    )
    return customer, session


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_portal_page_links_back_to_the_return_url(sdk):
    customer, session = portal_session(sdk)
    response = requests.get(session.url, timeout=10)
    page = parse(response.text)
    assert response.status_code == 200, f"GET {session.url}"
    assert (
        page.by_id["return-link"]["href"] == "https://app.example.test/settings?tab=billing&x=<1>"
    )
    assert "Return to" in response.text
    assert "Stripe stand-in" in response.text
    assert response.text.count(customer.id) == 1, "the customer id is shown once"


def test_portal_page_shows_the_headline_and_the_flow_type(sdk):
    _, session = portal_session(sdk, flow_data={"type": "payment_method_update"})
    text = "".join(parse(requests.get(session.url, timeout=10).text).text)
    assert "Acme billing" in text
    assert "payment_method_update" in text


def test_unknown_portal_session_is_a_404_page(fresh_stripe_standin):
    response = requests.get(fresh_stripe_standin.url + "/p/session/bps_unknown", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_cli_prints_its_url_and_serves_until_terminated():
    process = start_process(
        [sys.executable, "-m", "local.stripe", "--port", "0"],
        name="stripe-standin-cli",
        ready_pattern=r"listening on (http://127\.0\.0\.1:\d+)",
        timeout=20,
    )
    try:
        assert process.ready_match is not None
        url = process.ready_match[1]
        assert requests.get(url + "/_standin/health", timeout=5).json()["ok"] is True
    finally:
        status = process.stop()
    assert status == 0, process.log_text()
    assert group_is_empty(process.pid)
    assert re.search(r"listening on http://127\.0\.0\.1:\d+\n", process.log_text())


# ---- the page: business profile, features, subscriptions and their actions -----------------


def shop(sdk, *, cancel_mode="at_period_end", switching=True):
    """A customer with a monthly subscription, a configuration like the dev stack's (cancel,
    plan switching between the monthly and the yearly price) and a session; ids by name."""
    product = sdk.v1.products.create(params={"name": "Acme Team"})
    prices = {
        interval: sdk.v1.prices.create(
            params={
                "product": product.id,
                "currency": "eur",
                "unit_amount": amount,
                "recurring": {"interval": interval},
            }
        ).id
        for interval, amount in (("month", 2900), ("year", 29000))
    }
    update = {"enabled": switching}
    if switching:
        update |= {
            "default_allowed_updates": ["price"],
            "products": [{"product": product.id, "prices": list(prices.values())}],
        }
    configuration = sdk.v1.billing_portal.configurations.create(
        params={
            "name": "Acme billing portal (dev)",
            "business_profile": {
                "headline": "Acme partners with Stripe.",
                "terms_of_service_url": "https://acme.example/terms",
                "privacy_policy_url": "https://acme.example/privacy",
            },
            "features": {
                "subscription_cancel": {"enabled": True, "mode": cancel_mode},
                "subscription_update": update,
            },
        }
    )
    customer = sdk.v1.customers.create()
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": prices["month"]}]}
    )
    session = sdk.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "configuration": configuration.id,
            "return_url": "https://app.example.test/billing",
        }
    )
    return {"session": session, "subscription": subscription.id, "prices": prices}


def act(session, subscription: str, action: str, **form: str) -> requests.Response:
    url = session.url + f"/subscriptions/{subscription}/{action}"
    return requests.post(url, data=form, timeout=10, allow_redirects=False)


def event_types(standin) -> list[str]:
    return [event["type"] for event in standin.events()]


def test_the_page_is_titled_by_the_configuration_and_shows_its_business_profile(sdk):
    made = shop(sdk)
    html = requests.get(made["session"].url, timeout=10).text
    assert "<title>Acme billing portal (dev) — Stripe stand-in</title>" in html
    page = parse(html)
    assert page.by_id["headline"]["tag"] == "p"
    assert "Acme partners with Stripe." in html
    assert 'href="https://acme.example/terms"' in html
    assert 'href="https://acme.example/privacy"' in html
    assert "subscription_cancel, subscription_update" in html
    assert "Acme Team · 29.00 EUR / month" in html
    assert "renews on" in html


def test_cancel_at_period_end_and_renew_go_through_the_subscription_logic_and_emit_events(
    sdk, fresh_stripe_standin
):
    made = shop(sdk)
    answer = act(made["session"], made["subscription"], "cancel_at_period_end")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("?done=cancel_at_period_end")
    subscription = sdk.v1.subscriptions.retrieve(made["subscription"])
    assert subscription.cancel_at_period_end is True
    page = requests.get(made["session"].url + "?done=cancel_at_period_end", timeout=10).text
    assert "cancels on" in page
    assert "will be canceled at the end of the period" in page

    assert act(made["session"], made["subscription"], "renew").status_code == 303
    assert sdk.v1.subscriptions.retrieve(made["subscription"]).cancel_at_period_end is False
    assert event_types(fresh_stripe_standin) == [
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.updated",
    ]


def test_switch_price_offers_and_applies_only_the_configurations_prices(sdk):
    made = shop(sdk)
    html = requests.get(made["session"].url, timeout=10).text
    assert f'<option value="{made["prices"]["year"]}">' in html
    assert f'<option value="{made["prices"]["month"]}">' not in html, "the current price"
    answer = act(made["session"], made["subscription"], "switch_price", price="price_other")
    assert answer.status_code == 400
    assert (
        act(
            made["session"], made["subscription"], "switch_price", price=made["prices"]["year"]
        ).status_code
        == 303
    )
    item = sdk.v1.subscriptions.retrieve(made["subscription"])["items"]["data"][0]
    assert item["price"]["id"] == made["prices"]["year"]


def test_cancel_now_only_when_the_configurations_mode_is_immediately(sdk, fresh_stripe_standin):
    at_period_end = shop(sdk)
    assert "/cancel_now" not in requests.get(at_period_end["session"].url, timeout=10).text
    refused = act(at_period_end["session"], at_period_end["subscription"], "cancel_now")
    assert refused.status_code == 400

    immediately = shop(sdk, cancel_mode="immediately")
    assert act(immediately["session"], immediately["subscription"], "cancel_now").status_code == 303
    assert sdk.v1.subscriptions.retrieve(immediately["subscription"]).status == "canceled"
    assert "customer.subscription.deleted" in event_types(fresh_stripe_standin)


def test_a_disabled_feature_offers_no_action_and_refuses_it(sdk):
    made = shop(sdk, switching=False)
    assert "/switch_price" not in requests.get(made["session"].url, timeout=10).text
    answer = act(
        made["session"], made["subscription"], "switch_price", price=made["prices"]["year"]
    )
    assert answer.status_code == 400


def test_another_customers_subscription_is_not_found(sdk):
    mine, theirs = shop(sdk), shop(sdk)
    answer = act(mine["session"], theirs["subscription"], "cancel_at_period_end")
    assert answer.status_code == 404
    assert sdk.v1.subscriptions.retrieve(theirs["subscription"]).cancel_at_period_end is False


def test_favicon_is_an_empty_answer_not_an_api_error(fresh_stripe_standin):
    response = requests.get(fresh_stripe_standin.url + "/favicon.ico", timeout=10)
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Length" not in response.headers  # RFC 9110: a 204 has no content
    assert "Content-Type" not in response.headers


def test_pause_without_a_duration_gets_stripes_default_of_one_month(sdk):
    # stripe 16.1.0's create and update parameters: `duration` "Defaults to `interval_options`
    # with a single one-month option".
    configuration = sdk.v1.billing_portal.configurations.create(
        params={"features": {"subscription_pause": {"enabled": True}}}
    )
    duration = configuration.to_dict()["features"]["subscription_pause"]["duration"]
    assert duration == {
        "type": "interval_options",
        "interval_options": [{"interval": "month", "interval_count": 1}],
    }, f"configuration {configuration.id}"
