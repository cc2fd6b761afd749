"""What the per-role journeys (test_journey_*.py) share: Debian's chromium at 1280 px in a Chinese browser, logging
in and out as a persona, the Chinese label of a choice, and full-page screenshots.

Screenshots are taken only when asked for: `JIKETONG_SCREENSHOTS=1` (or `JKT_SCREENSHOTS=1`, as the other browser
tests read it) writes `var/screenshots/<role>/NN-step.png` (`JKT_SCREENSHOT_DIR` moves the root). docs/user-guide.md
shows copies of some of them (docs/screenshots/).
"""

import os
import re
from datetime import date
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
PERIOD = date(2026, 5, 1)  # the billed month of billed_world()
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
    """A figure as written on screen, without the yuan sign, thousands separators and marks (the † of a total
    that is not the sum of its rows): '¥12,300.00' → '12300.00', '83.3%†' → '83.3%'."""
    return re.sub(r"[^\d.%-]", "", text)


def billed_world(cast):
    """The analytics tests' hand-worked billing month (May 2026, see analytics/tests/conftest.py) on the cast:
    广州地铁 ¥1,500, 天河软件园 ¥2,000 (both 天河), 越秀区人民医院 churned, 深圳福田银行 new with ¥3,000,
    杭州西湖教育集团 ¥100."""
    from jiketong.analytics.tests.conftest import PREV, YEAR_AGO, fact, make_product, month
    from jiketong.catalog.models import ProductCategory, Stickiness

    vnet = make_product("VNET", basic=True, stickiness=Stickiness.IDENTITY)
    broadband = make_product("BB", category=ProductCategory.CONNECTIVITY, basic=True)
    mas = make_product("MAS", category=ProductCategory.MESSAGING, stickiness=Stickiness.EMBEDDED)
    a, b, c, d, e = (
        cast.alice_customer,
        cast.bob_customer,
        cast.backed_up,
        cast.shenzhen_customer,
        cast.zhejiang_customer,
    )
    month(a, YEAR_AGO, 500, members=8)
    month(a, PREV, 1000, members=10, products=2)
    month(a, PERIOD, 1500, members=12, on_net=10, joined=3, left=1, products=2)
    fact(a, PERIOD, vnet, 1000, 12)
    fact(a, PERIOD, broadband, 500)
    month(b, PREV, 2000, members=9)
    month(b, PERIOD, 2000, members=10, on_net=9, joined=1, products=2)
    fact(b, PERIOD, broadband, 2000)
    month(c, PREV, 500, members=5)
    month(d, PERIOD, 3000, members=2, joined=2)
    fact(d, PERIOD, mas, 3000, 2)
    month(e, PREV, 100, members=1)
    month(e, PERIOD, 100, members=1)
    return cast
