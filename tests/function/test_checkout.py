"""Checkout's pure decisions: the catalog, the URLs, the key, whose session it is, the gate."""

from __future__ import annotations

import json
import threading

import pytest

from billing_portal.catalog import parse_prices
from billing_portal.checkout import (
    ReturnBudget,
    SyncGate,
    check_item,
    check_session_is_callers,
    checkout_idempotency_key,
    checkout_params,
    fresh_status,
    has_subscription,
    success_url,
)
from billing_portal.errors import ApiError, BadRequest, NotFound
from billing_portal.inputs import checkout_session_id, parse_checkout_body
from billing_portal.settings import CheckoutOptions
from billing_portal.stripe_api import CheckoutSessionView

CATALOG = parse_prices("price_team:1-25,price_solo,price_seats:3-")
JSON = "application/json"


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


# --- the catalog ---------------------------------------------------------------------------


def test_a_price_on_sale_at_an_allowed_quantity_is_accepted():
    assert check_item(CATALOG, "price_team", 25) == 25
    assert check_item(CATALOG, "price_solo", 1) == 1
    assert check_item(CATALOG, "price_seats", 999_999) == 999_999


def test_no_quantity_buys_the_prices_smallest():
    assert check_item(CATALOG, "price_team", None) == 1
    assert check_item(CATALOG, "price_seats", None) == 3


@pytest.mark.parametrize(
    ("price", "quantity", "code"),
    [
        ("price_other", 1, "price_not_allowed"),
        ("price_team", 26, "invalid_quantity"),
        ("price_solo", 2, "invalid_quantity"),
        ("price_seats", 2, "invalid_quantity"),
        ("price_seats", 1_000_000, "invalid_quantity"),
    ],
)
def test_anything_else_is_refused_with_its_code(price, quantity, code):
    with pytest.raises(ApiError) as caught:
        check_item(CATALOG, price, quantity)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_an_empty_catalog_sells_nothing():
    with pytest.raises(ApiError, match="not one of the prices"):
        check_item({}, "price_team", 1)


# --- the body ------------------------------------------------------------------------------


def test_a_checkout_body_is_read():
    request = parse_checkout_body(
        JSON, body(price="price_team", quantity=3, return_url="https://a.b/c", locale="hi-IN")
    )
    assert (request.price, request.quantity, request.return_url, request.locale) == (
        "price_team",
        3,
        "https://a.b/c",
        "hi-IN",
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "invalid_request"),
        (body(quantity=1), "invalid_request"),
        (body(price=["price_team"]), "invalid_request"),
        (body(price="price_team", quantity=None, extra=1), "unknown_field"),
        (body(price="price_team", quantity=1.0), "invalid_quantity"),
        (body(price="price_team", quantity=False), "invalid_quantity"),
        (body(price="price_team", locale=["fr"]), "invalid_locale"),
        (body(price="price_team", locale="en-AU"), "invalid_locale"),  # a portal-only locale
        (body(price="price_team", return_url=""), "invalid_request"),
        (b"[" * 5000, "invalid_json"),
    ],
)
def test_a_malformed_checkout_body_is_refused(raw, code):
    with pytest.raises(ApiError) as caught:
        parse_checkout_body(JSON, raw)
    assert (caught.value.status, caught.value.code) == (400, code)


@pytest.mark.parametrize(
    "value",
    ["", "cs_", "pi_123", "cs_test_a/../b", "cs_test_a\n", "cs_test_a?x=1", "cs_" + "a" * 253],
)
def test_a_malformed_checkout_session_id_is_refused(value):
    with pytest.raises(BadRequest) as caught:
        checkout_session_id(value)
    assert caught.value.code == "invalid_checkout_session"


def test_a_checkout_session_id_is_accepted():
    assert checkout_session_id("cs_test_a1B2c3") == "cs_test_a1B2c3"


# --- the session's parameters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("return_url", "expected"),
    [
        ("https://a.b/billing", "https://a.b/billing?checkout_session={CHECKOUT_SESSION_ID}"),
        ("https://a.b/?tab=plan", "https://a.b/?tab=plan&checkout_session={CHECKOUT_SESSION_ID}"),
        ("https://a.b/x?a=1#top", "https://a.b/x?a=1&checkout_session={CHECKOUT_SESSION_ID}#top"),
        (
            "https://a.b/?checkout_session=cs_planted&checkout_session&b=2",
            "https://a.b/?b=2&checkout_session={CHECKOUT_SESSION_ID}",
        ),
        ("https://a.b/?", "https://a.b/?checkout_session={CHECKOUT_SESSION_ID}"),
        # planted under an encoded name that browsers and parse_qs decode to checkout_session
        (
            "https://a.b/?checkout%5Fsession=cs_x&%63heckout_session=cs_y&c=%5F",
            "https://a.b/?c=%5F&checkout_session={CHECKOUT_SESSION_ID}",
        ),
    ],
)
def test_the_success_url_is_the_return_url_with_the_session_id_template(return_url, expected):
    assert success_url(return_url) == expected


def test_the_parameters_carry_the_user_id_and_only_the_settings_the_stack_turned_on():
    params = checkout_params(
        uid="u1",
        customer_id="cus_1",
        price="price_team",
        quantity=3,
        return_url="https://a.b/billing",
        locale=None,
        options=CheckoutOptions(),
    )
    assert params == {
        "mode": "subscription",
        "customer": "cus_1",
        "line_items": [{"price": "price_team", "quantity": 3}],
        "success_url": "https://a.b/billing?checkout_session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://a.b/billing",
        "client_reference_id": "u1",
        "subscription_data": {"metadata": {"app_user_id": "u1"}},
        "billing_address_collection": "auto",
    }


def test_automatic_tax_lets_checkout_save_the_address_it_collects():
    params = checkout_params(
        uid="u1",
        customer_id="cus_1",
        price="price_team",
        quantity=1,
        return_url="https://a.b/",
        locale="de",
        options=CheckoutOptions(automatic_tax=True, trial_days=30, terms_consent=True),
    )
    assert params["automatic_tax"] == {"enabled": True}
    assert params["customer_update"] == {"address": "auto"}
    assert params["subscription_data"]["trial_period_days"] == 30
    assert params["consent_collection"] == {"terms_of_service": "required"}
    assert params["locale"] == "de"


# --- the idempotency key -------------------------------------------------------------------


def params_for(**changes):
    values = dict(
        uid="u1",
        customer_id="cus_1",
        price="price_team",
        quantity=1,
        return_url="https://a.b/",
        locale=None,
        options=CheckoutOptions(),
    )
    return checkout_params(**{**values, **changes})


def test_the_same_request_in_the_same_window_has_the_same_key():
    assert checkout_idempotency_key(params_for(), [], 1200.0, "test") == checkout_idempotency_key(
        params_for(), [], 1799.0, "test"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "u2"},
        {"customer_id": "cus_2"},
        {"price": "price_solo"},
        {"quantity": 2},
        {"return_url": "https://a.b/other"},
        {"locale": "fr"},
        {"options": CheckoutOptions(trial_days=7)},
    ],
)
def test_any_other_request_has_another_key(change):
    assert checkout_idempotency_key(params_for(), [], 0, "test") != checkout_idempotency_key(
        params_for(**change), [], 0, "test"
    )


def test_another_window_mode_or_used_sessions_make_another_key():
    key = checkout_idempotency_key(params_for(), [], 0, "test")
    assert checkout_idempotency_key(params_for(), [], 600, "test") != key
    assert checkout_idempotency_key(params_for(), [], 0, "live") != key
    assert checkout_idempotency_key(params_for(), ["cs_paid"], 0, "test") != key
    assert checkout_idempotency_key(params_for(), ["b", "a"], 0, "test") == (
        checkout_idempotency_key(params_for(), ["a", "b"], 0, "test")
    )


def test_the_key_shows_no_user_id_and_fits_stripes_limit():
    key = checkout_idempotency_key(params_for(uid="alice@example.com"), [], 0, "test")
    assert "alice" not in key and len(key) <= 255


# --- whose session -------------------------------------------------------------------------


def view(**changes) -> CheckoutSessionView:
    values = dict(
        id="cs_test_1",
        url=None,
        customer_id="cus_1",
        client_reference_id="u1",
        mode="subscription",
        status="complete",
    )
    return CheckoutSessionView(**{**values, **changes})


def test_the_callers_own_session_is_theirs():
    assert check_session_is_callers(view(), "cus_1", "u1") == view()


@pytest.mark.parametrize(
    "session",
    [
        None,
        view(customer_id="cus_2"),
        view(customer_id=None),
        view(client_reference_id="u2"),
        view(client_reference_id=None),
        view(mode="payment"),
    ],
)
def test_any_other_session_is_the_same_404(session):
    with pytest.raises(NotFound) as caught:
        check_session_is_callers(session, "cus_1", "u1")
    assert caught.value.code == "checkout_session_not_found"


# --- a subscription that has not ended -----------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "has"),
    [
        ([], False),
        (["canceled", "incomplete_expired"], False),
        (["canceled", "active"], True),
        (["trialing"], True),
        (["past_due"], True),
        (["unpaid"], True),
        (["incomplete"], True),
        (["paused"], True),
    ],
)
def test_only_canceled_and_incomplete_expired_have_ended(statuses, has):
    assert (
        has_subscription([{"id": f"sub_{i}", "status": s} for i, s in enumerate(statuses)]) is has
    )


# --- the return's gate ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_sync_per_user_per_interval_and_an_attempt_that_did_not_sync_holds_nothing():
    clock = Clock()
    gate = SyncGate(5.0, clock=clock)
    assert gate.lead("u1") is True
    gate.done("u1", synced=False)
    assert gate.lead("u1") is True  # the attempt did not sync
    gate.done("u1", synced=True)
    assert gate.lead("u1") is False
    assert gate.lead("u2") is True  # per user
    clock.now += 5.0
    assert gate.lead("u1") is True


def test_a_return_during_a_sync_waits_for_it():
    gate = SyncGate(5.0)
    assert gate.lead("u1") is True
    running = gate.lead("u1")
    assert isinstance(running, threading.Event) and not running.is_set()
    gate.done("u1", synced=True)
    assert running.is_set()


# --- the return's bounds ------------------------------------------------------------------


def test_a_return_budget_allows_a_few_asks_per_user_per_window():
    now = [100.0]
    budget = ReturnBudget(2, 5.0, clock=lambda: now[0])
    assert budget.take("a") == 0 and budget.take("a") == 0
    assert budget.take("a") == pytest.approx(5.0)
    assert budget.take("b") == 0  # per user
    now[0] = 104.0
    assert budget.take("a") == pytest.approx(1.0)
    now[0] = 105.0
    assert budget.take("a") == 0


@pytest.mark.parametrize(
    ("verdict", "now", "expected"),
    [
        (None, 0.0, None),
        (("complete", 0.0), 1e9, "complete"),
        (("foreign", 0.0), 1e9, "foreign"),
        (("open", 0.0), 4.9, "open"),
        (("open", 0.0), 5.0, None),
    ],
)
def test_a_remembered_session_answers_a_return_final_or_for_an_interval(verdict, now, expected):
    assert fresh_status(verdict, now, 5.0) == expected
