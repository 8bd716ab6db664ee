"""The example settings page in a real browser, against the whole local run.

Each test signs in its own development user (its own email), so each gets its own Stripe
customer and the tests do not depend on one another. Screenshots of every state the page goes
through land in test-output/browser/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests
from playwright.sync_api import expect

from local.net import free_port
from local.stripe import TEST_KEY as STANDIN_KEY
from tests.browser.browser_support import (
    LocalRun,
    local_config,
    open_settings,
    screenshot,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.integration

MANAGE = "#manage-billing"
TEAM_MONTHLY = "Choose Acme Team, €29.00 per month"
ERROR = "#billing-error"


def portal_row(page: Page, label: str) -> str:
    """The value of a row (`Flow`, `Customer`, …) of the stand-in portal page."""
    return page.locator(f"dt:text-is('{label}') + dd").inner_text()


def deep_link_from_the_page(page: Page, run: LocalRun, flow_type: str, subscription: str) -> str:
    """Ask for a portal session with a subscription deep link as the signed-in page would (the
    module's `createPortalSession`, the page's token): "opened", or the error code."""
    return page.evaluate(
        """async ([flowType, subscription, endpoint]) => {
            const { createPortalSession } = await import("../billing-portal.js");
            const session = JSON.parse(sessionStorage.getItem("billing-portal-example.session"));
            try {
                await createPortalSession({
                    endpoint,
                    getIdToken: async () => session.idToken,
                    flow: { type: flowType, subscription },
                });
                return "opened";
            } catch (error) {
                return error.code;
            }
        }""",
        [flow_type, subscription, run.url("function")],
    )


def test_signed_out_page_offers_development_sign_in_and_disables_billing(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    screenshot(page, "01-signed-out")
    expect(page.get_by_role("button", name="Sign in as development user")).to_be_visible()
    expect(page.locator(MANAGE)).to_be_disabled()


def test_the_page_signs_in_without_script_or_console_errors(
    page: Page, local_run: LocalRun
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    open_settings(page, local_run)
    sign_in(page, "no-errors@example.com")
    assert problems == [], "the page reported errors:\n" + "\n".join(problems)


def test_every_link_on_the_settings_page_leads_to_a_page_that_exists(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    assert hrefs, "the page has no links at all"
    dead = {href: page.request.get(href).status for href in set(hrefs)}
    dead = {href: status for href, status in dead.items() if status != 200}
    assert dead == {}, f"links to routes that do not answer 200: {dead}"


def test_signing_in_as_a_development_user_enables_manage_billing(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "signed-in@example.com")
    screenshot(page, "02-signed-in")
    expect(page.locator(MANAGE)).to_be_enabled()
    expect(page.locator("#billing-email")).to_have_text("signed-in@example.com")


def test_manage_billing_lands_on_the_portal_of_the_users_own_customer(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    user_id = sign_in(page, "journey@example.com")
    page.click(MANAGE)
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    screenshot(page, "04-portal")
    mapped = local_run.customer_of(user_id)
    assert mapped is not None, f"no Firestore mapping was written for {user_id}"
    assert page.locator("#customer").inner_text() == mapped, (
        "the portal page is not for the customer the function mapped this user to"
    )


def test_the_portal_return_link_leads_back_to_the_settings_page(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "round-trip@example.com")
    page.click(MANAGE)
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    page.wait_for_selector("body[data-ready=true]")
    screenshot(page, "05-returned")
    expect(page.locator("#portal-returned")).to_be_visible()
    expect(page.locator("#signed-in-as")).to_have_text("round-trip@example.com")
    expect(page.locator(MANAGE)).to_be_enabled()


def test_manage_billing_is_disabled_and_shows_progress_while_the_request_is_in_flight(
    page: Page, local_run: LocalRun
) -> None:
    held: list[Route] = []
    open_settings(page, local_run)
    sign_in(page, "in-flight@example.com")
    # the sign-in's own read of the billing state has been answered: only the click is held
    expect(page.locator("#no-plan")).to_be_visible()
    page.route(local_run.url("function"), lambda route: held.append(route))
    page.click(MANAGE)
    expect(page.locator(MANAGE)).to_be_disabled()
    expect(page.locator(MANAGE)).to_have_attribute("aria-busy", "true")
    expect(page.locator(MANAGE)).to_contain_text("Opening billing…")
    expect(page.locator("#update-payment-method")).to_be_disabled()
    screenshot(page, "03-in-flight")
    assert len(held) == 1, "the page did not send exactly one request to the function"
    held[0].continue_()
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))


def test_update_payment_method_opens_the_portal_on_that_deep_link(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "payment-method@example.com")
    page.click("#update-payment-method")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    screenshot(page, "06-portal-payment-method-update")
    assert portal_row(page, "Flow") == "payment_method_update"


def subscribe_in_standin(run: LocalRun, customer: str) -> str:
    """A subscription of `customer` in the stand-in, made through its Stripe API; its id."""
    key = {"Authorization": f"Bearer {STANDIN_KEY}"}
    api = run.url("stripe", "/v1")
    product = requests.post(f"{api}/products", data={"name": "Team"}, headers=key, timeout=10)
    price = requests.post(
        f"{api}/prices",
        data={
            "product": product.json()["id"],
            "currency": "eur",
            "unit_amount": "900",
            "recurring[interval]": "month",
        },
        headers=key,
        timeout=10,
    )
    created = requests.post(
        f"{api}/subscriptions",
        data={"customer": customer, "items[0][price]": price.json()["id"]},
        headers=key,
        timeout=10,
    )
    assert created.status_code == 200, created.text
    return created.json()["id"]


def test_without_a_subscription_the_plan_card_says_no_plan_yet_and_offers_the_plans(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "no-subscription@example.com")
    expect(page.locator("#no-plan")).to_be_visible()
    expect(page.locator("#no-plan")).to_contain_text("No plan yet")
    expect(page.locator("#choose-plan")).to_be_visible()
    expect(page.get_by_role("button", name=TEAM_MONTHLY)).to_be_enabled()
    screenshot(page, "11-no-plan-yet")
    expect(page.locator("#cancel-subscription")).to_be_disabled()
    expect(page.locator("#change-plan")).to_be_disabled()
    expect(page.locator(MANAGE)).to_be_enabled()
    expect(page.locator("#plan")).to_be_hidden()


def subscribe_through_checkout(page: Page, run: LocalRun) -> str:
    """Choose Acme Team monthly, pay on the stand-in's Checkout page, come back: the plan card's
    subscription id."""
    page.get_by_role("button", name=TEAM_MONTHLY).click()
    page.wait_for_url(run.url("stripe", "/c/pay/**"))
    page.click("#checkout-complete")
    page.wait_for_url(run.settings_page + "**")
    expect(page.locator("#plan")).to_be_visible()
    return page.locator("#subscription-id").inner_text()


def test_the_plan_card_shows_the_real_plan_and_the_cancel_round_trip_shows_cancels_on(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "loop@example.com")
    subscription = subscribe_through_checkout(page, local_run)
    assert subscription.startswith("sub_"), subscription
    # The first price of Pulumi.dev.yaml's plan-switching list, named by the stack's catalog.
    expect(page.locator("#plan-name")).to_have_text("Acme Team")
    expect(page.locator("#plan-amount")).to_have_text("€29.00")
    expect(page.locator("#plan-status")).to_have_text("active")
    expect(page.locator("#plan-detail")).to_contain_text("renews on")
    screenshot(page, "12-plan-from-billing-state")

    page.click("#cancel-subscription")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    assert portal_row(page, "Flow") == f"subscription_cancel ({subscription})"
    expect(page.locator(f"[id='{subscription}']")).to_contain_text("Acme Team")
    screenshot(page, "13-portal-with-the-subscription")
    page.click("text=Cancel at end of period")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator(f"[id='{subscription}'] .status")).to_contain_text("cancels on")
    screenshot(page, "14-portal-canceled-at-period-end")

    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    cancel_at = next(
        s["cancel_at"] for s in local_run.standin().subscriptions() if s["id"] == subscription
    )
    date = page.evaluate(
        "s => new Intl.DateTimeFormat('en-US', {dateStyle: 'long'}).format(new Date(s * 1000))",
        cancel_at,
    )
    expect(page.locator("#plan-detail")).to_contain_text(f"cancels on {date}")
    expect(page.locator("#plan-status")).to_have_text("Canceling")
    expect(page.locator("#plan-updating")).to_be_hidden()
    screenshot(page, "15-returned-cancels-on")
    expect(page.locator("#cancel-subscription")).to_be_disabled()


def test_change_plan_switches_the_price_in_the_portal_and_the_page_shows_the_new_plan(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "switch@example.com")
    subscription = subscribe_through_checkout(page, local_run)
    page.click("#change-plan")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    assert portal_row(page, "Flow") == f"subscription_update ({subscription})"
    page.select_option(
        f"[id='{subscription}'] select[name=price]", label="Acme Team · 290.00 EUR / year"
    )
    page.click("text=Switch plan")
    expect(page.locator("#done")).to_be_visible()
    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    expect(page.locator("#plan-name")).to_have_text("Acme Team")
    expect(page.locator("#plan-interval")).to_have_text("/year")
    expect(page.locator("#plan-updating")).to_be_hidden()
    screenshot(page, "16-returned-plan-changed")


def test_cancel_subscription_of_another_user_shows_not_found_and_opens_nothing(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "owner@example.com")
    subscription = subscribe_through_checkout(page, local_run)
    page.click("#sign-out")
    sign_in(page, "intruder@example.com")
    code = deep_link_from_the_page(page, local_run, "subscription_cancel", subscription)
    assert code == "subscription_not_found", code
    expect(page.locator("#no-plan")).to_be_visible()


def test_function_down_shows_a_readable_error_and_re_enables_the_button(
    page: Page, local_run: LocalRun
) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}/"
    open_settings(page, local_run, local_config(local_run, functionUrl=nothing_listens))
    sign_in(page, "function-down@example.com")
    page.click(MANAGE)
    expect(page.locator(ERROR)).to_be_visible()
    screenshot(page, "08-error-function-down")
    expect(page.locator(ERROR)).to_contain_text("Could not reach the billing service")
    expect(page.locator("#billing-error-code")).to_contain_text("network_error")
    expect(page.locator(MANAGE)).to_be_enabled()
    expect(page.locator(MANAGE)).not_to_have_attribute("aria-busy", "true")


def test_a_refused_return_url_shows_the_functions_message_and_re_enables_the_button(
    page: Page, local_run: LocalRun
) -> None:
    config = local_config(local_run, returnUrl="https://attacker.example/account")
    open_settings(page, local_run, config)
    sign_in(page, "refused-return@example.com")
    page.click(MANAGE)
    expect(page.locator(ERROR)).to_be_visible()
    screenshot(page, "09-error-return-url-refused")
    expect(page.locator(ERROR)).to_contain_text("return_url must be")
    expect(page.locator("#billing-error-code")).to_contain_text("return_url_not_allowed")
    expect(page.locator("#billing-error-code")).to_contain_text("HTTP 400")
    expect(page.locator(MANAGE)).to_be_enabled()
    assert page.url.startswith(local_run.settings_page), "the page navigated away on an error"


def test_an_error_message_is_cleared_when_the_next_attempt_starts(
    page: Page, local_run: LocalRun
) -> None:
    config = local_config(local_run, returnUrl="https://attacker.example/account")
    open_settings(page, local_run, config)
    sign_in(page, "retry@example.com")
    page.click(MANAGE)
    expect(page.locator(ERROR)).to_be_visible()
    page.route(local_run.url("function"), lambda route: None)  # hold the retry in flight
    page.click(MANAGE)
    expect(page.locator(ERROR)).to_be_hidden()


def test_the_stand_in_portal_is_the_dev_stacks_portal(page: Page, local_run: LocalRun) -> None:
    open_settings(page, local_run)
    sign_in(page, "stack-portal@example.com")
    page.click(MANAGE)
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    screenshot(page, "10-portal-of-the-dev-stack")
    # Pulumi.dev.yaml's headline and features, not the stand-in's built-in default.
    expect(page.locator("#headline")).to_have_text(
        "Acme (dev) partners with Stripe for simplified billing."
    )
    enabled = portal_row(page, "Enabled features")
    for feature in ("subscription_cancel", "subscription_update", "customer_update"):
        assert feature in enabled, enabled
    assert "subscription_pause" not in enabled


def test_a_deep_link_into_a_feature_the_dev_stack_disables_is_refused(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "pause@example.com")
    page.click(MANAGE)
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    subscription = subscribe_in_standin(local_run, portal_row(page, "Customer"))
    open_settings(page, local_run)
    code = deep_link_from_the_page(page, local_run, "subscription_pause", subscription)
    assert code == "flow_not_enabled", code
