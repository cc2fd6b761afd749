"""Figures that agree (issue 10 item 6): every export holds the table on screen, every table's rows add up to
its total (or the page says why not), and the dashboard's forecast starts where the sales pages' does."""

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.utils.translation import gettext
from openpyxl import load_workbook

from jiketong.analytics import indicators, jobs
from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.analytics.queries import indicator_table

from .conftest import P

pytestmark = pytest.mark.django_db
GROUPS = ["org", "industry", "grade"]


def export_link(html: str) -> str:
    """The href of the page's 导出 Excel button (the one the user clicks)."""
    match = re.search(r'href="([^"]+\.xlsx[^"]*)"', html)
    assert match, "no export link on the page"
    return unescape(match.group(1))


def sheet_rows(response) -> list[list]:
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def screen_rows(table) -> list[list]:
    """What the table on screen holds: its heading, each row's label and figures, and the total row."""
    heading = [str(table.by_label)] + [f"{item.name} ({indicators.UNITS[item.unit]})" for item in table.indicators]
    rows = [[str(row["label"])] + list(row["values"]) for row in table.rows]
    if table.totals:
        rows.append([gettext("Total")] + list(table.totals))
    return [heading] + rows


def same(exported: list[list], shown: list[list]) -> None:
    def norm(value):
        if value is None or value == "":
            return None
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value))
        return str(value)

    assert [[norm(v) for v in row] for row in exported] == [[norm(v) for v in row] for row in shown]


# --- exports hold what the screen shows -------------------------------------------------------------------
@pytest.mark.parametrize("by", GROUPS)
def test_the_dashboard_export_holds_the_table_on_screen(world, client_as, by):
    client = client_as(world.carol)
    page = client.get(f"/analytics/?period=2026-05&by={by}")
    link = export_link(page.content.decode())
    same(sheet_rows(client.get(link)), screen_rows(page.context["grouped"]))


@pytest.mark.parametrize(
    "query",
    [
        "section=development&by=org&period=2026-05",
        "section=churn&by=industry&period=2026-05",
        "section=revenue&by=month&start=2026-03&period=2026-05",
        "",
    ],
)
def test_the_indicator_page_export_holds_the_table_on_screen(world, client_as, query):
    client = client_as(world.erin)
    page = client.get(f"/analytics/indicators/?{query}")
    link = export_link(page.content.decode())
    same(sheet_rows(client.get(link)), screen_rows(page.context["table"]))


# --- rows add up to the total ------------------------------------------------------------------------------
def test_a_unit_with_only_churn_keeps_its_row_so_net_adds_add_up(world):
    # Guangzhou by county: 天河 keeps A and B (net 0); 越秀's only customer C churned in May (net −1).
    table = indicator_table(Calculation(world.carol.user, period=P, by="org"), ["net_adds", "churned_customers"])
    rows = {str(row["label"]): row["values"] for row in table.rows}
    assert rows["越秀区分公司"] == [-1, 1]
    assert sum(values[0] for values in rows.values()) == table.totals[0] == -1


@pytest.mark.parametrize("summarised", [False, True])
@pytest.mark.parametrize("by", GROUPS)
@pytest.mark.parametrize("persona", ["erin", "carol", "ann", "alice"])
def test_every_additive_column_adds_up_to_its_total(varied, by, persona, summarised):
    if summarised:
        jobs.daily(P)
    additive = [code for code, item in REGISTRY.items() if item.additive]
    assert {"in_service", "net_adds", "revenue", "churned_customers", "new_members"} <= set(additive)
    calc = Calculation(getattr(varied, persona).user, period=P, by=by, product="MAS")
    table = indicator_table(calc, additive)
    for i, code in enumerate(additive):
        rows = sum((row["values"][i] or 0 for row in table.rows), 0)
        assert rows == (table.totals[i] or 0), (code, by, persona)


def test_ratios_are_not_additive_and_the_table_says_their_total_is_worked_out_over_the_whole(world, client_as):
    assert not REGISTRY["customer_churn_rate"].additive and not REGISTRY["products_per_customer"].additive
    assert not REGISTRY["revenue_share"].additive  # adds up to 100%, not to the total row's 100%
    response = client_as(world.carol).get("/analytics/?period=2026-05&by=org")
    html = response.content.decode()
    assert 'data-testid="not-additive"' in html
    # Each ratio's total cell is marked, the counts' are not.
    footer = html[html.index("<tfoot") : html.index("</tfoot>")]
    assert footer.count('class="not-additive"') == sum(
        1 for item in response.context["grouped"].indicators if not item.additive
    )


# --- one definition of the forecast months -----------------------------------------------------------------
def test_the_dashboards_forecast_starts_in_the_month_my_pipeline_starts(world, client_as):
    from jiketong.sales import queries as sales

    dashboard = client_as(world.carol).get("/analytics/?period=2026-05").context["forecast"]
    mine = sales.my_pipeline(world.alice.user)["forecast"]
    assert dashboard.months[0] == mine.months[0] == sales.forecast_months(months=1)[0]
    assert sales.forecast_months(months=3) == mine.months
    assert client_as(world.carol).get("/sales/forecast/").context["by_unit"].months == mine.months
