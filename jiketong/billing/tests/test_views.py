import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jiketong.billing.models import CustomerMonth, ImportRun, ImportStatus, PointsLedger
from jiketong.billing.panels import customer_panel
from jiketong.org.services import token_issue

GOOD = "账期,客户编号,产品编码,收入\n202601,C001,DIA,3000\n202601,C002,DIA,1500\n"
MIXED = "账期,客户编号,产品编码,收入\n202601,C001,DIA,3000\n202601,C404,DIA,1\n"


def en(client):
    """The client as a user who picked English with the language switch (pages ignore Accept-Language)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(content: str, name: str = "facts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def api(staff):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")


# --- imports through the UI ----------------------------------------------------------------------
def test_upload_runs_in_the_background_and_shows_progress(billing, client_as):
    client = client_as(billing.erin)
    response = client.post(reverse("billing:import_new"), {"file": upload(MIXED), "kind": "facts", "mode": "good"})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("billing:import_detail", args=[run.pk])
    assert run.status == ImportStatus.PARTIALLY and run.created_by == billing.erin.user
    page = en(client).get(response.url)
    assert "Download the error report" in page.content.decode()
    # The HTMX poll gets only the status card; a finished run stops polling.
    card = en(client).get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert card.lstrip().startswith('<section class="card" id="import-status"') and "every 1s" not in card
    report = client.get(reverse("billing:import_errors", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[1][:2] == ["3", "未知的客户编号“C404”。"]


def test_a_running_import_polls_every_second(billing, client_as):
    run = ImportRun.objects.create(kind="facts", file_name="x.csv", file_path="/x.csv", status=ImportStatus.RUNNING)
    card = client_as(billing.erin).get(reverse("billing:import_detail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in card.content.decode()


def test_upload_form_errors_sit_on_the_field(billing, client_as):
    response = en(client_as(billing.frank)).post(
        reverse("billing:import_new"), {"file": upload(GOOD, "facts.txt"), "kind": "facts", "mode": "all"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["Upload a .csv or .xlsx file."]}
    assert not ImportRun.objects.exists()


def test_people_who_do_not_import_get_403_on_lists_and_404_on_runs(billing, client_as):
    run = ImportRun.objects.create(kind="facts", file_name="x.csv", file_path="/x.csv", error_path="/x.csv")
    for staff in (billing.alice, billing.carol, billing.grace):
        client = client_as(staff)
        assert client.get(reverse("billing:import_list")).status_code == 403
        assert client.get(reverse("billing:import_new")).status_code == 403
        assert client.post(reverse("billing:import_new"), {"file": upload(GOOD)}).status_code == 403
        assert client.get(reverse("billing:import_detail", args=[run.pk])).status_code == 404
        assert client.get(reverse("billing:import_errors", args=[run.pk])).status_code == 404
    assert client_as(billing.erin).get(reverse("billing:import_detail", args=[987654])).status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_import_list_queries_do_not_grow_with_rows(billing, client_as, django_assert_max_num_queries, count):
    ImportRun.objects.bulk_create(
        ImportRun(kind="facts", file_name=f"f{i}.csv", file_path="/f.csv", created_by=billing.erin.user)
        for i in range(count)
    )
    client = client_as(billing.erin)
    with django_assert_max_num_queries(10):  # 9, and one lookup of the uploaders' names (core people tag)
        response = client.get(reverse("billing:import_list"))
    assert response.status_code == 200 and len(response.context["page"].object_list) == min(count, 25)


# --- imports through the API ---------------------------------------------------------------------
def test_api_upload_status_and_errors(billing):
    client = api(billing.erin)
    response = client.post("/api/v1/billing/imports", {"file": upload(MIXED), "kind": "facts", "mode": "all"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["rows_total"], body["rows_bad"]) == ("failed", 2, 1)
    status = client.get(f"/api/v1/billing/imports/{body['id']}").json()
    assert status["errors_url"] == f"/api/v1/billing/imports/{body['id']}/errors"
    report = client.get(status["errors_url"])
    assert b"C404" in b"".join(report.streaming_content)


def test_api_refuses_bad_kind_and_non_importers(billing):
    bad = api(billing.erin).post("/api/v1/billing/imports", {"file": upload(GOOD), "kind": "nope"})
    assert bad.status_code in (400, 422) and "kind" in str(bad.json()["errors"])
    assert api(billing.alice).post("/api/v1/billing/imports", {"file": upload(GOOD)}).status_code == 403
    run = ImportRun.objects.create(kind="facts", file_name="x.csv", file_path="/x.csv")
    assert api(billing.alice).get(f"/api/v1/billing/imports/{run.pk}").status_code == 404


# --- points --------------------------------------------------------------------------------------
@pytest.fixture
def points(cast):
    for customer in (cast.alice_customer, cast.bob_customer):
        for month, balance in ((1, 101), (2, 0), (3, 6)):
            PointsLedger.objects.create(
                customer=customer, period=date(2026, month, 1), tenure_points=1, earned=balance, balance=balance,
                cumulative_spend=Decimal("1309.99"), tier="gold", arrears=month == 2,
            )  # fmt: skip
            CustomerMonth.objects.create(customer=customer, period=date(2026, month, 1), revenue=Decimal("50"))
    return cast


def test_points_statement_is_scoped(points, client_as):
    client = client_as(points.alice)
    page = en(client).get(reverse("billing:customer_points", args=[points.alice_customer.pk]))
    assert page.status_code == 200
    assert page.context["summary"].balance == 6 and len(page.context["page"].object_list) == 3
    assert "Gold" in page.content.decode()
    assert client.get(reverse("billing:customer_points", args=[points.bob_customer.pk])).status_code == 404


def test_points_api(points):
    body = api(points.alice).get(f"/api/v1/customers/{points.alice_customer.pk}/points").json()
    assert (body["balance"], body["tier"], body["cumulative_spend"]) == (6, "gold", "1309.99")
    assert [e["period"] for e in body["entries"]] == ["2026-03-01", "2026-02-01", "2026-01-01"]
    assert body["entries"][1]["arrears"] is True
    assert api(points.alice).get(f"/api/v1/customers/{points.bob_customer.pk}/points").status_code == 404


def test_customer_panel_in_four_queries(points, rf, django_assert_num_queries):
    from jiketong.org.models import staff_of

    request = rf.get("/")
    request.user = points.alice.user
    staff_of(request.user)  # the 360 page has loaded the staff record already
    # Credit grade, points summary, latest redemptions, months.
    with django_assert_num_queries(4):
        panel = customer_panel(request, points.alice_customer)
    assert panel["billing_points"].balance == 6
    assert [m.period.month for m in panel["billing_months"]] == [3, 2, 1]


def test_customer_page_shows_the_panel(points, client_as):
    page = en(client_as(points.alice)).get(reverse("customers:detail", args=[points.alice_customer.pk]))
    assert 'id="billing-panel"' in page.content.decode()


@pytest.mark.parametrize("months", [3, 30])
def test_points_statement_queries_do_not_grow_with_months(cast, client_as, django_assert_max_num_queries, months):
    PointsLedger.objects.bulk_create(
        PointsLedger(customer=cast.alice_customer, period=date(2020 + m // 12, m % 12 + 1, 1), balance=m)
        for m in range(months)
    )
    client = client_as(cast.alice)
    # Session, user, staff and roles, customer, then count, page and the balance: 8, plus the session save;
    # the redemption rule and the latest redemptions: 2 more.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("billing:customer_points", args=[cast.alice_customer.pk]))
    assert response.context["summary"].balance == months - 1
