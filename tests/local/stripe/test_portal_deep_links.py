"""The stand-in's portal page honours a session's deep link and the account's branding colours
(issue 23 item 7): a payment-method link shows the payment-method form and no subscription
actions; a cancel link shows only that subscription and only its cancel actions."""

from __future__ import annotations

import requests

from tests.local.stripe.test_portal import act, parse, portal_session, shop


def deep_link(sdk, made, flow_data):
    """A new session of `made`'s customer and configuration, with `flow_data`."""
    old = made["session"]
    return sdk.v1.billing_portal.sessions.create(
        params={
            "customer": old.customer,
            "configuration": old.configuration,
            "return_url": "https://app.example.test/billing",
            "flow_data": flow_data,
        }
    )


def test_the_payment_method_deep_link_shows_the_form_and_no_subscription_actions(sdk):
    _, session = portal_session(sdk, flow_data={"type": "payment_method_update"})
    html = requests.get(session.url, timeout=10).text
    page = parse(html)
    assert page.by_id["payment-method-form"]["tag"] == "form"
    assert "Visa ·••• 4242" in html
    assert "/cancel_at_period_end" not in html and "/switch_price" not in html
    done = requests.post(
        session.url + "/payment_method",
        data={"card": "4242424242424242"},
        timeout=10,
        allow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith("?done=payment_method")
    assert (
        "nothing was stored" in requests.get(session.url + "?done=payment_method", timeout=10).text
    )


def test_the_home_page_has_no_payment_method_form(sdk):
    made = shop(sdk)
    assert "payment-method-form" not in requests.get(made["session"].url, timeout=10).text


def test_the_cancel_deep_link_shows_only_that_subscription_and_only_cancelling(sdk):
    made = shop(sdk, cancel_mode="immediately")
    other = sdk.v1.subscriptions.create(
        params={"customer": made["session"].customer, "items": [{"price": made["prices"]["year"]}]}
    )
    session = deep_link(
        sdk,
        made,
        {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": made["subscription"]},
        },
    )
    html = requests.get(session.url, timeout=10).text
    assert made["subscription"] in html
    assert other.id not in html, "another subscription on a cancel deep link"
    assert "/cancel_at_period_end" in html and "/cancel_now" in html
    assert "/switch_price" not in html, "plan switching on a cancel deep link"
    # the session's deep link also bounds what it may do
    assert (
        act(session, made["subscription"], "switch_price", price=made["prices"]["year"]).status_code
        == 400
    )
    assert act(session, other.id, "cancel_now").status_code == 400
    assert act(session, made["subscription"], "cancel_now").status_code == 303


def test_the_update_deep_link_offers_only_the_plan_switch(sdk):
    made = shop(sdk)
    session = deep_link(
        sdk,
        made,
        {
            "type": "subscription_update",
            "subscription_update": {"subscription": made["subscription"]},
        },
    )
    html = requests.get(session.url, timeout=10).text
    assert "/switch_price" in html
    assert "/cancel_at_period_end" not in html


def test_the_page_takes_the_accounts_branding_colours(sdk, fresh_stripe_standin):
    fresh_stripe_standin.set_branding(primary_color="#B45309", secondary_color="#FFF7ED")
    made = shop(sdk)
    html = requests.get(made["session"].url, timeout=10).text
    assert "html { background: #FFF7ED; }" in html
    assert "background: #B45309; color: #fff" in html  # the buttons
    assert "border-bottom: 4px solid #B45309" in html  # the header
