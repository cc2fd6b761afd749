"""In Debian's chromium: the 360 page draws the key-person map (ECharts canvas) under the Content-Security-Policy."""

import os

import pytest

from jiketong.customers import services
from jiketong.tests_browser.test_csp import watch_violations
from jiketong.tests_browser.test_finish_pass import browser, log_in, open_page  # noqa: F401


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_map_is_drawn_without_a_policy_violation(live_server, cast, browser):  # noqa: F811
    add = lambda name, **f: services.contact_create(  # noqa: E731
        actor=cast.alice.user, customer=cast.alice_customer, name=name, **f
    )
    boss = add("张总", title="总经理", decision_role="decider", is_key_person=True)
    deputy = add("李处", title="信息处处长", decision_role="influencer")
    engineer = add("王工", title="工程师", decision_role="technical")
    services.contact_relation_add(actor=cast.alice.user, from_contact=deputy, to_contact=boss, kind="reports_to")
    services.contact_relation_add(actor=cast.alice.user, from_contact=engineer, to_contact=deputy, kind="reports_to")
    services.contact_relation_add(actor=cast.alice.user, from_contact=engineer, to_contact=boss, kind="influences")
    services.contact_set_counterpart(actor=cast.alice.user, contact=boss, counterpart=cast.carol)
    page = open_page(browser, locale="zh-CN")
    violations = watch_violations(page)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/customers/{cast.alice_customer.pk}/#keymap-section")
    chart = page.locator("[data-keyperson-map] canvas")
    chart.wait_for()
    assert page.locator("[data-testid=unmet-decider]").count() == 1
    if os.environ.get("JKT_SCREENSHOTS"):
        page.wait_for_timeout(1500)  # let the force layout settle
        page.locator("#keymap-section").screenshot(path=os.environ.get("JKT_SCREENSHOT_DIR", "/tmp") + "/keymap.png")
    assert violations == []
