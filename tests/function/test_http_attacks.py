"""A hostile caller's attacks on the hardened function, over real HTTP (review of branch h11).

Each test is one attack and names it. The ones that fail on the reviewed code are findings
(see the commit message); the last few are attacks that held, kept as regression tests.
"""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.process import ServerProcessError
from tests.function.conftest import (
    APP_ORIGIN,
    assert_no_secrets_logged,
    customers_of,
    function_env,
    start_function,
)
from tests.support.stripe_objects import subscribe

pytestmark = pytest.mark.integration


def session_creates(standin) -> int:
    return len(standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST"))


def own_subscription(server, issuer, standin, uid: str) -> dict:
    """Give `uid` a customer (through the function) and a subscription (straight in Stripe)."""
    assert server.post(issuer.mint(uid)).status_code == 200
    customer = customers_of(standin, uid)[0]["id"]
    return subscribe(standin.client(), customer)


# --- finding: a non-string locale crashes the handler ----------------------------------------


@pytest.mark.parametrize("locale", [["en"], {"en": 1}])
def test_a_locale_that_is_a_json_array_or_object_is_400_not_a_500(
    function_server, dev_issuer, new_uid, locale
):
    # `value not in LOCALES` on a frozenset hashes the value: a list or dict raises TypeError.
    response = function_server.post(dev_issuer.mint(new_uid), {"locale": locale})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_locale"


# --- finding: the depth check is fooled by a UTF-16 body -------------------------------------


def test_deep_nesting_hidden_from_the_depth_check_by_a_utf16_body_is_400_not_a_500(
    function_server, dev_issuer, new_uid
):
    # json.loads accepts UTF-16 bytes; the byte-level depth scan does not. U+2200 is the bytes
    # 00 22 in UTF-16-LE: the scan takes its 0x22 for a closing quote, so the real closing quote
    # opens a "string" that hides the 3000 brackets after it, and json.loads recurses past the
    # interpreter's limit (RecursionError, not ValueError).
    text = '["\u2200",' + "[" * 3000 + '"x"' + "]" * 3001
    body = text.encode("utf-16-le")
    assert len(body) < 16 * 1024
    response = function_server.post(dev_issuer.mint(new_uid), body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json"


# --- finding: the caller picks the retention coupon ------------------------------------------


def test_a_caller_cannot_grant_themselves_any_coupon_through_a_cancel_deep_link(
    function_server, dev_issuer, stripe_standin, new_uid
):
    # A cancel deep link's retention offer applies the coupon to the subscription when the
    # customer accepts it. The function passes whatever coupon id the (hostile) caller names,
    # e.g. a 100%-off-forever coupon meant for staff: the caller can discount their own plan.
    subscription = own_subscription(function_server, dev_issuer, stripe_standin, new_uid)
    before = session_creates(stripe_standin)
    flow = {
        "type": "subscription_cancel",
        "subscription": subscription["id"],
        "coupon": "STAFF_100_OFF_FOREVER",
    }
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 400, response.text
    assert session_creates(stripe_standin) == before, "a session with the caller's coupon was made"


def test_a_coupon_the_deployment_offers_is_passed_to_the_cancel_flow(
    function_factory, dev_issuer, stripe_standin, new_uid
):
    server = function_factory("coupons", RETENTION_COUPONS="WINBACK20,LOYAL10")
    subscription = own_subscription(server, dev_issuer, stripe_standin, new_uid)
    flow = {"type": "subscription_cancel", "subscription": subscription["id"], "coupon": "LOYAL10"}
    response = server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 200, response.text
    (sent,) = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")[-1:]
    assert "LOYAL10" in str(sent), sent
    other = {**flow, "coupon": "STAFF_100_OFF_FOREVER"}
    refused = server.post(dev_issuer.mint(new_uid), {"flow": other})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "coupon_not_allowed"


# --- finding: a trailing newline passes the Stripe id check ---------------------------------


def test_a_subscription_id_with_a_trailing_newline_is_refused_as_invalid_flow(
    function_server, dev_issuer, stripe_standin, new_uid
):
    # `^[A-Za-z0-9_]{1,255}$` with re.match: `$` also matches before a final "\n", so
    # "sub_…\n" passes the documented "Stripe id" rule and travels to Stripe as is.
    subscription = own_subscription(function_server, dev_issuer, stripe_standin, new_uid)
    flow = {"type": "subscription_update", "subscription": subscription["id"] + "\n"}
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_flow"


# --- finding: a failing key server is hit by every request -----------------------------------


class _FailingKeyServer:
    """A JWKS URL that always answers 503, counting the fetches."""

    def __init__(self) -> None:
        owner = self
        self.fetches = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/jwks"

    def __enter__(self) -> _FailingKeyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()


def test_a_key_server_that_is_down_is_not_fetched_once_per_request(
    stripe_standin, firestore_emulator, dev_issuer
):
    # With no keys cached (a cold instance while the issuer's key server is down), every request
    # refetches the JWKS under the lock: N requests = N fetches, each up to 5 s, serialised.
    # The promise is at most one fetch per interval (30–60 s) whatever the callers do.
    with _FailingKeyServer() as keys:
        env = function_env(stripe_standin, firestore_emulator, dev_issuer, AUTH_JWKS_URL=keys.url)
        server = start_function(env, "jwks-down")
        try:
            time.sleep(0.5)  # let the boot-time prefetch happen
            for index in range(8):
                response = server.post(dev_issuer.mint(f"jwks-down-{index}"))
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "auth_keys_unavailable"
            assert keys.fetches <= 2, f"{keys.fetches} key fetches for 8 requests"
        finally:
            server.process.stop()
        assert_no_secrets_logged(server, dev_issuer.minted_tokens())


# --- finding: "127." as a prefix is not loopback ---------------------------------------------


def test_plain_http_on_a_dns_name_starting_with_127_is_not_accepted_as_loopback(
    stripe_standin, firestore_emulator, dev_issuer, new_uid
):
    # is_local_host() is `host.startswith("127.")`, so http://127.attacker.example (a DNS name
    # anyone can point anywhere) counts as loopback: a stack may allow it as a return origin
    # (infra accepts it outside production too) and the portal then returns over plain http.
    env = function_env(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        ALLOWED_RETURN_ORIGINS=f"{APP_ORIGIN},http://127.attacker.example",
    )
    try:
        server = start_function(env, "http-127-name")
    except ServerProcessError:
        return  # refused at start: the rule holds
    try:
        response = server.post(
            dev_issuer.mint(new_uid), {"return_url": "http://127.attacker.example/steal"}
        )
        assert response.status_code == 400, (
            "the function started with, and accepted, plain http on a non-loopback host: "
            + response.text
        )
    finally:
        server.process.stop()


# --- attacks that held (regression tests) ----------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    ["null", "https://app.example.test.evil.test", "https://evil.test/https://app.example.test"],
)
def test_held_a_lookalike_or_null_origin_is_403(function_server, dev_issuer, new_uid, origin):
    response = function_server.post(dev_issuer.mint(new_uid), headers={"Origin": origin})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_held_a_user_id_differing_only_by_case_gets_a_customer_of_its_own(
    function_server, dev_issuer, stripe_standin, new_uid
):
    lower, upper = f"case-{new_uid}", f"CASE-{new_uid}".upper()
    assert function_server.post(dev_issuer.mint(lower)).status_code == 200
    assert function_server.post(dev_issuer.mint(upper)).status_code == 200
    ours = customers_of(stripe_standin, lower)
    theirs = customers_of(stripe_standin, upper)
    assert len(ours) == 1 and len(theirs) == 1 and ours[0]["id"] != theirs[0]["id"]


def test_held_an_item_of_another_users_subscription_in_an_update_confirm_is_404(
    function_server, dev_issuer, stripe_standin, new_uid
):
    victim = own_subscription(function_server, dev_issuer, stripe_standin, "v-" + new_uid)
    before = session_creates(stripe_standin)
    flow = {
        "type": "subscription_update_confirm",
        "subscription": victim["id"],
        "items": [{"id": victim["items"]["data"][0]["id"], "quantity": 0}],
    }
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    response = function_server.post(dev_issuer.mint(new_uid), {"flow": flow})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "subscription_not_found"
    assert session_creates(stripe_standin) == before + 1  # only the attacker's own plain session


# --- finding (issue 19): quadratic CPU in the body pre-scan ---------------------------------


def test_the_issue_19_body_of_escaped_quotes_is_refused_as_invalid_json(
    function_server, dev_issuer, new_uid
):
    # `"` followed by `\"` 8,000 times: 16,001 bytes that the old regex pre-scan re-read from
    # every quote (about 1.1 s of CPU per request). The scan's work is counted in
    # tests/function/test_json_scan.py; here: the same JSON 400 as any other invalid body.
    body = b'"' + b'\\"' * 8000
    assert len(body) <= 16 * 1024
    response = function_server.post(dev_issuer.mint(new_uid), body)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "invalid_json"


# --- finding (issue 19): CORS echoed an origin that only looked like an allowed one ----------


@pytest.mark.parametrize(
    "origin",
    [APP_ORIGIN + "/", APP_ORIGIN.upper(), APP_ORIGIN.replace("app.", "App."), APP_ORIGIN + ":443"],
)
def test_an_origin_differing_from_an_allowed_one_by_a_slash_or_case_is_403_and_not_echoed(
    function_server, dev_issuer, new_uid, origin
):
    response = function_server.post(dev_issuer.mint(new_uid), headers={"Origin": origin})
    assert response.status_code == 403, (origin, response.status_code)
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers, origin
    preflight = function_server.session.options(
        function_server.url,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [b"[" * 3000 + b"]" * 3000, b'{"a":' * 1000 + b"1" + b"}" * 1000, b'"' + b'\\"' * 2900],
    ids=["deep-array", "deep-object", "escaped-quotes"],
)
def test_held_a_token_whose_header_is_deep_or_hostile_json_is_401_before_any_key_lookup(
    function_server, new_uid, header
):
    # The token is read before it is verified: its header is base64url JSON that PyJWT parses
    # (a RecursionError inside is its DecodeError), within MAX_TOKEN_LENGTH (8192).
    token = f"{_b64(header)}.{_b64(b'{}')}.{_b64(b'sig')}"
    assert len(token) <= 8192
    response = function_server.post(token)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_token"
