"""Fixtures for the browser tests: one `python -m local.run` and one headless Chromium per session.

The browser is Debian's `chromium` (tools/install-browser.sh installs it), driven by Playwright
for Python; Playwright's own browser download is never used. A missing browser fails the tests
with the command to run, it never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LocalRun,
    require_chromium,
    running_local_run,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def local_run() -> Iterator[LocalRun]:
    """`python -m local.run` on free ports, started once; stopped (whole group) at the end."""
    with running_local_run("local-run") as run:
        yield run


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright, shared by the session."""
    require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is not installed; run `make setup` "
            "(it installs requirements-dev.txt).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, no session storage) and page for each test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
