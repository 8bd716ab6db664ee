"""Checkout Sessions in the stand-in, through the real SDK and the page: what the function's
`POST /checkout`, its return and the local run need, checked as Stripe checks it."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

from tests.support.stripe_objects import monthly_price

SUCCESS = "http://localhost:5000/billing?tab=plan&checkout_session={CHECKOUT_SESSION_ID}"
CANCEL = "http://localhost:5000/billing?tab=plan"


def session_params(sdk: stripe.StripeClient, **changes) -> dict:
    customer = sdk.v1.customers.create(params={"email": "ann@example.com"}).id
    params = {
        "mode": "subscription",
        "customer": customer,
        "line_items": [{"price": monthly_price(sdk), "quantity": 2}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "user-1",
        "subscription_data": {"metadata": {"app_user_id": "user-1"}},
    }
    return params | changes


def test_an_open_session_has_a_page_url_and_the_parameters_it_was_given(sdk):
    params = session_params(sdk, locale="fr", allow_promotion_codes=True)
    created = sdk.v1.checkout.sessions.create(params=params)
    assert created.id.startswith("cs_test_") and created.status == "open"
    assert created.customer == params["customer"] and created.mode == "subscription"
    assert created.client_reference_id == "user-1" and created.locale == "fr"
    assert created.success_url == SUCCESS and created.cancel_url == CANCEL
    assert created.amount_total == 2 * 900 and created.currency == "eur"
    assert created.allow_promotion_codes is True and created.subscription is None
    assert created.expires_at - created.created == 24 * 3600
    assert urlsplit(created.url).path == f"/c/pay/{created.id}"
    assert sdk.v1.checkout.sessions.retrieve(created.id).to_dict() == created.to_dict()


def test_completing_on_the_page_starts_the_subscription_and_redirects_with_the_id(
    sdk, fresh_stripe_standin
):
    params = session_params(sdk, subscription_data={"metadata": {"app_user_id": "user-1"}})
    session = sdk.v1.checkout.sessions.create(params=params)
    page = requests.get(session.url, timeout=10)
    assert page.status_code == 200
    assert 'id="checkout-complete"' in page.text and 'id="checkout-cancel"' in page.text
    location = fresh_stripe_standin.complete_checkout_session(session.id)
    # The rest of the success URL's query is kept; the template is replaced by the id.
    assert parse_qs(urlsplit(location).query) == {
        "tab": ["plan"],
        "checkout_session": [session.id],
    }
    done = sdk.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete" and done.payment_status == "paid" and done.url is None
    subscription = sdk.v1.subscriptions.retrieve(done.subscription)
    assert subscription.customer == params["customer"] and subscription.status == "active"
    assert subscription.metadata.to_dict() == {"app_user_id": "user-1"}
    (item,) = subscription["items"].data
    assert item.price.id == params["line_items"][0]["price"] and item.quantity == 2
    types = [event["type"] for event in fresh_stripe_standin.events()]
    assert types[-2:] == ["customer.subscription.created", "checkout.session.completed"]
    completed = fresh_stripe_standin.events()[-1]["data"]["object"]
    assert completed["id"] == session.id and completed["subscription"] == subscription.id
    closed = requests.get(session.url.replace("/complete", ""), timeout=10)
    assert 'id="checkout-closed"' in closed.text and "checkout-complete" not in closed.text


def test_a_trial_starts_trialing_and_needs_no_payment(sdk, fresh_stripe_standin):
    params = session_params(
        sdk, subscription_data={"metadata": {"app_user_id": "u"}, "trial_period_days": 14}
    )
    session = sdk.v1.checkout.sessions.create(params=params)
    fresh_stripe_standin.complete_checkout_session(session.id)
    done = sdk.v1.checkout.sessions.retrieve(session.id)
    assert done.payment_status == "no_payment_required"
    subscription = sdk.v1.subscriptions.retrieve(done.subscription)
    assert subscription.status == "trialing"
    assert subscription.trial_end - subscription.trial_start == 14 * 86400


def test_cancel_goes_back_and_the_session_stays_open(sdk, fresh_stripe_standin):
    session = sdk.v1.checkout.sessions.create(params=session_params(sdk))
    assert fresh_stripe_standin.cancel_checkout_session(session.id) == CANCEL
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert fresh_stripe_standin.subscriptions() == []


def test_an_expired_session_cannot_be_completed_and_its_event_is_recorded(
    sdk, fresh_stripe_standin
):
    session = sdk.v1.checkout.sessions.create(params=session_params(sdk))
    expired = fresh_stripe_standin.expire_checkout_session(session.id)
    assert expired.status == "expired" and expired.url is None
    assert fresh_stripe_standin.events()[-1]["type"] == "checkout.session.expired"
    answer = requests.post(f"{fresh_stripe_standin.url}/c/pay/{session.id}/complete", timeout=10)
    assert answer.status_code == 400 and fresh_stripe_standin.subscriptions() == []
    with pytest.raises(stripe.InvalidRequestError, match="status in"):
        sdk.v1.checkout.sessions.expire(session.id)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"customer": "cus_Missing0000001"}, "customer"),
        ({"line_items": [{"price": "price_Missing00001", "quantity": 1}]}, "line_items[0][price]"),
        ({"line_items": [{"price": "PRICE", "quantity": 0}]}, "line_items[0][quantity]"),
        ({"line_items": [{"price": "PRICE"}]}, "line_items[0][quantity]"),
        ({"success_url": "not a url"}, "success_url"),
        ({"mode": "payment"}, "mode"),
        ({"subscription_data": {"trial_period_days": 731}}, "subscription_data[trial_period_days]"),
        ({"automatic_tax": {"enabled": True}}, "customer_update"),
        ({"customer_creation": "always"}, "customer_creation"),
    ],
)
def test_a_session_stripe_would_refuse_is_refused_with_the_param(sdk, change, param):
    params = session_params(sdk)
    price = params["line_items"][0]["price"]
    for item in change.get("line_items", []):
        item["price"] = item["price"].replace("PRICE", price)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.checkout.sessions.create(params={**params, **change})
    assert caught.value.param == param


def test_automatic_tax_is_accepted_when_checkout_may_save_the_address(sdk):
    params = session_params(
        sdk, automatic_tax={"enabled": True}, customer_update={"address": "auto"}
    )
    session = sdk.v1.checkout.sessions.create(params=params)
    assert session.automatic_tax.enabled is True


def test_an_idempotent_create_replays_one_session(sdk, fresh_stripe_standin):
    params = session_params(sdk)
    key = uuid.uuid4().hex
    first = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    again = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    assert first.id == again.id and len(fresh_stripe_standin.checkout_sessions()) == 1
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.checkout.sessions.create(
            params={**params, "locale": "de"}, options={"idempotency_key": key}
        )


def test_sessions_list_by_customer_and_status(sdk):
    params = session_params(sdk)
    mine = sdk.v1.checkout.sessions.create(params=params).id
    sdk.v1.checkout.sessions.create(params=session_params(sdk))
    listed = sdk.v1.checkout.sessions.list(params={"customer": params["customer"]})
    assert [s.id for s in listed.data] == [mine]
    assert sdk.v1.checkout.sessions.list(params={"status": "complete"}).data == []


def test_a_session_of_the_other_mode_is_not_found(sdk, fresh_stripe_standin):
    session = sdk.v1.checkout.sessions.create(params=session_params(sdk))
    live = fresh_stripe_standin.client(fresh_stripe_standin.live_key)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        live.v1.checkout.sessions.retrieve(session.id)
    assert caught.value.http_status == 404 and "test mode" in str(caught.value)


def test_an_unknown_page_is_a_404_page(fresh_stripe_standin):
    answer = requests.get(f"{fresh_stripe_standin.url}/c/pay/cs_test_nope", timeout=10)
    assert answer.status_code == 404 and "text/html" in answer.headers["Content-Type"]
