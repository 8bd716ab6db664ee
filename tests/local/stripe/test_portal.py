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
    assert "Stripe stand-in portal" in response.text
    assert customer.id in response.text


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
