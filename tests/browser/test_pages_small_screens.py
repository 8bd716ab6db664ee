"""The example page and the stand-in portal as a user meets them (issue 23 item 7): at 390 px and
1280 px wide, a return from the portal, a cancellation, disabled buttons, deep links, branding.

Screenshots land in test-output/browser/ (gitignored): `pages-390-*.png`, `pages-1280-*.png`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
import requests
from playwright.sync_api import expect

from local.stripe import TEST_KEY as STANDIN_KEY
from tests.browser.browser_support import LocalRun, open_settings, screenshot, sign_in
from tests.browser.test_settings_page import portal_row

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

WIDTHS = (390, 1280)
UPDATING_FOR_MS = 3000  # web/example/app.js


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def sized_page(request, browser: Browser):
    context = browser.new_context(viewport={"width": request.param, "height": 844})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return found


def one_line(page: Page, selector: str) -> bool:
    """Whether the element's text sits on one line (its text lines share one top)."""
    return page.evaluate(
        """s => { const walker = document.createTreeWalker(document.querySelector(s),
              NodeFilter.SHOW_TEXT); const tops = new Set();
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (!node.textContent.trim()) continue;
                const range = document.createRange(); range.selectNodeContents(node);
                for (const r of range.getClientRects()) tops.add(Math.round(r.top));
              }
              return tops.size === 1; }""",
        selector,
    )


def test_the_top_bar_fits_the_width_keeps_the_nav_and_never_wraps(sized_page, local_run):
    page, width = sized_page
    open_settings(page, local_run)
    sign_in(page, "a-rather-long-address.for-small-screens@example.com")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (
        "the page scrolls sideways"
    )
    expect(page.locator(".topnav")).to_be_visible()
    for selector in (".brand", "#sign-out", ".topnav a[aria-current=page]"):
        assert one_line(page, selector), f"{selector} wraps at {width} px"
    assert box(page, "#sign-out")["x"] + box(page, "#sign-out")["width"] <= width
    screenshot(page, f"pages-{width}-signed-in")


def customer_for(page: Page, run: LocalRun) -> str:
    """The signed-in page user's Stripe customer (created through the function)."""
    page.evaluate(
        """async (endpoint) => {
            const { createPortalSession } = await import("../billing-portal.js");
            const session = JSON.parse(sessionStorage.getItem("billing-portal-example.session"));
            await createPortalSession({ endpoint, getIdToken: async () => session.idToken });
        }""",
        run.url("function"),
    )
    uid = page.evaluate("JSON.parse(sessionStorage.getItem('billing-portal-example.session')).sub")
    customer = run.customer_of(uid)
    assert customer
    return customer


def subscribe_to_the_stacks_first_price(page: Page, run: LocalRun) -> str:
    """A subscription to the dev stack's first plan (as the page's config names it)."""
    price = page.evaluate("async () => Object.keys((await import('./config.js')).default.plans)[0]")
    created = requests.post(
        run.url("stripe", "/v1/subscriptions"),
        data={"customer": customer_for(page, run), "items[0][price]": price},
        headers={"Authorization": f"Bearer {STANDIN_KEY}"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    subscription = created.json()["id"]
    run.standin().wait_webhooks()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # re-read, as on a tab switch
    expect(page.locator("#subscription-id")).to_have_text(subscription)
    return subscription


def test_cancel_now_says_the_plan_ended_and_when(sized_page, local_run):
    page, width = sized_page
    open_settings(page, local_run)
    sign_in(page, f"cancel-now-{width}@example.com")
    subscription = subscribe_to_the_stacks_first_price(page, local_run)
    page.click("#cancel-subscription")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    page.click("text=Cancel now")
    expect(page.locator("#done")).to_be_visible()
    screenshot(page, f"pages-{width}-portal-cancelled")
    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    ended_at = next(
        s["ended_at"] for s in local_run.standin().subscriptions() if s["id"] == subscription
    )
    date = page.evaluate(
        "s => new Intl.DateTimeFormat('en-US', {dateStyle: 'long'}).format(new Date(s * 1000))",
        ended_at,
    )
    expect(page.locator("#plan-ended")).to_have_text(
        f"Acme Team plan ended on {date}. You have no active plan."
    )
    expect(page.locator("#no-plan-text")).to_be_hidden()
    expect(page.locator("#plan")).to_be_hidden()
    screenshot(page, f"pages-{width}-plan-ended")


def test_disabled_buttons_say_why_on_the_page(page: Page, local_run: LocalRun) -> None:
    open_settings(page, local_run)
    sign_in(page, "disabled-reasons@example.com")
    expect(page.locator("#no-plan")).to_be_visible()
    expect(page.locator("#cancel-subscription")).to_be_disabled()
    expect(page.locator("#disabled-reason")).to_have_text(
        "Change plan and Cancel subscription need a subscription."
    )
    expect(page.locator("#cancel-subscription")).to_have_attribute(
        "aria-describedby", "disabled-reason"
    )


def return_to(page: Page, run: LocalRun) -> float:
    """Come back to the page as the portal sends the browser back; the time it happened."""
    page.evaluate(
        "sessionStorage.setItem('billing-portal-example.state-before-portal',"
        " JSON.stringify({subscriptions: [], entitlements: []}))"
    )
    started = time.monotonic()
    page.goto(run.settings_page + "?billing=portal")
    return started


def test_a_return_that_changed_nothing_stops_updating_promptly(page: Page, local_run) -> None:
    open_settings(page, local_run)
    sign_in(page, "returned-unchanged@example.com")
    started = return_to(page, local_run)
    expect(page.locator("#portal-returned")).to_be_visible()
    expect(page.locator("#plan-updating")).to_be_visible()
    expect(page.locator("#plan-updating")).to_be_hidden(timeout=UPDATING_FOR_MS + 2000)
    assert time.monotonic() - started < UPDATING_FOR_MS / 1000 + 1.5
    expect(page.locator("#no-plan")).to_be_visible()


def test_the_welcome_back_notice_can_be_dismissed_and_goes_away_by_itself(
    page: Page, local_run
) -> None:
    open_settings(page, local_run)
    sign_in(page, "welcome-back@example.com")
    return_to(page, local_run)
    expect(page.locator("#portal-returned")).to_be_visible()
    page.click("#portal-returned-close")
    expect(page.locator("#portal-returned")).to_be_hidden()

    page.clock.install()
    return_to(page, local_run)
    expect(page.locator("#portal-returned")).to_be_visible()
    page.clock.fast_forward(9_000)
    expect(page.locator("#portal-returned")).to_be_hidden()


def test_the_portal_deep_links_show_what_they_name_in_the_stacks_colours(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "deep-links-shown@example.com")
    page.click("#update-payment-method")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    assert portal_row(page, "Flow") == "payment_method_update"
    expect(page.locator("#payment-method-form")).to_be_visible()
    expect(page.locator("#subscriptions")).to_have_count(0)
    # Pulumi.dev.yaml's branding: primaryColor #B45309, secondaryColor #FFF7ED
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(255, 247, 237)", background
    button = page.locator("#payment-method-form button")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(180, 83, 9)"
    screenshot(page, "pages-1280-portal-payment-method")
    page.click("#payment-method-form button")
    expect(page.locator("#done")).to_contain_text("payment method is updated")

    page.goto(local_run.settings_page)
    subscription = subscribe_to_the_stacks_first_price(page, local_run)
    page.click("#cancel-subscription")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    expect(page.locator(f"[id='{subscription}']")).to_be_visible()
    expect(page.locator("text=Cancel now")).to_be_visible()
    expect(page.locator("text=Switch plan")).to_have_count(0)
    screenshot(page, "pages-1280-portal-cancel-deep-link")


def test_the_stand_in_portal_fits_a_phone(browser: Browser, local_run: LocalRun) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        open_settings(page, local_run)
        sign_in(page, "portal-on-a-phone@example.com")
        page.click("#update-payment-method")
        page.wait_for_url(local_run.url("stripe", "/p/session/**"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "pages-390-portal-payment-method")
    finally:
        context.close()
