"""The 360 page is long: a sticky nav at the top jumps to each of its sections; wide tables scroll sideways."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def page(client, customer) -> str:
    return client.get(reverse("customers:detail", args=[customer.pk])).content.decode()


def test_the_360_page_has_a_sticky_section_nav_whose_links_all_land(cast, client_as):
    html = page(client_as(cast.alice), cast.alice_customer)
    nav = html[html.index('id="section-nav"') :]
    nav = nav[: nav.index("</nav>")]
    tag_start = html.rindex("<nav", 0, html.index('id="section-nav"'))
    assert "sticky" in html[tag_start : html.index(">", tag_start)]
    targets = re.findall(r'href="#([\w-]+)"', nav)
    for section in ("profile-section", "contacts-section", "members-card", "subscriptions-section", "history-section"):
        assert section in targets
    assert all(f'id="{target}"' in html for target in targets)
    assert "客户概况" in nav and "变更记录" in nav


def test_members_and_subscriptions_tables_scroll_sideways_on_a_phone(cast, client_as):
    html = page(client_as(cast.alice), cast.alice_customer)
    for testid in ("members-table", "subscriptions-table"):
        start = html.index(f'data-testid="{testid}"')
        assert 'class="table-responsive' in html[html.rindex("<div", 0, start - 200) : start]
