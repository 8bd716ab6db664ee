"""Features gated by entitlements on the example page, in a real browser, against the whole
local run (its stand-in holds the dev stack's features, attached as `pulumi up` attaches them).

The user's journey: sign in → no plan → Export CSV (lookup key `export_csv`) locked → choose the
plan that grants it (Pulumi.dev.yaml `products.<name>.features`) → the stand-in's Checkout →
back: unlocked on the first render after the return, with no webhook delivered → "Cancel now"
in the portal → back: locked again. A second journey starts a plan that does not grant it and
switches to one that does in the portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.browser_support import LocalRun, open_settings, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration

EXPORT = "#export-csv"
EXPORT_KEY = "export_csv"  # web/example/features.js EXPORT_FEATURE
DEV_STACK = Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml"
# Every state the Export CSV gate goes through on each page load, in order, as the user reads it
# (its lock line): "unknown" (signed out or the state not read yet), "locked", "unlocked". An
# init script: it watches from the first render of every page the test opens.
WATCH_EXPORT_GATE = """
window.__exportGate = [];
document.addEventListener("DOMContentLoaded", () => {
  const note = () => {
    const lock = document.getElementById("export-csv-lock");
    if (!lock) return;
    const text = lock.textContent;
    const state = text === "Included in your plan." ? "unlocked"
      : text.startsWith("Locked") ? "locked" : "unknown";
    if (window.__exportGate.at(-1) !== state) window.__exportGate.push(state);
  };
  note();
  new MutationObserver(note).observe(document.body, {
    childList: true, characterData: true, subtree: true,
  });
});
"""


def dev_products() -> list[dict[str, Any]]:
    """The dev stack's products, as Pulumi.dev.yaml declares them."""
    config = yaml.safe_load(DEV_STACK.read_text())["config"]
    return list(config["billing-portal:products"].values())


def plan_named(grants_export: bool) -> str:
    """The name of the dev product that grants (or does not grant) the demo feature."""
    return next(
        str(product["name"])
        for product in dev_products()
        if (EXPORT_KEY in product.get("features", [])) == grants_export
    )


def features_of(name: str) -> list[str]:
    """The lookup keys the dev product `name` grants, sorted as the page lists them."""
    product = next(p for p in dev_products() if p["name"] == name)
    return sorted(product["features"])


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


def check_out(page: Page, run: LocalRun, plan: str) -> None:
    """Choose `plan` (its first price) on the page, complete the stand-in's Checkout, come back."""
    page.get_by_role("button", name=f"Choose {plan},").first.click()
    page.wait_for_url(run.url("stripe", "/c/pay/**"))
    expect(page.locator("#line-items")).to_contain_text(plan)
    page.click("#checkout-complete")
    page.wait_for_url(run.settings_page + "**")
    page.wait_for_selector("body[data-ready=true]")


def through_the_portal(page: Page, run: LocalRun, opener: str) -> None:
    """Open the portal with the page's `opener` button; wait for the stand-in's portal page."""
    page.click(opener)
    page.wait_for_url(run.url("stripe", "/p/session/**"))


def back_from_the_portal(page: Page, run: LocalRun) -> None:
    expect(page.locator("#done")).to_be_visible()
    page.click("#return-link")
    page.wait_for_url(run.settings_page + "**")


def portal_row(page: Page, label: str) -> str:
    return page.locator(f"dt:text-is('{label}') + dd").inner_text()


def expect_locked(page: Page) -> None:
    expect(page.locator(EXPORT)).to_be_disabled(timeout=15000)
    expect(page.locator("#export-csv-lock")).to_contain_text("Locked")


def test_the_dev_stack_has_one_plan_that_grants_the_demo_feature_and_one_that_does_not() -> None:
    # The journeys below pick their plans by this; a stack edit that breaks it says so here.
    assert plan_named(grants_export=True) != plan_named(grants_export=False)


def test_a_feature_unlocks_with_the_plan_chosen_at_checkout_and_locks_again_on_cancel(
    page: Page, local_run: LocalRun, held_webhooks: None
) -> None:
    page.add_init_script(WATCH_EXPORT_GATE)
    open_settings(page, local_run)
    sign_in(page, "features-loop@example.com")
    # no plan: locked
    expect(page.locator("#no-plan")).to_be_visible()
    expect(page.locator("#no-features")).to_be_visible()
    expect_locked(page)
    screenshot(page, "30-features-no-plan-locked")

    plan = plan_named(grants_export=True)
    check_out(page, local_run, plan)
    expect(page.locator("#plan-name")).to_have_text(plan)
    expect(page.locator(EXPORT)).to_be_enabled()
    expect(page.locator("#feature-list li")).to_have_text(features_of(plan))
    expect(page.locator("#export-csv-lock")).to_have_text("Included in your plan.")
    # From the first render after the return: not read yet, then unlocked; never "Locked".
    assert page.evaluate("window.__exportGate") == ["unknown", "unlocked"]
    # Stripe's events were never delivered: the return itself read the entitlements.
    control = local_run.standin()
    held = {delivery["type"] for delivery in control.held_webhooks()}
    assert {"checkout.session.completed", "customer.subscription.created"} <= held, held
    page.click(EXPORT)
    expect(page.locator("#export-csv-done")).to_be_visible()
    screenshot(page, "31-features-checkout-export-unlocked")

    # cancel now in the portal (the dev stack cancels immediately): locked again
    control.hold_webhooks(False)
    control.wait_webhooks(timeout=20)
    through_the_portal(page, local_run, "#cancel-subscription")
    page.click("text=Cancel now")
    back_from_the_portal(page, local_run)
    expect_locked(page)
    expect(page.locator("#no-features")).to_be_visible()
    screenshot(page, "32-features-canceled-locked-again")


def test_switching_in_the_portal_to_the_plan_that_grants_a_feature_unlocks_it(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    sign_in(page, "features-switch@example.com")
    without = plan_named(grants_export=False)
    check_out(page, local_run, without)
    expect(page.locator("#plan-name")).to_have_text(without)
    expect(page.locator("#feature-list li")).to_have_text(features_of(without))
    expect_locked(page)
    screenshot(page, "33-features-team-export-locked")

    # switch to the plan that grants export_csv in the stand-in's portal
    granting = plan_named(grants_export=True)
    through_the_portal(page, local_run, "#change-plan")
    subscription = portal_row(page, "Flow").removeprefix("subscription_update (").rstrip(")")
    assert subscription.startswith("sub_"), subscription
    select = page.locator(f"[id='{subscription}'] select[name=price]")
    option = select.locator("option", has_text=granting).first.inner_text()
    select.select_option(label=option)
    page.click("text=Switch plan")
    back_from_the_portal(page, local_run)
    expect(page.locator(EXPORT)).to_be_enabled(timeout=15000)
    expect(page.locator("#feature-list li")).to_have_text(features_of(granting))
    expect(page.locator("#export-csv-lock")).to_have_text("Included in your plan.")
    page.click(EXPORT)
    expect(page.locator("#export-csv-done")).to_be_visible()
    screenshot(page, "34-features-switched-export-unlocked")
