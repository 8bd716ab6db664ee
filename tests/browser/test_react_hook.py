"""web/react/useBillingState.js under real React 18, in a real browser, against the local run.

The demo app (web/react/demo/) restores its signed-in user only after a delay, as
Firebase does on a fresh page load, and uses the hook exactly as docs/frontend.md shows. React
comes from node_modules (package.json's pinned devDependencies), served to the page by the test.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from local.process import REPO_ROOT
from tests.browser.browser_support import LocalRun, open_settings, screenshot, sign_in
from tests.browser.test_settings_page import portal_row, subscribe_in_standin

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.integration

UNPKG = "https://unpkg.com/"
VENDOR = {  # what web/react/demo/index.html loads, and the pinned npm files it is
    "react@18.3.1/umd/react.development.js": "node_modules/react/umd/react.development.js",
    "react-dom@18.3.1/umd/react-dom.development.js": (
        "node_modules/react-dom/umd/react-dom.development.js"
    ),
}
UPDATING_FOR_MS = 3000  # web/react/useBillingState.js


def open_react_app(page: Page, run: LocalRun, email: str, auth_delay_ms: int = 800) -> str:
    """Sign in on the example page (the demo restores that session, late, as Firebase does),
    then open web/react/demo/; returns the user id."""
    for path in VENDOR.values():
        if not (REPO_ROOT / path).exists():
            pytest.fail(f"{path} is missing: run `npm ci` (make setup does).", pytrace=False)

    def serve(route: Route) -> None:
        name = route.request.url.removeprefix(UNPKG)
        if name in VENDOR:  # the same bytes unpkg serves (the page checks their hashes)
            route.fulfill(
                path=str(REPO_ROOT / VENDOR[name]),
                content_type="text/javascript",
                headers={"Access-Control-Allow-Origin": "*"},
            )
        else:
            route.fulfill(status=404, body="not found")

    page.route(UNPKG + "**", serve)
    open_settings(page, run)
    sub = sign_in(page, email)
    page.goto(run.url("web", f"/react/demo/?authDelay={auth_delay_ms}"))
    return sub


def seen(page: Page) -> dict[str, Any]:
    return page.evaluate("window.__seen")


def test_the_hook_waits_for_the_sign_in_state_instead_of_failing_not_signed_in(
    page: Page, local_run: LocalRun
) -> None:
    open_react_app(page, local_run, "react-waits@example.com", auth_delay_ms=1200)
    expect(page.locator("#status")).to_have_text("waiting_for_sign_in")
    expect(page.locator("#status")).to_have_text("ready", timeout=10_000)
    expect(page.locator("#plan")).to_have_text("no plan")
    observed = seen(page)
    assert observed["errors"] == [], observed  # never `not_signed_in` ("Plan unavailable")
    assert "no user" not in observed["tokenRequests"], observed
    assert observed["statuses"][0] == "waiting_for_sign_in", observed
    screenshot(page, "react-01-ready-no-plan")


def subscribe(page: Page, run: LocalRun, sub: str) -> str:
    """A subscription for the page's user: the function creates the customer (a portal
    session), the stand-in the subscription; the hook shows it after a refresh."""
    page.evaluate(
        """async (endpoint) => {
            const { createPortalSession } = await import("/billing-portal.js");
            const session = JSON.parse(
                sessionStorage.getItem("billing-portal-example.session"));
            await createPortalSession({ endpoint, getIdToken: async () => session.idToken });
        }""",
        run.url("function"),
    )
    customer = run.customer_of(sub)
    assert customer, "the function created no customer"
    subscription = subscribe_in_standin(run, customer)
    for _ in range(30):  # the webhook writes the state a moment later
        page.click("#refresh")
        if subscription in page.locator("#plan").inner_text():
            return subscription
        time.sleep(0.2)
    raise AssertionError(f"the hook never showed {subscription}")


def test_after_the_portal_the_hook_polls_until_the_change_shows_without_focus(
    page: Page, local_run: LocalRun
) -> None:
    sub = open_react_app(page, local_run, "react-polls@example.com")
    expect(page.locator("#status")).to_have_text("ready", timeout=10_000)
    subscription = subscribe(page, local_run, sub)
    expect(page.locator("#plan")).to_have_text(f"{subscription} active")
    page.click("#manage")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    assert portal_row(page, "Flow") == "none (portal home)"
    standin = local_run.standin()
    standin.hold_webhooks()  # Stripe's event arrives after the user is back, not before
    try:
        page.click("text=Cancel at end of period")
        expect(page.locator("#done")).to_be_visible()
        page.click("#return-link")
        page.wait_for_url(local_run.url("web", "/react/demo/") + "**")
        expect(page.locator("#updating")).to_be_visible()
        expect(page.locator("#plan")).to_have_text(f"{subscription} active")
        screenshot(page, "react-02-returned-updating")
        assert standin.hold_webhooks(False) >= 1
    finally:
        standin.hold_webhooks(False)
    # No focus event, no click: the hook reads again until the state differs.
    expect(page.locator("#plan")).to_have_text(f"{subscription} cancels", timeout=10_000)
    expect(page.locator("#updating")).to_be_hidden()
    assert "billing_portal=returned" not in page.url  # the marker is taken out of the URL
    assert seen(page)["errors"] == []
    screenshot(page, "react-03-returned-cancels")


def test_a_return_that_changed_nothing_stops_saying_updating_promptly(
    page: Page, local_run: LocalRun
) -> None:
    open_react_app(page, local_run, "react-unchanged@example.com")
    expect(page.locator("#status")).to_have_text("ready", timeout=10_000)
    page.click("#manage")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    page.click("#return-link")
    page.wait_for_url(local_run.url("web", "/react/demo/") + "**")
    returned = time.monotonic()
    expect(page.locator("#updating")).to_be_visible()
    expect(page.locator("#updating")).to_be_hidden(timeout=UPDATING_FOR_MS + 2000)
    waited = time.monotonic() - returned
    # the demo restores the user 0.8 s after the page loads; then at most UPDATING_FOR_MS
    assert waited < 0.8 + UPDATING_FOR_MS / 1000 + 0.7, waited
    expect(page.locator("#plan")).to_have_text("no plan")
