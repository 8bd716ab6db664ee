"""Features gated by entitlements on the example page, in a real browser, against the whole
local run (its stand-in holds the dev stack's features, attached as `pulumi up` attaches them).

The loop: no plan → Export CSV locked; a plan that grants `export_csv` (switched to in the
stand-in's portal) → unlocked after return; cancel now in the portal → locked again. The first
subscription is made through the stand-in's Stripe API (the Checkout flow is built elsewhere).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
import requests
from playwright.sync_api import expect

from local.stripe import TEST_KEY as STANDIN_KEY
from tests.browser.browser_support import LocalRun, open_settings, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration

EXPORT = "#export-csv"


def open_customer(page: Page, run: LocalRun) -> None:
    """Have the function create the signed-in user's customer (a portal session, not opened)."""
    outcome = page.evaluate(
        """async (endpoint) => {
            const { createPortalSession } = await import("../billing-portal.js");
            const session = JSON.parse(sessionStorage.getItem("billing-portal-example.session"));
            await createPortalSession({ endpoint, getIdToken: async () => session.idToken });
            return "opened";
        }""",
        run.url("function"),
    )
    assert outcome == "opened"


def dev_price(run: LocalRun, product_name: str, interval: str = "month") -> str:
    """The stand-in's id of the dev stack's declared price of `product_name`."""
    key = {"Authorization": f"Bearer {STANDIN_KEY}"}
    api = run.url("stripe", "/v1")
    products = requests.get(f"{api}/products?limit=100", headers=key, timeout=10).json()["data"]
    product = next(p["id"] for p in products if p["name"] == product_name)
    prices = requests.get(
        f"{api}/prices?limit=100&product={product}", headers=key, timeout=10
    ).json()["data"]
    return next(p["id"] for p in prices if p["recurring"]["interval"] == interval)


def subscribe(run: LocalRun, customer: str, price: str) -> str:
    """A subscription made through the stand-in's Stripe API (as the Dashboard would)."""
    created = requests.post(
        run.url("stripe", "/v1/subscriptions"),
        data={"customer": customer, "items[0][price]": price},
        headers={"Authorization": f"Bearer {STANDIN_KEY}"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    return created.json()["id"]


def reload_until_features(page: Page, expected: str, timeout: float = 15) -> None:
    """Reload until the Features card lists exactly `expected` (the webhook applies the event
    a moment after Stripe records it)."""
    deadline = time.monotonic() + timeout
    while True:
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        shown = page.locator("#feature-list li").all_inner_texts()
        if " ".join(sorted(shown)) == expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(page.locator("#feature-list li")).to_have_text(expected.split())


def portal_row(page: Page, label: str) -> str:
    return page.locator(f"dt:text-is('{label}') + dd").inner_text()


def test_a_feature_unlocks_with_the_plan_that_grants_it_and_locks_again_on_cancel(
    page: Page, local_run: LocalRun
) -> None:
    open_settings(page, local_run)
    uid = sign_in(page, "features-loop@example.com")
    # no plan: locked
    expect(page.locator("#no-features")).to_be_visible()
    expect(page.locator(EXPORT)).to_be_disabled()
    expect(page.locator("#export-csv-lock")).to_contain_text("Locked")
    screenshot(page, "30-features-no-plan-locked")

    open_customer(page, local_run)
    customer = local_run.customer_of(uid)
    assert customer
    subscription = subscribe(local_run, customer, dev_price(local_run, "Acme Team"))
    reload_until_features(page, "seats")  # Acme Team grants seats only
    expect(page.locator(EXPORT)).to_be_disabled()
    screenshot(page, "31-features-team-export-locked")

    # switch to Acme Business (grants export_csv) in the stand-in's portal
    page.click("#change-plan")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    assert portal_row(page, "Flow") == f"subscription_update ({subscription})"
    page.select_option(
        f"[id='{subscription}'] select[name=price]", label="Acme Business · 99.00 EUR / month"
    )
    page.click("text=Switch plan")
    expect(page.locator("#done")).to_be_visible()
    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    expect(page.locator(EXPORT)).to_be_enabled(timeout=15000)
    expect(page.locator("#feature-list li")).to_have_text(["export_csv", "seats", "sso"])
    expect(page.locator("#export-csv-lock")).to_have_text("Included in your plan.")
    page.click(EXPORT)
    expect(page.locator("#export-csv-done")).to_be_visible()
    screenshot(page, "32-features-business-export-unlocked")

    # cancel now in the portal (the dev stack cancels immediately): locked again
    page.click("#cancel-subscription")
    page.wait_for_url(local_run.url("stripe", "/p/session/**"))
    page.click("text=Cancel now")
    expect(page.locator("#done")).to_be_visible()
    page.click("#return-link")
    page.wait_for_url(local_run.settings_page + "**")
    expect(page.locator(EXPORT)).to_be_disabled(timeout=15000)
    expect(page.locator("#no-features")).to_be_visible()
    expect(page.locator("#export-csv-lock")).to_contain_text("Locked")
    screenshot(page, "33-features-canceled-locked-again")
