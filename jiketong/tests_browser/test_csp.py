"""In Debian's chromium: every menu page, as each role, runs under the Content-Security-Policy (no inline scripts)
with no violation, and the behaviours that used to be inline handlers still work."""

import pytest
from playwright import sync_api

from jiketong.core.registry import nav_items
from jiketong.tests_browser.test_finish_pass import a_day_of_changes, browser, log_in, open_page  # noqa: F401

ROLES = ["alice", "carol", "erin", "frank", "grace"]


def watch_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return seen


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_menu_page_runs_under_the_policy_for_every_role(live_server, cast, browser):  # noqa: F811
    from django.urls import reverse

    a_day_of_changes(cast)
    personas = {"alice": cast.alice, "carol": cast.carol, "erin": cast.erin, "frank": cast.frank, "grace": cast.grace}
    visited = 0
    for username in ROLES:
        page = open_page(browser, locale="zh-CN")
        violations = watch_violations(page)
        log_in(page, live_server.url, username)
        urls = [reverse(item.url_name) for item in nav_items(personas[username].user)]
        urls += [f"/customers/{cast.alice_customer.pk}/"] if username in ("alice", "carol") else []
        for url in urls:
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, url
            assert response.headers["content-security-policy"].startswith("default-src 'self'"), url
            page.wait_for_load_state("networkidle")
            visited += 1
        assert violations == [], (username, violations)
        page.context.close()
    assert visited > 40


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_language_switch_and_a_filter_bar_work_without_inline_handlers(live_server, cast, browser):  # noqa: F811
    a_day_of_changes(cast)
    page = open_page(browser, locale="zh-CN")
    violations = watch_violations(page)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/sales/leads/")
    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    sync_api.expect(page.locator("html")).to_have_attribute("lang", "en")
    status = page.locator("form[data-refilter] select").first
    with page.expect_response(lambda r: "/sales/leads/" in r.url and r.request.headers.get("hx-request") == "true"):
        status.select_option(index=1)
    assert violations == []
