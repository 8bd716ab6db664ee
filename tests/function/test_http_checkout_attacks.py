"""A second engineer's attacks on the checkout path, over real HTTP (issue 21's review).

The real function server, the real Firestore emulator and the Stripe stand-in, whose request log
says what reached Stripe. Each attack asks how a browser, Python and Stripe could read the same
input differently; each test is the attack, kept as a regression test. The helpers and the
module's catalog are test_http_checkout.py's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.function.conftest import APP_ORIGIN, assert_no_secrets_logged, customers_of
from tests.function.test_http_checkout import (
    checkout,
    returned,
    started,
    stripe_requests,
    stripe_writes,
    subscribed,
)
from tests.support.stripe_objects import monthly_price

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(stripe_standin) -> dict[str, str]:
    """As test_http_checkout.py's: `team` (quantity 1–25), `solo` (1), and `unsold`."""
    client = stripe_standin.client()
    return {
        "team": monthly_price(client, 2900),
        "solo": monthly_price(client, 900),
        "unsold": monthly_price(client, 100),
    }


@pytest.fixture(scope="module")
def server(function_factory, catalog):
    """A session function told the stack's checkout catalog."""
    return function_factory(
        "checkout-attacks", CHECKOUT_PRICES=f"{catalog['team']}:1-25,{catalog['solo']}"
    )


def raw_checkout(
    server, issuer, uid: str, body: bytes, path: str = "checkout"
) -> requests.Response:
    headers = {"Authorization": f"Bearer {issuer.mint(uid)}", "Content-Type": "application/json"}
    return server.session.post(server.url + path, data=body, headers=headers, timeout=30)


def sent_success_url(standin, customer_id: str) -> list[str]:
    return [
        r["params"]["success_url"]
        for r in standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("customer") == customer_id
    ]


# --- the body: one reading for validation and use ------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        ("true", "invalid_quantity"),
        ("1.0", "invalid_quantity"),
        ("1e3", "invalid_quantity"),
        ("-1", "invalid_quantity"),
        ("0", "invalid_quantity"),
        ('"1"', "invalid_quantity"),
        ("[1]", "invalid_quantity"),
        ("NaN", "invalid_quantity"),
        ("Infinity", "invalid_quantity"),
        (str(2**63), "invalid_quantity"),
        ("1" + "0" * 4000, "invalid_quantity"),
    ],
)
def test_a_quantity_of_any_other_json_type_or_size_is_400_and_stripe_is_never_asked(
    server, dev_issuer, stripe_standin, catalog, new_uid, quantity, code
):
    before = stripe_requests(stripe_standin)
    body = f'{{"price": "{catalog["team"]}", "quantity": {quantity}}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == code
    assert stripe_requests(stripe_standin) == before


@pytest.mark.parametrize(
    "price",
    [" {team}", "{team} ", "{team}\u0000", "{team_upper}", "\uff50rice_x", "{team}\u200b"],
)
def test_a_price_id_that_only_looks_like_a_sold_one_is_400(
    server, dev_issuer, stripe_standin, catalog, new_uid, price
):
    price = price.format(team=catalog["team"], team_upper=catalog["team"].upper())
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": price})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] in ("invalid_request", "price_not_allowed")
    assert stripe_requests(stripe_standin) == before


@pytest.mark.parametrize("price", ["[{team}]", '["{team}", "{solo}"]', "{{}}", "null", "1"])
def test_a_price_that_is_not_a_string_is_400(
    server, dev_issuer, stripe_standin, catalog, new_uid, price
):
    price = price.format(team=catalog["team"], solo=catalog["solo"])
    quoted = price if not price.startswith("price_") else f'"{price}"'
    before = stripe_requests(stripe_standin)
    answer = raw_checkout(server, dev_issuer, new_uid, f'{{"price": {quoted}}}'.encode())
    assert answer.status_code == 400, answer.text
    assert stripe_requests(stripe_standin) == before


def test_duplicate_keys_are_read_once_the_same_way_by_validation_and_use(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    # the last of duplicate keys wins (Python's json) for both the check and the session
    unsold_last = f'{{"price": "{catalog["team"]}", "price": "{catalog["unsold"]}"}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, unsold_last)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "price_not_allowed"
    too_many_last = f'{{"price": "{catalog["team"]}", "quantity": 2, "quantity": 26}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, too_many_last)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_quantity"
    assert customers_of(stripe_standin, new_uid) == []
    sold_last = (
        f'{{"price": "{catalog["unsold"]}", "quantity": 26, '
        f'"price": "{catalog["team"]}", "quantity": 3}}'
    ).encode()
    answer = raw_checkout(server, dev_issuer, new_uid, sold_last)
    assert answer.status_code == 200, answer.text
    (customer,) = customers_of(stripe_standin, new_uid)
    (sent,) = [
        r["params"]
        for r in stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("customer") == customer["id"]
    ]
    assert sent["line_items"] == {"0": {"price": catalog["team"], "quantity": "3"}}


@pytest.mark.parametrize("locale", ["EN", " en", "en\n", "en-US", "fr_CA", "auto\u0000", ""])
def test_a_locale_stripe_might_read_differently_is_400(
    server, dev_issuer, stripe_standin, catalog, new_uid, locale
):
    before = stripe_requests(stripe_standin)
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"], "locale": locale})
    assert answer.status_code == 400, answer.text
    assert stripe_requests(stripe_standin) == before


def test_a_body_over_the_limit_is_413_json_before_any_stripe_call(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    before = stripe_requests(stripe_standin)
    padding = "x" * (16 * 1024)
    body = f'{{"price": "{catalog["team"]}", "locale": "{padding}"}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, body)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"]
    assert stripe_requests(stripe_standin) == before


# --- the return URL: the session id Stripe sends back is the only one ----------------------


@pytest.mark.parametrize(
    "planted",
    [
        "checkout%5Fsession=cs_test_planted",
        "checkout%5fsession=cs_test_planted",
        "%63heckout_session=cs_test_planted",
        "checkout_session=cs_test_planted",
        "checkout_session",
    ],
)
def test_a_planted_checkout_session_in_the_return_url_never_reaches_the_success_url(
    server, dev_issuer, stripe_standin, catalog, new_uid, planted
):
    """A browser's URLSearchParams and Python's parse_qs decode the parameter's name: whatever
    spelling the caller planted, the success URL Stripe returns to carries one checkout_session,
    Stripe's placeholder."""
    return_url = f"{APP_ORIGIN}/account?{planted}&tab=plan#top"
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], return_url=return_url)
    (customer,) = customers_of(stripe_standin, new_uid)
    (success,) = sent_success_url(stripe_standin, customer["id"])
    query = parse_qs(urlsplit(success).query, keep_blank_values=True)
    assert query["checkout_session"] == ["{CHECKOUT_SESSION_ID}"], success
    assert query["tab"] == ["plan"] and urlsplit(success).fragment == "top"


@pytest.mark.parametrize(
    "return_url",
    [
        "javascript:alert(1)//" + APP_ORIGIN,
        f"{APP_ORIGIN}@evil.example/",
        f"https://evil.example\\@{APP_ORIGIN[8:]}/",
        f"{APP_ORIGIN}:8443/",
        f"{APP_ORIGIN}%2F@evil.example/",
        f"{APP_ORIGIN}.evil.example/",
        "https://app.exampl\u0435.test/",
        f"HTTPS://{APP_ORIGIN[8:].upper()}\t/",
        f"//{APP_ORIGIN[8:]}/",
        f"{APP_ORIGIN}/\r\nLocation: https://evil.example",
    ],
)
def test_return_url_allowlist_bypasses_are_400(
    server, dev_issuer, stripe_standin, catalog, new_uid, return_url
):
    before = stripe_requests(stripe_standin)
    answer = checkout(
        server, dev_issuer, new_uid, {"price": catalog["team"], "return_url": return_url}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "return_url_not_allowed"
    assert stripe_requests(stripe_standin) == before


def test_a_return_url_with_the_placeholder_elsewhere_only_echoes_the_callers_own_session(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    """Braces pass the plain-URL rule; Stripe fills `{CHECKOUT_SESSION_ID}` wherever it is in
    the success URL, always with this session's own id: the query still carries exactly one
    `checkout_session`, and the cancel URL is the return URL as given."""
    return_url = f"{APP_ORIGIN}/done/{{CHECKOUT_SESSION_ID}}?next=%7BCHECKOUT_SESSION_ID%7D"
    body = {"price": catalog["team"], "return_url": return_url}
    answer = checkout(server, dev_issuer, new_uid, body)
    assert answer.status_code == 200, answer.text
    (customer,) = customers_of(stripe_standin, new_uid)
    (success,) = sent_success_url(stripe_standin, customer["id"])
    assert parse_qs(urlsplit(success).query)["checkout_session"] == ["{CHECKOUT_SESSION_ID}"]
    assert success.startswith(return_url + "&")


# --- routes and methods --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["checkout/", "CHECKOUT", "checkout%2F", "checkout;x", "checkout%00"]
)
def test_path_variants_of_checkout_never_open_a_session_or_make_a_customer(
    server, dev_issuer, stripe_standin, catalog, new_uid, path
):
    writes = stripe_writes(stripe_standin)
    body = f'{{"price": "{catalog["team"]}"}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, body, path=path)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["code"]
    assert stripe_writes(stripe_standin) == writes
    assert customers_of(stripe_standin, new_uid) == []


@pytest.mark.parametrize("path", ["/checkout", "%2Fcheckout", "checkout?x=1"])
def test_path_spellings_the_server_reads_as_checkout_are_the_checkout_with_all_its_checks(
    server, dev_issuer, stripe_standin, catalog, new_uid, path
):
    """`//checkout` and `/%2Fcheckout` reach the route as `/checkout` (the server decodes and
    merges): the same route, so the same catalog check — never a way around it."""
    unsold = f'{{"price": "{catalog["unsold"]}"}}'.encode()
    refused = raw_checkout(server, dev_issuer, new_uid, unsold, path=path)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "price_not_allowed"
    sold = f'{{"price": "{catalog["team"]}"}}'.encode()
    answer = raw_checkout(server, dev_issuer, new_uid, sold, path=path)
    assert answer.status_code == 200, answer.text
    assert len(customers_of(stripe_standin, new_uid)) == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_on_checkout_and_plans_are_405_json(server, dev_issuer, new_uid, method):
    token = {"Authorization": f"Bearer {dev_issuer.mint(new_uid)}"}
    for path in ("checkout", "plans"):
        answer = server.session.request(method, server.url + path, headers=token, timeout=30)
        assert answer.status_code == 405, answer.text
        assert answer.json()["error"]["code"]
    posted = server.session.post(server.url + "plans", headers=token, timeout=30)
    assert posted.status_code == 405 and posted.headers["Allow"] == "GET, OPTIONS"


@pytest.mark.parametrize("path", ["checkout", "plans"])
def test_preflight_allows_only_the_apps_origin(server, path):
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    good = requests.options(server.url + path, headers={"Origin": APP_ORIGIN, **asked}, timeout=30)
    assert good.status_code == 204
    assert good.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    evil = requests.options(
        server.url + path, headers={"Origin": "https://evil.example", **asked}, timeout=30
    )
    assert "Access-Control-Allow-Origin" not in evil.headers
    null = requests.options(server.url + path, headers={"Origin": "null", **asked}, timeout=30)
    assert "Access-Control-Allow-Origin" not in null.headers


# --- idempotency: one session per request, never Stripe's key error ------------------------


def test_every_changed_detail_is_a_new_session_and_never_an_idempotency_error(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    variants: list[dict[str, Any]] = [
        {"price": catalog["team"]},
        {"price": catalog["team"], "quantity": 1},  # the default spelled out: the same request
        {"price": catalog["team"], "quantity": 2},
        {"price": catalog["team"], "locale": "de"},
        {"price": catalog["team"], "return_url": f"{APP_ORIGIN}/other"},
        {"price": catalog["solo"]},
    ]
    ids = []
    for body in variants:
        answer = checkout(server, dev_issuer, new_uid, body)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["id"])
    assert ids[0] == ids[1]
    assert len(set(ids)) == len(variants) - 1
    (customer,) = customers_of(stripe_standin, new_uid)
    keys = [
        r["idempotency_key"]
        for r in stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("customer") == customer["id"]
    ]
    assert all(
        r["status"] == 200
        for r in stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("customer") == customer["id"]
    )
    assert len(set(keys)) == len(variants) - 1


def test_two_users_with_the_same_request_get_their_own_sessions(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    body = {"price": catalog["team"], "quantity": 2}
    mine = checkout(server, dev_issuer, new_uid, body).json()
    theirs = checkout(server, dev_issuer, "o-" + new_uid, body).json()
    assert mine["id"] != theirs["id"]
    (me,) = customers_of(stripe_standin, new_uid)
    (them,) = customers_of(stripe_standin, "o-" + new_uid)
    sessions = {s["id"]: s["customer"] for s in stripe_standin.checkout_sessions()}
    assert sessions[mine["id"]] == me["id"] and sessions[theirs["id"]] == them["id"]


# --- the return: only the caller's own session, bounded Stripe calls -----------------------


def test_a_live_mode_session_id_with_a_test_key_is_404_not_500(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    answer = returned(server, dev_issuer, new_uid, "checkout_session=cs_live_a1B2c3D4e5F6g7H8")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "checkout_session_not_found"


@pytest.mark.parametrize("which", ["foreign", "open", "complete"])
def test_hammering_the_return_costs_a_bounded_number_of_stripe_calls(
    server, dev_issuer, stripe_standin, catalog, new_uid, which
):
    """A reloaded return page, or a script, cannot make the function call Stripe per request:
    within the sync interval one user's returns cost at most a few Stripe requests."""
    if which == "foreign":
        session_id = subscribed(server, dev_issuer, stripe_standin, "v-" + new_uid, catalog["team"])
        assert server.post(dev_issuer.mint(new_uid)).status_code == 200  # the attacker's customer
    elif which == "open":
        session_id = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])["id"]
    else:
        session_id = subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    before = stripe_requests(stripe_standin)
    for _ in range(20):
        answer = returned(server, dev_issuer, new_uid, f"checkout_session={session_id}")
        assert answer.status_code in (200, 404), answer.text
    spent = stripe_requests(stripe_standin) - before
    assert spent <= 6, f"20 returns of one user cost {spent} Stripe requests"


def test_nothing_the_checkout_path_handles_is_logged_in_clear(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    token = dev_issuer.mint(new_uid)
    headers = {"Authorization": f"Bearer {token}"}
    answer = server.session.post(
        server.url + "checkout", json={"price": catalog["team"]}, headers=headers, timeout=30
    )
    assert answer.status_code == 200
    session_id = answer.json()["id"]
    server.session.get(f"{server.url}?checkout_session={session_id}", headers=headers, timeout=30)
    assert_no_secrets_logged(server, [token])
    text = server.process.log_text()
    (sent,) = [
        r
        for r in stripe_standin.requests(path_prefix="/v1/checkout/sessions", method="POST")
        if r["params"].get("client_reference_id") == new_uid
    ]
    assert sent["idempotency_key"] not in text, "the idempotency key is logged"
    assert "Traceback" not in text


def test_a_spray_of_made_up_session_ids_is_429_past_a_few_stripe_calls(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    started(server, dev_issuer, stripe_standin, new_uid, catalog["team"])  # a customer
    before = stripe_requests(stripe_standin)
    answers = [
        returned(server, dev_issuer, new_uid, f"checkout_session=cs_test_madeUp{i:04d}")
        for i in range(12)
    ]
    codes = [a.status_code for a in answers]
    assert set(codes) <= {404, 429} and 429 in codes, codes
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    spent = stripe_requests(stripe_standin) - before
    # at most 3 lookups a window, each the session's retrieve beside the sync's first read (the
    # subscriptions and the active entitlements lists), which runs before the session is known
    assert spent <= 3 * 3, f"12 made-up sessions cost {spent} Stripe requests"
    # another user is not held back by this one's spray
    other = returned(server, dev_issuer, "o-" + new_uid, "checkout_session=cs_test_madeUp0000")
    assert other.status_code == 404, other.text


# --- never a second subscription, even while the state is stale ----------------------------


def test_a_second_checkout_after_paying_before_the_state_knows_is_409(
    server, dev_issuer, stripe_standin, catalog, new_uid, firestore_db
):
    """Tab 1 pays for `team`; before any event or return reaches the function, tab 2 starts a
    checkout for `solo`. The state says "no subscription" (the first checkout wrote it), but
    Stripe has one: a second session would be a second subscription."""
    subscribed(server, dev_issuer, stripe_standin, new_uid, catalog["team"])
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["solo"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "already_subscribed"


def test_an_earlier_tabs_session_paid_after_a_later_one_opened_is_still_409(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    first = started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=2)
    started(server, dev_issuer, stripe_standin, new_uid, catalog["solo"])  # tab 2, left open
    stripe_standin.complete_checkout_session(first["id"])  # tab 1 pays
    answer = checkout(server, dev_issuer, new_uid, {"price": catalog["team"], "quantity": 3})
    assert answer.status_code == 409, answer.text


def test_a_returning_user_with_open_sessions_still_gets_a_new_one(
    server, dev_issuer, stripe_standin, catalog, new_uid
):
    ids = {
        started(server, dev_issuer, stripe_standin, new_uid, catalog["team"], quantity=q)["id"]
        for q in (1, 2, 3, 4, 5)
    }
    assert len(ids) == 5


# --- /plans: only what the stack sells, whatever the request says ---------------------------


def test_plans_answer_only_the_catalog_whatever_the_query_headers_or_path(
    server, stripe_standin, catalog
):
    sold = {catalog["team"], catalog["solo"]}
    tries = [
        ("plans", {}),
        (f"plans?price={catalog['unsold']}", {}),
        (f"plans?prices={catalog['unsold']}&expand[]=product", {"Origin": "https://evil.example"}),
        ("plans", {"Accept-Language": "de", "X-Forwarded-Host": "evil.example"}),
    ]
    for path, headers in tries:
        answer = requests.get(server.url + path, headers=headers, timeout=30)
        assert answer.status_code in (200, 403), answer.text
        if answer.status_code == 200:
            assert {p["price"] for p in answer.json()["plans"]} == sold, path
        assert answer.headers.get("Access-Control-Allow-Origin") != "https://evil.example"
    # and the cache holds the catalog afterwards
    final = requests.get(server.url + "plans", timeout=30).json()["plans"]
    assert {p["price"] for p in final} == sold
    assert all(set(p) >= {"price", "unit_amount", "currency", "quantity"} for p in final)
