"""A Firebase app's own local loop, in a real browser: the Firebase JS SDK from npm signs a user
up and in against the Firebase Auth emulator (firebase-tools from npm, started by the local run
in this test, offline, UI off), and billing-portal.js opens the portal with `user.getIdToken()`
and checks out with it: "Choose a plan" (`getPlans`), the stand-in's Checkout page
(`startCheckout`), and back on the Firebase page, whose first read once Firebase has restored the
user (`getBillingState`, with the address's `checkout_session`) shows the plan.

The page may reach nothing but this machine: every request to another host is refused and
recorded, so a CDN import or a call to Google would fail the test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from local.net import free_port
from tests.browser.browser_support import LocalRun, running_local_run, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.integration

PROJECT = "demo-billing-portal-browser"
PASSWORD = "correct-horse-9"
# Sign-up and sign-in are two requests to the emulator and one to the function each; on a busy
# machine that can take longer than expect()'s default 5 s.
WAIT_MS = 20_000
TEAM_MONTHLY = "Choose Acme Team, €29.00 per month"


@pytest.fixture(scope="module")
def firebase_run() -> Iterator[LocalRun]:
    """The local run in emulator mode, starting the Auth emulator itself on a free port."""
    emulator = f"127.0.0.1:{free_port()}"
    with running_local_run(
        "local-run-firebase",
        "--start-firebase-auth-emulator",
        "--firebase-auth-emulator",
        emulator,
        "--firebase-project",
        PROJECT,
    ) as run:
        yield run


@pytest.fixture
def offline_page(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page, with every request to a host other than 127.0.0.1 refused and recorded."""
    elsewhere: list[str] = []

    def only_this_machine(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    page.context.route("**/*", only_this_machine)
    yield page, elsewhere


def open_firebase_page(page: Page, run: LocalRun) -> None:
    page.goto(run.url("web", "/example/firebase.html"))
    page.wait_for_selector("body[data-ready=true]")


def credentials(page: Page, email: str) -> None:
    page.fill("#email", email)
    page.fill("#password", PASSWORD)


def header_of(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_a_user_signs_up_and_in_with_the_firebase_sdk_and_opens_the_portal_of_their_customer(
    offline_page: tuple[Page, list[str]], firebase_run: LocalRun
) -> None:
    page, elsewhere = offline_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    open_firebase_page(page, firebase_run)
    expect(page.locator("#not-configured")).to_be_hidden()

    # Sign up through the SDK (createUserWithEmailAndPassword against the emulator).
    credentials(page, "ada-firebase@example.com")
    page.click("#create-account")
    expect(page.locator("#signed-in-as")).to_have_text("ada-firebase@example.com", timeout=WAIT_MS)
    uid = page.locator("#user-id").inner_text()
    assert uid and uid != "—"
    expect(page.locator("#plan-message")).to_have_text(
        "No plan yet.", timeout=WAIT_MS
    )  # GET with the token

    # Sign out, then in again (signInWithEmailAndPassword): the same Firebase user.
    page.click("#sign-out")
    expect(page.locator("#signed-in-as")).to_have_text("Signed out", timeout=WAIT_MS)
    credentials(page, "ada-firebase@example.com")
    page.click("#sign-in")
    expect(page.locator("#signed-in-as")).to_have_text("ada-firebase@example.com", timeout=WAIT_MS)
    expect(page.locator("#user-id")).to_have_text(uid, timeout=WAIT_MS)
    screenshot(page, "firebase-01-signed-in")

    # The token the SDK hands billing-portal.js is the emulator's: unsigned, for the project.
    token = page.evaluate(
        """async () => {
            const { getAuth } = await import("firebase/auth");
            return await getAuth().currentUser.getIdToken();
        }"""
    )
    assert header_of(token) == {"alg": "none", "typ": "JWT"}
    assert token.endswith(".")

    # Manage billing: the function (emulator mode) opens the portal of this user's customer.
    page.click("#manage-billing")
    page.wait_for_url(firebase_run.url("stripe", "/p/session/**"))
    screenshot(page, "firebase-02-portal")
    mapped = firebase_run.customer_of(uid)
    assert mapped is not None, f"no Firestore mapping was written for {uid}"
    assert page.locator("#customer").inner_text() == mapped
    assert problems == [], "\n".join(problems)
    assert elsewhere == [], f"the page tried to reach other hosts: {elsewhere}"


def test_a_firebase_user_chooses_a_plan_checks_out_and_sees_it_on_the_return(
    offline_page: tuple[Page, list[str]], firebase_run: LocalRun
) -> None:
    page, elsewhere = offline_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    control = firebase_run.standin()
    # Stripe's events wait: the plan on the return comes from the return's own read, not a webhook.
    control.hold_webhooks(True)
    try:
        open_firebase_page(page, firebase_run)
        credentials(page, "grace-firebase@example.com")
        page.click("#create-account")
        expect(page.locator("#plan-message")).to_have_text("No plan yet.", timeout=WAIT_MS)
        uid = page.locator("#user-id").inner_text()

        # "Choose a plan": the stack's catalog from GET /plans (Pulumi.dev.yaml's three prices).
        options = page.locator("#plan-options button")
        expect(options).to_have_count(3, timeout=WAIT_MS)
        page.get_by_role("button", name=TEAM_MONTHLY).click()
        page.wait_for_url(firebase_run.url("stripe", "/c/pay/**"), timeout=WAIT_MS)
        session = page.locator("#session").inner_text()
        expect(page.locator("#line-items")).to_contain_text("Acme Team")
        screenshot(page, "firebase-03-checkout")

        page.click("#checkout-complete")
        page.wait_for_url(firebase_run.url("web", "/example/firebase.html") + "**")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#signed-in-as")).to_have_text(
            "grace-firebase@example.com", timeout=WAIT_MS
        )
        expect(page.locator("#plan-name")).to_have_text("Acme Team", timeout=WAIT_MS)
        expect(page.locator("#plan-message")).to_have_text("Subscribed (active).")
        expect(page.locator("#choose-plan")).to_be_hidden()
        screenshot(page, "firebase-04-returned-from-checkout")
        # getBillingState confirmed the session and took it out of the address bar.
        assert page.url == firebase_run.url("web", "/example/firebase.html"), page.url

        # The checkout and the subscription are the emulator user's customer's.
        mapped = firebase_run.customer_of(uid)
        assert mapped is not None, f"no Firestore mapping was written for {uid}"
        checkout = next(s for s in control.checkout_sessions() if s["id"] == session)
        assert (checkout["customer"], checkout["client_reference_id"]) == (mapped, uid)
        assert checkout["status"] == "complete"
        shown = page.locator("#subscription-id").inner_text()
        subscription = next(s for s in control.subscriptions() if s["id"] == shown)
        assert subscription["customer"] == mapped
        assert checkout["subscription"] == shown
        # No event was delivered: the return's read synced the plan.
        held = {delivery["type"] for delivery in control.held_webhooks()}
        assert "checkout.session.completed" in held, held
    finally:
        control.hold_webhooks(False)
        control.wait_webhooks(timeout=20)
        control.close()
    assert problems == [], "\n".join(problems)
    assert elsewhere == [], f"the page tried to reach other hosts: {elsewhere}"


def test_a_wrong_password_is_firebases_error_and_opens_nothing(
    offline_page: tuple[Page, list[str]], firebase_run: LocalRun
) -> None:
    page, elsewhere = offline_page
    open_firebase_page(page, firebase_run)
    credentials(page, "wrong-password@example.com")
    page.click("#create-account")
    expect(page.locator("#signed-in-as")).to_have_text(
        "wrong-password@example.com", timeout=WAIT_MS
    )
    page.click("#sign-out")
    page.fill("#email", "wrong-password@example.com")
    page.fill("#password", "not-the-password")
    page.click("#sign-in")
    expect(page.locator("#sign-in-error")).to_contain_text("auth/", timeout=WAIT_MS)
    expect(page.locator("#manage-billing")).to_be_disabled()
    assert elsewhere == []


def test_the_firebase_page_explains_itself_when_the_run_has_no_auth_emulator(
    page: Page, local_run: LocalRun
) -> None:
    page.goto(local_run.url("web", "/example/firebase.html"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#not-configured")).to_be_visible()
    expect(page.locator("#manage-billing")).to_be_disabled()
