"""What the per-role journeys (test_journey_*.py) share: Debian's chromium at 1280 px in a Chinese browser, logging
in and out as a persona, the Chinese label of a choice, and full-page screenshots.

Screenshots are taken only when asked for: `JIKETONG_SCREENSHOTS=1` (or `JKT_SCREENSHOTS=1`, as the other browser
tests read it) writes `var/screenshots/<role>/NN-step.png` (`JKT_SCREENSHOT_DIR` moves the root). docs/user-guide.md
shows copies of some of them (docs/screenshots/).
"""

import os
import re
from pathlib import Path

from django.utils import translation
from playwright import sync_api

from jiketong import testing

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one
# unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTH, HEIGHT = 1280, 900
expect = sync_api.expect


def screenshots_on() -> bool:
    return bool(os.environ.get("JIKETONG_SCREENSHOTS") or os.environ.get("JKT_SCREENSHOTS"))


def screenshot_root() -> Path:
    return Path(os.environ.get("JKT_SCREENSHOT_DIR", "var/screenshots"))


def zh(label) -> str:
    """A label as the (Chinese) UI shows it, from the same catalogue the page uses."""
    with translation.override("zh-hans"):
        return str(label)


class Journey:
    """One persona's browser tab on the live server, numbering its screenshots as it goes."""

    def __init__(self, page: sync_api.Page, base: str, role: str):
        self.page, self.base, self.role = page, base, role
        self.step = 0

    def go(self, path: str) -> sync_api.Response | None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        return response

    def log_in(self, username: str, name: str) -> None:
        page = self.page
        page.goto(f"{self.base}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", testing.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base}/")
        expect(page.locator("[data-testid=whoami]")).to_contain_text(name)

    def log_out(self) -> None:
        self.page.click("form[action='/accounts/logout/'] button[type=submit]")
        self.page.wait_for_url(re.compile(r"/accounts/login/"))

    def menu(self, href: str) -> None:
        """Open a page from the sidebar, as a person would, and check the sidebar lights that one item."""
        self.page.click(f"#sidebar a.nav-link[href='{href}']")
        self.page.wait_for_url(re.compile(re.escape(href) + r"(\?.*)?$"))
        expect(self.page.locator("#sidebar a.nav-link.active")).to_have_count(1)

    def api(self, path: str) -> dict | list:
        """The same figure through the REST API, with the browser's own session (django_auth)."""
        response = self.page.request.get(self.base + "/api/v1" + path)
        assert response.ok, (path, response.status, response.text()[:300])
        return response.json()

    def shot(self, name: str) -> None:
        """`var/screenshots/<role>/NN-name.png`, full page, when screenshots are switched on."""
        self.step += 1
        if not screenshots_on():
            return
        folder = screenshot_root() / self.role
        folder.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(folder / f"{self.step:02d}-{name}.png"), full_page=True)


def main_text(page: sync_api.Page) -> str:
    return page.locator("main").inner_text()


def number(text: str) -> str:
    """A figure as written on screen, without thousands separators and the yuan sign: '¥12,300.00' → '12300.00'."""
    return re.sub(r"[¥,\s]", "", text)
