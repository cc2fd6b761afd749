"""Browser fixtures for the per-role journeys (see journeys.py); the older browser tests keep their own."""

import os

import pytest
from playwright import sync_api

from jiketong.tests_browser.journeys import CHROMIUM, CHROMIUM_ARGS, HEIGHT, WIDTH, Journey


@pytest.fixture
def journey(live_server):
    """`journey("manager")` → a fresh Chinese browser tab at 1280 px on the live server, named for its screenshots."""
    # No skip: a browser test that quietly does not run would hide a broken UI. .ci/run installs chromium.
    assert os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def start(role: str, *, accept_downloads: bool = False) -> Journey:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", accept_downloads=accept_downloads
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            return Journey(page, live_server.url, role)

        yield start
        browser.close()
