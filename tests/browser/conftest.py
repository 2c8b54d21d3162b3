"""A headless Chromium (Debian's, through Playwright) against the local stack of tests/e2e.

Without Chromium the browser tests fail on CI (``CI=true``: none may be skipped there) and skip
elsewhere, each with the reason and how to install it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.chromium import CHROMIUM, MISSING, launch
from tests.e2e.conftest import RunningStack, stack  # noqa: F401 - the same local-stack fixture

pytestmark = pytest.mark.e2e
# Processing three images on two busy cores takes a few seconds; every expectation waits this long.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page of the media browser and the key of a tenant of its own."""

    page: Page
    key: str
    api_url: str
    errors: list[str]

    def sign_in(self, key: str | None = None) -> None:
        """Sign in with the key, waiting for the library unless the key is another (a wrong one)."""
        self.page.get_by_label("API key").fill(key or self.key)
        self.page.get_by_role("button", name="Sign in").click()
        if key is None:
            expect(self.page.get_by_role("region", name="Library")).to_be_visible()
            expect(self.page.locator("#list-status")).not_to_have_text("Loading…")


@pytest.fixture
def visit(browser: Browser, stack: RunningStack) -> Iterator[Visit]:  # noqa: F811 - the imported fixture
    key = stack.new_key(f"web-{uuid.uuid4().hex[:10]}")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api_url}/")
    yield Visit(page, key, stack.api_url, errors)
    context.close()
    assert errors == [], f"the page raised: {errors}"
