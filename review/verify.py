"""`verify`: is a deployed stack working, end to end, without a user token? The decisions.

Pure: `review.verify_live` asks the function, the webhook function and Stripe, and hands each
answer here; this module decides, check by check, whether it is what a working deployment
answers, and says what to do when it is not:

- the function answers each allowed origin's CORS preflight, and refuses a foreign origin's;
- without a token, `POST` and `GET` are `401` with the documented JSON error body;
- the webhook function answers an unsigned `POST` with `400 invalid_signature`;
- the live portal configuration is the stack's (`review.drift`, the drift check itself);
- the webhook endpoint is enabled, points at the webhook function, has exactly its events
  (`review.webhook_drift`);
- the function's Stripe key can make each call the function makes and cannot make calls it must
  not (restricted-key permissions), each tried with a request that changes nothing.

Every check is one of: passed, failed (the deployment is wrong: exit 1), or could not be checked
(something verify needed was missing or refused: exit 2, as `drift`'s errors).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from review.drift import Drift
from review.rows import ABSENT
from review.webhook_drift import REPAIR, WebhookDrift

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
MARKS = {PASS: "✓", FAIL: "✗", UNKNOWN: "?"}
OK, FAILED, NOT_CHECKED = 0, 1, 2  # the exit codes, as review's: 0 fine, 1 found, 2 error

# An origin no stack allows (`.invalid` is reserved: it can never be a real site).
FOREIGN_ORIGIN = "https://verify-foreign-origin.invalid"
PREFLIGHT_METHODS = ("POST", "GET")
PREFLIGHT_HEADERS = ("authorization", "content-type")
# Ids of the harmless probes: the same form as Stripe's, but no object can have them.
NO_CUSTOMER = "cus_reviewVerifyNoSuchCustomer"
NO_SUBSCRIPTION = "sub_reviewVerifyNoSuchSubscription"
NO_CHARGE = "ch_reviewVerifyNoSuchCharge"
NO_CHECKOUT_SESSION = "cs_reviewVerifyNoSuchCheckoutSession"
NO_PRICE = "price_reviewVerifyNoSuchPrice"
NO_PRODUCT = "prod_reviewVerifyNoSuchProduct"
# What the function's restricted key needs (docs/deploy.md, "Secrets").
FUNCTION_KEY_PERMISSIONS = (
    "Customers: Write, Customer portal: Write, Subscriptions: Read, Checkout Sessions: Write, "
    "Prices: Read, Products: Read"
)
KEY_FIX = (
    "in the Stripe Dashboard (Developers → API keys → the function's restricted key → Edit), "
    "{change}; or create a restricted key with exactly "
    + FUNCTION_KEY_PERMISSIONS
    + ", then `pulumi config set --secret stripeSecretKey rk_…` and `pulumi up`"
)


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str  # stable, for programs: function.preflight, webhook_endpoint.status, …
    title: str  # what a working deployment does, in words
    status: str  # PASS | FAIL | UNKNOWN
    seen: str = ""  # what verify saw instead ('' when it passed)
    fix: str = ""  # what to do ('' when it passed)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as verify saw it; `error` instead when there was none (network)."""

    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    error: str = ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json_error(self) -> dict[str, Any] | None:
        """The `error` object of a JSON error body (the function's and Stripe's), else None."""
        if "json" not in self.header("content-type"):
            return None
        try:
            document = json.loads(self.body)
        except ValueError:
            return None
        error = document.get("error") if isinstance(document, dict) else None
        return error if isinstance(error, dict) else None

    def describe(self) -> str:
        """`HTTP 403, text/html: <first words of the body>` — or the network error."""
        if self.error:
            return f"no answer: {self.error}"
        text = " ".join(self.body.decode("utf-8", "replace").split())
        kind = self.header("content-type").split(";")[0] or "no content type"
        return f"HTTP {self.status}, {kind}" + (f": {text[:160]}" if text else "")


def _check(name: str, title: str, problem: str, fix: str) -> Check:
    """Passed when there is no `problem`; failed with it and the fix otherwise."""
    if not problem:
        return Check(name, title, PASS)
    return Check(name, title, FAIL, problem, fix)


def _not_reached(answer: Answer, what: str) -> str:
    return (
        f"check that {what} is deployed and the URL is right (`pulumi stack output "
        f"{'webhookUrl' if 'webhook' in what else 'functionUrl'}`)"
        if answer.error
        else ""
    )


def _refused_by_google(answer: Answer) -> bool:
    """A 401/403 that is not the function's JSON: Cloud Run refused the call before it ran."""
    return answer.status in (401, 403) and answer.json_error() is None


PUBLIC_FIX = (
    "Cloud Run refused the call before the function ran: the function needs `allUsers` as "
    "invoker (`publicInvoker: true` for the session function; always for the webhook). If "
    "`pulumi up` set it and it is gone, the organisation's domain-restricted sharing policy "
    'removed or refused it: docs/deploy.md, "The function is public, on purpose"'
)


# ---------------------------------------------------------------------- the session function


def preflight(origin: str, answer: Answer) -> Check:
    """The function allows the stack's origin: a 2xx preflight naming it, the methods and the
    headers the frontend sends."""
    title = f"the function answers the CORS preflight from the stack's origin {origin}"
    name = "function.preflight"
    if answer.error:
        return _check(name, title, answer.describe(), _not_reached(answer, "the function"))
    problems = []
    if not 200 <= answer.status < 300:
        problems.append(f"HTTP {answer.status}")
    allowed = answer.header("access-control-allow-origin")
    if allowed != origin:
        problems.append(f"Access-Control-Allow-Origin is {allowed or 'missing'}")
    methods = {m.strip().upper() for m in answer.header("access-control-allow-methods").split(",")}
    missing = [method for method in PREFLIGHT_METHODS if method not in methods]
    if missing:
        problems.append(f"methods without {', '.join(missing)}")
    headers = {h.strip().lower() for h in answer.header("access-control-allow-headers").split(",")}
    missing = [header for header in PREFLIGHT_HEADERS if header not in headers]
    if missing:
        problems.append(f"headers without {', '.join(missing)}")
    if not problems:
        return Check(name, title, PASS)
    if _refused_by_google(answer):
        return Check(name, title, FAIL, answer.describe(), PUBLIC_FIX)
    error = answer.json_error() or {}
    fix = (
        f"the deployed function does not allow {origin}: check `billing-portal:allowedOrigins` "
        "in the stack file has it, then `pulumi up` (the function reads ALLOWED_ORIGINS at start)"
        if error.get("code") == "origin_not_allowed" or allowed != origin
        else "the preflight answer is not the function's: is the URL the function's?"
    )
    return Check(name, title, FAIL, "; ".join(problems) + f" ({answer.describe()})", fix)


def foreign_preflight(answer: Answer) -> Check:
    """The function does not allow an origin the stack does not list."""
    title = f"the function refuses the CORS preflight from a foreign origin ({FOREIGN_ORIGIN})"
    name = "function.foreign_origin"
    if answer.error:
        return _check(name, title, answer.describe(), _not_reached(answer, "the function"))
    allowed = answer.header("access-control-allow-origin")
    if allowed not in (FOREIGN_ORIGIN, "*"):
        return Check(name, title, PASS)
    return Check(
        name,
        title,
        FAIL,
        f"Access-Control-Allow-Origin: {allowed}",
        "any web page could call the function with its users' tokens: the deployed function "
        "is not this project's (it refuses origins not in ALLOWED_ORIGINS); redeploy with "
        "`pulumi up`",
    )


def unauthenticated(method: str, answer: Answer) -> Check:
    """Without a token, the function answers 401 with its JSON error body."""
    title = f"{method} without a token is 401 with the JSON error body (invalid_token)"
    name = f"function.{method.lower()}_without_token"
    if answer.error:
        return _check(name, title, answer.describe(), _not_reached(answer, "the function"))
    error = answer.json_error()
    if (
        answer.status == 401
        and error is not None
        and error.get("code") == "invalid_token"
        and isinstance(error.get("message"), str)
    ):
        return Check(name, title, PASS)
    if _refused_by_google(answer):
        return Check(name, title, FAIL, answer.describe(), PUBLIC_FIX)
    return Check(
        name,
        title,
        FAIL,
        answer.describe(),
        'the answer is not the function\'s 401 `{"error": {"code": "invalid_token", …}}`: '
        "check the function's logs (Cloud Run → the service → Logs) for a startup error",
    )


# ---------------------------------------------------------------------- the webhook function


def unsigned_webhook(answer: Answer) -> Check:
    """The webhook refuses an unsigned POST: 400 invalid_signature, nothing read or written."""
    title = "the webhook answers an unsigned POST with 400 invalid_signature"
    name = "webhook_function.unsigned_post"
    if answer.error:
        return _check(name, title, answer.describe(), _not_reached(answer, "the webhook"))
    error = answer.json_error()
    if answer.status == 400 and error is not None and error.get("code") == "invalid_signature":
        return Check(name, title, PASS)
    if _refused_by_google(answer):
        return Check(name, title, FAIL, answer.describe(), PUBLIC_FIX)
    return Check(
        name,
        title,
        FAIL,
        answer.describe(),
        "the answer is not the webhook function's: check the URL (`pulumi stack output "
        "webhookUrl`) and the function's logs for a startup error (STRIPE_WEBHOOK_SECRET)",
    )


# ---------------------------------------------------------------------- Stripe


def portal(stack: str, drift: Drift) -> Check:
    """The live portal configuration is the stack's: the drift check finds nothing."""
    title = f"the live portal configuration {drift.configuration_id} is the stack's"
    name = "portal.configuration"
    if not drift.findings:
        return Check(name, title, PASS)
    settings = [finding.setting for finding in drift.findings]
    shown = ", ".join(settings[:5]) + (
        f" and {len(settings) - 5} more" if len(settings) > 5 else ""
    )
    return Check(
        name,
        title,
        FAIL,
        f"{len(settings)} setting{'s differ' if len(settings) != 1 else ' differs'}: {shown}",
        f"`python -m review drift --stack {stack}` shows each; `pulumi up --refresh` restores "
        "the declared values",
    )


WEBHOOK_TITLES = {
    "webhook.endpoint": "the stack has a Stripe webhook endpoint",
    "webhook.url": "the webhook endpoint points at the webhook function",
    "webhook.enabled_events": "the webhook endpoint has exactly the function's events",
    "webhook.status": "the webhook endpoint is enabled",
    "webhook.api_version": "the webhook endpoint speaks the function's API version",
}


def webhook_endpoint(webhook: WebhookDrift) -> list[Check]:
    """One line per field of the endpoint `review.webhook_drift` compares."""
    checks = []
    for check in webhook.checks:
        name = "webhook_endpoint." + check.setting.removeprefix("webhook.")
        title = WEBHOOK_TITLES.get(check.setting, check.setting)
        if webhook.endpoint_id:
            title += f" ({webhook.endpoint_id})"
        if check.matches:
            checks.append(Check(name, title, PASS))
        else:
            seen = _shown(check.live)
            if check.setting == "webhook.url":
                seen += f", not {check.declared}"
            checks.append(Check(name, title, FAIL, seen, check.fix or REPAIR))
    return checks


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return "none" if value is None or value is ABSENT else str(value)


def not_checked(name: str, title: str, reason: str, fix: str) -> Check:
    """A check verify could not make (a key or a value was missing, Stripe refused to answer)."""
    return Check(name, title, UNKNOWN, reason, fix)


@dataclass(frozen=True)
class Probe:
    """A request that tells whether the key has a permission and changes nothing either way."""

    name: str
    does: str  # what the function does with it / what it must not be able to do
    method: str
    path: str
    params: Mapping[str, str]
    permission: str  # as the Dashboard names it
    needed: bool  # True: the function makes this call; False: the key must be refused


def probes(return_url: str, configuration_id: str | None = None) -> tuple[Probe, ...]:
    """The function's calls (each allowed answer is a list or `resource_missing`: nothing is
    created, read or changed), then calls it must not be able to make.

    The portal session is asked for as the function asks: with the stack's configuration
    (`configuration_id`, its PORTAL_CONFIGURATION_ID). Without one Stripe would use the account's
    Dashboard default, which a new account has not saved ("No configuration provided and your
    test mode default configuration has not been created")."""
    session = {"customer": NO_CUSTOMER, "return_url": return_url}
    if configuration_id:
        session["configuration"] = configuration_id
    # As `POST /checkout` asks, for a customer no account has: Stripe answers resource_missing.
    checkout = {
        "mode": "subscription",
        "customer": NO_CUSTOMER,
        "line_items[0][price]": NO_PRICE,
        "line_items[0][quantity]": "1",
        "success_url": return_url,
        "cancel_url": return_url,
    }
    return (
        Probe("retrieve_customer", "retrieve a customer", "GET",
              f"/v1/customers/{NO_CUSTOMER}", {}, "Customers: Read", True),
        Probe("write_customer", "create customers and set their email", "POST",
              f"/v1/customers/{NO_CUSTOMER}", {}, "Customers: Write", True),
        Probe("list_subscriptions", "list a customer's subscriptions", "GET",
              "/v1/subscriptions", {"customer": NO_CUSTOMER, "status": "all", "limit": "1"},
              "Subscriptions: Read", True),
        Probe("retrieve_subscription", "retrieve a subscription", "GET",
              f"/v1/subscriptions/{NO_SUBSCRIPTION}", {}, "Subscriptions: Read", True),
        Probe("list_active_entitlements", "list a customer's active entitlements", "GET",
              "/v1/entitlements/active_entitlements", {"customer": NO_CUSTOMER, "limit": "1"},
              "Entitlements: Read", True),
        Probe("create_portal_session", "create portal sessions", "POST",
              "/v1/billing_portal/sessions", session, "Customer portal: Write", True),
        Probe("create_checkout_session", "create Checkout Sessions", "POST",
              "/v1/checkout/sessions", checkout, "Checkout Sessions: Write", True),
        Probe("retrieve_checkout_session", "retrieve a Checkout Session", "GET",
              f"/v1/checkout/sessions/{NO_CHECKOUT_SESSION}", {}, "Checkout Sessions: Read",
              True),
        Probe("read_price", "read the checkout prices (GET /plans)", "GET",
              f"/v1/prices/{NO_PRICE}", {}, "Prices: Read", True),
        Probe("read_product", "read the checkout prices' products (GET /plans)", "GET",
              f"/v1/products/{NO_PRODUCT}", {}, "Products: Read", True),
        Probe("read_charges", "read charges (payments)", "GET", "/v1/charges",
              {"limit": "1"}, "Charges", False),
        Probe("create_refund", "create refunds", "POST", "/v1/refunds",
              {"charge": NO_CHARGE}, "Refunds", False),
        Probe("read_payouts", "read payouts", "GET", "/v1/payouts", {"limit": "1"},
              "Payouts", False),
        Probe("read_webhook_endpoints", "read webhook endpoints", "GET",
              "/v1/webhook_endpoints", {"limit": "1"}, "Webhook Endpoints", False),
    )  # fmt: skip


def key_kind(key: str) -> Check:
    """The function's key is a restricted key: a leaked full key can do anything."""
    title = "the function's Stripe key is a restricted key (rk_…)"
    if key.startswith("rk_"):
        return Check("function_key.restricted", title, PASS)
    return Check(
        "function_key.restricted",
        title,
        FAIL,
        f"a full secret key ({key[:8]}…): it can do everything in the account",
        "use a restricted key: Stripe Dashboard → Developers → API keys → Create restricted key "
        f"with {FUNCTION_KEY_PERMISSIONS}; then "
        "`pulumi config set --secret stripeSecretKey rk_…` and `pulumi up`",
    )


def probe_result(probe: Probe, answer: Answer) -> Check:
    """What the answer to a probe says about the key."""
    if probe.needed:
        title = f"the function's key can {probe.does} ({probe.permission})"
    else:
        title = f"the function's key cannot {probe.does} ({probe.permission})"
    name = f"function_key.{'can' if probe.needed else 'cannot'}.{probe.name}"
    request = f"{probe.method} {probe.path}"
    if answer.error or answer.status >= 500 or answer.status == 429:
        return not_checked(
            name, title, f"{request}: {answer.describe()}", "Stripe did not answer: run it again"
        )
    error = answer.json_error() or {}
    if answer.status == 401:
        return Check(
            name,
            title,
            FAIL if probe.needed else UNKNOWN,
            f"{request}: Stripe refused the key: {error.get('message', answer.describe())}",
            "the function's key is not valid (revoked, or another account's): set a valid one "
            "with `pulumi config set --secret stripeSecretKey rk_…` and `pulumi up`",
        )
    refused = answer.status == 403
    if probe.needed:
        if refused:
            change = f"give it {probe.permission}"
            return Check(
                name, title, FAIL, f"{request}: 403 {error.get('message', '')}".strip(),
                KEY_FIX.format(change=change),
            )  # fmt: skip
        if 200 <= answer.status < 300 or error.get("code") == "resource_missing":
            return Check(name, title, PASS)
        return not_checked(
            name, title, f"{request}: {answer.describe()}",
            "an answer verify does not know: try the call by hand with the key",
        )  # fmt: skip
    if refused:
        return Check(name, title, PASS)
    return Check(
        name, title, FAIL,
        f"{request}: HTTP {answer.status} (not refused: the key has {probe.permission})",
        KEY_FIX.format(change=f"set {probe.permission} to None"),
    )  # fmt: skip


# ---------------------------------------------------------------------- the outcome


def exit_code(checks: Iterable[Check]) -> int:
    """1 when any check failed; else 2 when any could not be made; else 0."""
    statuses = {check.status for check in checks}
    if FAIL in statuses:
        return FAILED
    return NOT_CHECKED if UNKNOWN in statuses else OK


def text_report(stack: str, checks: list[Check]) -> str:
    """One line per check, ✓/✗/?, each ✗ and ? followed by what was seen and the fix."""
    lines = [f"Verify `{stack}`:", ""]
    for check in checks:
        lines.append(f"{MARKS[check.status]} {check.title}")
        if check.status != PASS:
            lines.append(f"    seen: {check.seen}")
            lines.append(f"    fix:  {check.fix}")
    counts = {status: sum(1 for c in checks if c.status == status) for status in MARKS}
    lines += [
        "",
        f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[UNKNOWN]} could not be checked "
        f"(exit {exit_code(checks)}).",
    ]
    return "\n".join(lines) + "\n"


def json_report(stack: str, checks: list[Check]) -> str:
    """The same for programs: `stack`, `exit_code`, `checks` (name, title, status, seen, fix)."""
    document = {
        "stack": stack,
        "exit_code": exit_code(checks),
        "checks": [
            {
                "name": check.name,
                "title": check.title,
                "status": check.status,
                "seen": check.seen,
                "fix": check.fix,
            }
            for check in checks
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
