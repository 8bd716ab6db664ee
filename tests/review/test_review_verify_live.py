"""`verify` end to end against the local parts: the two functions as real servers (configured
as the dev stack deploys them), the Firestore emulator, and the Stripe stand-in holding dev's
portal configuration, a webhook endpoint at the webhook function, and restricted keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from billing_portal.settings import WEBHOOK_ENTRY_POINT
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from stackspec.webhook_spec import WEBHOOK_EVENTS
from tests.function.conftest import FunctionServer, function_env, start_function
from tests.review.review_support import DEV_PRODUCT_IDS, REPO, create_webhook_endpoint, run

pytestmark = pytest.mark.integration

DEV = read_settings(REPO / "Pulumi.dev.yaml")
WEBHOOK_SECRET = "whsec_reviewVerifyWebhook0123456789"
# What the function needs (docs/deploy.md, "Secrets"), as the stand-in names resources.
FUNCTION_PERMISSIONS = {
    "customers": "write",
    "billing_portal": "write",
    "subscriptions": "read",
    "checkout_sessions": "write",
    "prices": "read",
    "products": "read",
    "entitlements": "read",
}
# What it needed before Checkout: such a key fails exactly the checkout probes.
PORTAL_ONLY_PERMISSIONS = {
    "customers": "write",
    "billing_portal": "write",
    "subscriptions": "read",
    "entitlements": "read",
}


def restricted_key(standin: Any, permissions: dict[str, str]) -> str:
    """A new restricted key of the stand-in with exactly these permissions."""
    key = f"rk_test_verify{uuid.uuid4().hex}"
    standin.restrict_key(key, permissions)
    return key


@pytest.fixture(scope="module")
def function_key(stripe_standin) -> str:
    """The key the functions use: restricted to what they call."""
    return restricted_key(stripe_standin, FUNCTION_PERMISSIONS)


def dev_function(standin, firestore, issuer, key: str, name: str, **overrides: Any) -> Any:
    """A function server with dev's origins and return URL (unless `overrides` change them),
    using `key`."""
    dev = {
        "STRIPE_SECRET_KEY": key,
        "ALLOWED_ORIGINS": list(DEV.allowed_origins),
        "ALLOWED_RETURN_ORIGINS": list(DEV.allowed_return_origins),
        "DEFAULT_RETURN_URL": DEV.default_return_url,
    }
    return start_function(function_env(standin, firestore, issuer, **{**dev, **overrides}), name)


@pytest.fixture(scope="module")
def functions(
    stripe_standin, firestore_emulator, dev_issuer, function_key
) -> Iterator[tuple[FunctionServer, FunctionServer]]:
    """The session function and the webhook function, as dev deploys them."""
    parts = (stripe_standin, firestore_emulator, dev_issuer, function_key)
    session = dev_function(*parts, "verify-session")
    webhook = dev_function(
        *parts,
        "verify-webhook",
        FUNCTION_TARGET=WEBHOOK_ENTRY_POINT,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    yield session, webhook
    session.process.stop()
    webhook.process.stop()
    for server in (session, webhook):
        assert function_key not in server.process.log_text(), f"key in {server.process.log_path}"


@pytest.fixture
def deployed(standin, functions) -> dict[str, Any]:
    """What `pulumi up` leaves in Stripe: dev's configuration, its webhook endpoint at the
    webhook function's URL."""
    spec = substitute(portal_spec(DEV), DEV_PRODUCT_IDS)
    configuration = standin.client().v1.billing_portal.configurations.create(params=spec)
    endpoint = create_webhook_endpoint(standin, DEV, url=functions[1].url)
    return {"configuration": configuration.id, "endpoint": endpoint["id"]}


def verify(
    standin: Any,
    functions: tuple[FunctionServer, FunctionServer],
    key: str,
    *options: str,
    function_url: str | None = None,
) -> Any:
    """`python -m review verify --stack dev --json` against the local parts."""
    session, webhook = functions
    argv = ["-C", str(REPO), "verify", "--stack", "dev", "--json"]
    argv += ["--function-url", function_url or session.url, "--webhook-url", webhook.url]
    argv += ["--product-ids", json.dumps(DEV_PRODUCT_IDS), *options]
    environ = {
        "STRIPE_API_KEY": standin.test_key,  # the drift check's key, reading the stack's objects
        "STRIPE_SECRET_KEY": key,  # the function's
        "STRIPE_API_BASE": standin.url,
    }
    return run(*argv, environ=environ)


def statuses(result: Any) -> dict[str, str]:
    """{check name (with the origin for a preflight): status} of a JSON report."""
    report = json.loads(result.out)
    seen: dict[str, str] = {}
    for check in report["checks"]:
        name = check["name"]
        if name == "function.preflight":
            name += " " + check["title"].rsplit(" ", 1)[-1]
        seen[name] = check["status"]
    return seen


def failed(result: Any) -> list[str]:
    return sorted(name for name, status in statuses(result).items() if status == "fail")


def check_of(result: Any, name: str) -> dict[str, Any]:
    return next(c for c in json.loads(result.out)["checks"] if c["name"] == name)


def test_a_correct_deployment_passes_every_check(standin, functions, deployed, function_key):
    result = verify(standin, functions, function_key)
    assert result.code == 0, result.out + result.err
    assert statuses(result) == {
        "function.preflight https://dev.app.acme-example.com": "pass",
        "function.preflight http://localhost:5173": "pass",
        "function.foreign_origin": "pass",
        "function.post_without_token": "pass",
        "function.get_without_token": "pass",
        "webhook_function.unsigned_post": "pass",
        "portal.configuration": "pass",
        "webhook_endpoint.url": "pass",
        "webhook_endpoint.enabled_events": "pass",
        "webhook_endpoint.status": "pass",
        "webhook_endpoint.api_version": "pass",
        "function_key.restricted": "pass",
        "function_key.can.retrieve_customer": "pass",
        "function_key.can.write_customer": "pass",
        "function_key.can.list_subscriptions": "pass",
        "function_key.can.retrieve_subscription": "pass",
        "function_key.can.list_active_entitlements": "pass",
        "function_key.can.create_portal_session": "pass",
        "function_key.can.create_checkout_session": "pass",
        "function_key.can.retrieve_checkout_session": "pass",
        "function_key.can.read_price": "pass",
        "function_key.can.read_product": "pass",
        "function_key.cannot.read_charges": "pass",
        "function_key.cannot.create_refund": "pass",
        "function_key.cannot.read_payouts": "pass",
        "function_key.cannot.read_webhook_endpoints": "pass",
    }


def test_the_text_report_is_one_check_mark_line_per_check(
    standin, functions, deployed, function_key
):
    result = verify(standin, functions, function_key, "--format", "text")
    assert result.code == 0, result.out + result.err
    marks = [line for line in result.out.splitlines() if line.startswith(("✓", "✗", "?"))]
    assert len(marks) == 26 and all(line.startswith("✓ ") for line in marks), result.out
    assert "✓ the webhook answers an unsigned POST with 400 invalid_signature" in marks
    assert result.out.endswith("26 passed, 0 failed, 0 could not be checked (exit 0).\n")
    assert function_key not in result.out and standin.test_key not in result.out


def test_the_probes_change_nothing_in_stripe(standin, functions, deployed, function_key):
    verify(standin, functions, function_key)
    client = standin.client()
    assert client.v1.customers.list().data == [], "a probe created a customer"
    sessions = standin.requests("/v1/billing_portal/sessions")
    assert [entry["status"] for entry in sessions] == [400], "a probe created a portal session"
    checkouts = standin.requests("/v1/checkout/sessions")  # the create, then the retrieve
    assert sorted(entry["status"] for entry in checkouts) == [400, 404], checkouts
    assert standin.checkout_sessions() == [], "a probe created a Checkout Session"


def test_the_session_probe_asks_with_the_stacks_configuration_as_the_function_does(
    standin, functions, deployed, function_key
):
    configuration = deployed["configuration"]
    result = verify(standin, functions, function_key, "--configuration-id", configuration)
    assert statuses(result)["function_key.can.create_portal_session"] == "pass", result.out
    (probe,) = standin.requests("/v1/billing_portal/sessions")
    assert probe["params"].get("configuration") == configuration, probe["params"]


def test_a_function_that_does_not_allow_the_stacks_origin_fails_the_preflight(
    standin, stripe_standin, firestore_emulator, dev_issuer, functions, deployed, function_key
):
    # Deployed with another origin list than the stack file's (a stale deployment).
    other = dev_function(
        stripe_standin,
        firestore_emulator,
        dev_issuer,
        function_key,
        "verify-other-origins",
        ALLOWED_ORIGINS=["https://elsewhere.example.com"],
        ALLOWED_RETURN_ORIGINS=["https://elsewhere.example.com"],
        DEFAULT_RETURN_URL="https://elsewhere.example.com/billing",
    )
    try:
        result = verify(standin, functions, function_key, function_url=other.url)
    finally:
        other.process.stop()
    assert result.code == 1, result.out + result.err
    assert failed(result) == [
        "function.preflight http://localhost:5173",
        "function.preflight https://dev.app.acme-example.com",
    ]
    check = check_of(result, "function.preflight")
    assert "HTTP 403" in check["seen"] and "origin_not_allowed" in check["seen"]
    assert "billing-portal:allowedOrigins" in check["fix"]


def test_a_disabled_webhook_endpoint_fails_with_how_to_enable_it(
    standin, functions, deployed, function_key
):
    standin.client().v1.webhook_endpoints.update(deployed["endpoint"], params={"disabled": True})
    result = verify(standin, functions, function_key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["webhook_endpoint.status"]
    check = check_of(result, "webhook_endpoint.status")
    assert check["seen"] == "disabled" and "-d disabled=false" in check["fix"]


def test_a_webhook_endpoint_with_an_extra_event_fails_naming_it(
    standin, functions, deployed, function_key
):
    events = [*WEBHOOK_EVENTS, "invoice.paid"]
    standin.client().v1.webhook_endpoints.update(
        deployed["endpoint"], params={"enabled_events": events}
    )
    result = verify(standin, functions, function_key, "--format", "text")
    assert result.code == 1, result.out + result.err
    assert "✗ the webhook endpoint has exactly the function's events" in result.out
    assert "fix:  not handled invoice.paid: `pulumi up --refresh`" in result.out


def test_a_webhook_endpoint_at_another_url_fails(standin, functions, deployed, function_key):
    standin.client().v1.webhook_endpoints.update(
        deployed["endpoint"], params={"url": "https://elsewhere.example.com/hook"}
    )
    result = verify(standin, functions, function_key, "--webhook-endpoint-id", deployed["endpoint"])
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["webhook_endpoint.url"]
    assert check_of(result, "webhook_endpoint.url")["seen"] == (
        f"https://elsewhere.example.com/hook, not {functions[1].url}"
    )


def test_a_drifted_portal_configuration_fails_naming_the_setting(
    standin, functions, deployed, function_key
):
    standin.client().v1.billing_portal.configurations.update(
        deployed["configuration"], params={"features": {"invoice_history": {"enabled": False}}}
    )
    result = verify(standin, functions, function_key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["portal.configuration"]
    check = check_of(result, "portal.configuration")
    assert check["seen"] == "1 setting differs: features.invoice_history.enabled"
    assert "python -m review drift --stack dev" in check["fix"]


def test_a_key_without_subscriptions_fails_the_calls_that_need_it(standin, functions, deployed):
    without = {
        name: level for name, level in FUNCTION_PERMISSIONS.items() if name != "subscriptions"
    }
    key = restricted_key(standin, without)
    result = verify(standin, functions, key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == [
        "function_key.can.list_subscriptions",
        "function_key.can.retrieve_subscription",
    ]
    check = check_of(result, "function_key.can.list_subscriptions")
    assert check["seen"].startswith("GET /v1/subscriptions: 403 ")
    assert "give it Subscriptions: Read" in check["fix"]


def test_a_key_without_checkout_sessions_prices_and_products_fails_the_checkout_calls(
    standin, functions, deployed
):
    key = restricted_key(standin, PORTAL_ONLY_PERMISSIONS)
    result = verify(standin, functions, key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == [
        "function_key.can.create_checkout_session",
        "function_key.can.read_price",
        "function_key.can.read_product",
        "function_key.can.retrieve_checkout_session",
    ]
    check = check_of(result, "function_key.can.create_checkout_session")
    assert check["seen"].startswith("POST /v1/checkout/sessions: 403 ")
    assert "give it Checkout Sessions: Write" in check["fix"]
    assert "Prices: Read" in check_of(result, "function_key.can.read_price")["fix"]


def test_a_key_without_entitlements_fails_the_entitlements_list(standin, functions, deployed):
    key = restricted_key(
        standin, {k: v for k, v in FUNCTION_PERMISSIONS.items() if k != "entitlements"}
    )
    result = verify(standin, functions, key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["function_key.can.list_active_entitlements"]
    check = check_of(result, "function_key.can.list_active_entitlements")
    assert "give it Entitlements: Read" in check["fix"]


def test_a_key_that_can_read_webhook_endpoints_fails_the_refusal(standin, functions, deployed):
    key = restricted_key(standin, {**FUNCTION_PERMISSIONS, "webhook_endpoints": "read"})
    result = verify(standin, functions, key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["function_key.cannot.read_webhook_endpoints"]
    assert (
        "set Webhook Endpoints to None"
        in check_of(result, "function_key.cannot.read_webhook_endpoints")["fix"]
    )


def test_a_full_secret_key_fails_with_use_a_restricted_key(standin, functions, deployed):
    result = verify(standin, functions, standin.test_key)
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["function_key.restricted"]
    check = check_of(result, "function_key.restricted")
    assert check["fix"].startswith("use a restricted key")
    assert standin.test_key not in result.out  # only its prefix is shown
    # A full key can do everything: the refusals are not tried one by one.
    assert not [name for name in statuses(result) if name.startswith("function_key.cannot.")]


def test_the_session_functions_url_given_as_the_webhook_fails_the_unsigned_post(
    standin, functions, deployed, function_key
):
    session, _ = functions
    result = verify(standin, (session, session), function_key)
    assert result.code == 1, result.out + result.err
    assert "webhook_function.unsigned_post" in failed(result)


def test_without_pulumi_and_without_flags_or_keys_it_could_not_check_exit_2():
    result = run(
        "-C", str(REPO), "verify", "--stack", "dev", "--json", environ={"PATH": "/nonexistent"}
    )
    assert result.code == 2, result.out + result.err
    report = json.loads(result.out)
    assert {c["status"] for c in report["checks"]} == {"unknown"}
    assert [c["name"] for c in report["checks"]] == [
        "function",
        "webhook_function",
        "portal.configuration",
        "webhook_endpoint",
        "function_key",
    ]
    assert "pulumi CLI is not installed" in report["checks"][0]["seen"]
    assert "--function-url" in report["checks"][0]["fix"]


def test_against_make_run_only_what_a_deployment_adds_fails():
    """`python -m local.run` (what `make run` starts) with the stack's origins: the functions,
    the portal and the key's calls pass; the webhook endpoint (the local run forwards events as
    `stripe listen` does) and a restricted key (it uses the stand-in's full test key) are what
    only a deployment has."""
    from tests.browser.browser_support import running_local_run

    origins = [arg for origin in DEV.allowed_origins for arg in ("--app-origin", origin)]
    with running_local_run("verify-local-run", "--stack", "dev", *origins) as local:
        result = run(
            "-C", str(REPO), "verify", "--stack", "dev", "--json",
            "--function-url", local.url("function"), "--webhook-url", local.url("webhook"),
            environ={
                "STRIPE_API_KEY": local.standin().test_key,
                "STRIPE_SECRET_KEY": local.standin().test_key,  # the local run's function key
                "STRIPE_API_BASE": local.url("stripe", "").rstrip("/"),
            },
        )  # fmt: skip
    assert result.code == 1, result.out + result.err
    assert failed(result) == ["function_key.restricted", "webhook_endpoint.endpoint"]
    assert "pulumi up --refresh" in check_of(result, "webhook_endpoint.endpoint")["fix"]
