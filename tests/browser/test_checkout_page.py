"""Starting a plan from the example page in a real browser, against the whole local run: "Choose a
plan" from the function's `GET /plans`, Stripe Checkout (the stand-in's Checkout page), and back.

The plan must be on the page on the first render after the return, with no webhook delivery: the
stand-in holds every event while the user checks out (`hold_webhooks`), and the page's plan card
is watched from the moment the page loads, so a "No plan yet" flash would be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.browser_support import LocalRun, open_settings, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration

TEAM_MONTHLY = "Choose Acme Team, €29.00 per month"
# Every state the plan card goes through on each page load, in order: "unknown" (loading),
# "no-plan", "plan". An init script: it watches from the first render of every page the test opens.
WATCH_PLAN_CARD = """
window.__planCard = [];
document.addEventListener("DOMContentLoaded", () => {
  const note = () => {
    const plan = document.getElementById("plan");
    const none = document.getElementById("no-plan");
    if (!plan || !none) return;
    const state = !plan.hidden ? "plan" : !none.hidden ? "no-plan" : "unknown";
    if (window.__planCard.at(-1) !== state) window.__planCard.push(state);
  };
  note();
  new MutationObserver(note).observe(document.body, {
    attributes: true, subtree: true, attributeFilter: ["hidden"],
  });
});
"""


@pytest.fixture
def held_webhooks(local_run: LocalRun) -> Iterator[None]:
    """No event of the stand-in reaches the webhook function during the test; released after."""
    control = local_run.standin()
    control.hold_webhooks(True)
    try:
        yield
    finally:
        control.hold_webhooks(False)
        control.wait_webhooks(timeout=20)
        control.close()


def choose_plan(page: Page, run: LocalRun, name: str = TEAM_MONTHLY) -> str:
    """Press a plan's Choose button; wait for the stand-in's Checkout page; its session id."""
    page.get_by_role("button", name=name).click()
    page.wait_for_url(run.url("stripe", "/c/pay/**"))
    return page.locator("#session").inner_text()


def back_on_the_settings_page(page: Page, run: LocalRun) -> None:
    page.wait_for_url(run.settings_page + "**")
    page.wait_for_selector("body[data-ready=true]")


def test_the_plans_to_choose_are_the_stacks_checkout_catalog(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "plans@example.com")
    expect(page.locator("#no-plan")).to_contain_text("No plan yet")
    options = page.locator("#plan-options .plan-option")
    # Pulumi.dev.yaml sells every plan-switching price at checkout, in the portal's order.
    expect(options).to_have_count(3)
    expect(options.locator(".plan-name")).to_have_text(["Acme Team", "Acme Team", "Acme Business"])
    expect(options.locator(".plan-option-price")).to_have_text(
        ["€29.00 per month", "€290.00 per year", "€99.00 per month"]
    )
    expect(options.locator("input[name=quantity]")).to_have_count(0)  # dev: none adjustable
    expect(page.get_by_text("Give me a test subscription")).to_have_count(0)
    screenshot(page, "20-choose-a-plan")


def test_a_new_plan_shows_on_the_first_render_after_checkout_with_no_webhook_delivered(
    page: Page, local_run: LocalRun, held_webhooks: None
) -> None:
    page.add_init_script(WATCH_PLAN_CARD)
    open_settings(page, local_run)
    sign_in(page, "checkout@example.com")
    expect(page.locator("#no-plan")).to_be_visible()
    session = choose_plan(page, local_run)
    assert session.startswith("cs_"), session
    expect(page.locator("#line-items")).to_contain_text("Acme Team")
    screenshot(page, "21-stand-in-checkout")

    page.click("#checkout-complete")
    back_on_the_settings_page(page, local_run)
    expect(page.locator("#plan")).to_be_visible()
    expect(page.locator("#plan-name")).to_have_text("Acme Team")
    expect(page.locator("#plan-amount")).to_have_text("€29.00")
    expect(page.locator("#plan-status")).to_have_text("active")
    expect(page.locator("#checkout-returned")).to_be_visible()
    screenshot(page, "22-returned-from-checkout")

    # From the page's first render: loading, then the plan; never "No plan yet".
    assert page.evaluate("window.__planCard") == ["unknown", "plan"]
    # Stripe's events were never delivered: the return itself synced the state.
    held = {delivery["type"] for delivery in local_run.standin().held_webhooks()}
    assert {"checkout.session.completed", "customer.subscription.created"} <= held, held
    # The return's parameters are gone from the address bar; a reload reads the state plainly.
    assert page.url == local_run.settings_page, page.url
    expect(page.locator("#cancel-subscription")).to_be_enabled()


def test_cancelling_checkout_comes_back_with_no_plan_and_no_error(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "changed-mind@example.com")
    choose_plan(page, local_run, "Choose Acme Business, €99.00 per month")
    page.click("#checkout-cancel")
    back_on_the_settings_page(page, local_run)
    expect(page.locator("#checkout-cancelled")).to_be_visible()
    expect(page.locator("#no-plan")).to_be_visible()
    expect(page.locator("#plan")).to_be_hidden()
    expect(page.locator("#billing-error")).to_be_hidden()
    expect(page.locator("#plan-error")).to_be_hidden()
    expect(page.locator("#checkout-returned")).to_be_hidden()
    assert page.url == local_run.settings_page, page.url
    screenshot(page, "23-checkout-cancelled")


def test_a_user_who_already_has_a_plan_gets_the_portal_instead_of_a_second_checkout(
    page: Page, local_run: LocalRun, held_webhooks: None
) -> None:
    open_settings(page, local_run)
    sign_in(page, "second-plan@example.com")
    expect(page.get_by_role("button", name=TEAM_MONTHLY)).to_be_enabled()
    # Meanwhile (another tab, another device) the user started a plan; this page does not know.
    session = page.evaluate("JSON.parse(sessionStorage.getItem('billing-portal-example.session'))")
    bearer = {"Authorization": f"Bearer {session['idToken']}"}
    plans = requests.get(local_run.url("function", "/plans"), timeout=10).json()["plans"]
    started = requests.post(
        local_run.url("function", "/checkout"),
        json={"price": plans[0]["price"]},
        headers=bearer,
        timeout=30,
    )
    assert started.status_code == 200, started.text
    control = local_run.standin()
    control.complete_checkout_session(started.json()["id"])
    # Stripe's events are held (the webhook window): the function has not heard of the plan.
    assert {"customer.subscription.created", "checkout.session.completed"} <= {
        held["type"] for held in control.held_webhooks()
    }
    expect(page.locator("#no-plan")).to_be_visible()  # still the stale page

    page.get_by_role("button", name=TEAM_MONTHLY).click()
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))  # the portal, not Checkout
    screenshot(page, "24-already-subscribed-portal")
    # The 409 came with the events still held: from Stripe's list, not from a delivery.
    assert "checkout.session.completed" in {held["type"] for held in control.held_webhooks()}
    checkouts = {
        s["id"]: s["status"]
        for s in control.checkout_sessions()
        if s["customer"] == session_customer(page)
    }
    assert checkouts.pop(started.json()["id"]) == "complete"
    # a session made for the refused click was expired before the page could open it
    assert set(checkouts.values()) <= {"expired"}, checkouts


def session_customer(page: Page) -> str:
    """The customer of the stand-in portal page the browser is on."""
    return page.locator("dt:text-is('Customer') + dd").inner_text()


@pytest.fixture(scope="module")
def prod_run() -> Iterator[LocalRun]:
    """The local run with Pulumi.prod.yaml's portal and checkout (its live ids stood in for)."""
    from tests.browser.browser_support import running_local_run

    with running_local_run("local-run-prod-stack", "--stack", "prod") as run:
        yield run


def test_the_prod_stacks_checkout_sells_seats_within_bounds_with_its_settings(
    page: Page, prod_run: LocalRun
) -> None:
    open_settings(page, prod_run)
    sign_in(page, "seats@example.com")
    options = page.locator("#plan-options .plan-option")
    expect(options).to_have_count(2)  # prod's checkout lists two prices, the team one first
    team = options.nth(0)
    quantity = team.locator("input[name=quantity]")
    expect(quantity).to_have_attribute("min", "1")
    expect(quantity).to_have_attribute("max", "25")  # the team product's adjustableQuantity
    expect(options.nth(1).locator("input[name=quantity]")).to_have_count(0)
    quantity.fill("3")
    team.get_by_role("button").click()
    page.wait_for_url(prod_run.url("stripe", "/c/pay/**"))
    expect(page.locator("#line-items .quantity")).to_have_text("3")
    # prod's checkout settings, as the Checkout Session carries them
    expect(page.locator("#checkout-notes")).to_have_text(
        "14-day free trial; promotion codes accepted; tax calculated automatically; "
        "billing address required; terms of service to accept"
    )
    screenshot(page, "25-prod-checkout-settings")
    page.click("#checkout-complete")
    back_on_the_settings_page(page, prod_run)
    expect(page.locator("#plan")).to_be_visible()
    expect(page.locator("#plan-status")).to_have_text("trialing")
    expect(page.locator("#plan-detail")).to_contain_text("3 seats")


def test_a_quantity_beyond_the_products_bounds_is_refused_and_the_page_says_so(
    page: Page, prod_run: LocalRun
) -> None:
    open_settings(page, prod_run)
    user = sign_in(page, "too-many-seats@example.com")
    team = page.locator("#plan-options .plan-option").nth(0)
    team.locator("input[name=quantity]").fill("26")
    team.get_by_role("button").click()
    expect(page.locator("#billing-error")).to_be_visible()
    expect(page.locator("#billing-error-code")).to_contain_text("invalid_quantity")
    expect(page.locator("#billing-error-code")).to_contain_text("HTTP 400")
    assert page.url.startswith(prod_run.settings_page), "the page navigated away on an error"
    expect(team.get_by_role("button")).to_be_enabled()
    mine = [s for s in prod_run.standin().checkout_sessions() if s["client_reference_id"] == user]
    assert mine == [], "a refused checkout reached Stripe"
