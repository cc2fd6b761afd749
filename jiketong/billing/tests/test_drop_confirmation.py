"""A good-rows import that would replace a month with far fewer rows stops and asks its uploader."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from jiketong import testing
from jiketong.billing import services
from jiketong.billing.models import ImportRun, ImportStatus
from jiketong.core.models import AuditAction, AuditEvent, Event
from jiketong.org.models import Role

from .test_imports import BAD, FEB, JAN, facts, run
from .test_views import api, en

# January held: 3 rows. This file's good rows: 1 for January (the rest are bad), February's 3 as they are.
SHRINKING = BAD + FEB


def january() -> list[tuple]:
    return [row for row in facts() if row[0] == date(2026, 1, 1)]


@pytest.fixture
def held(billing, write_csv):
    """January and February loaded, three rows each."""
    run(billing, write_csv(JAN + FEB, name="held.csv"))
    billing.held = facts()
    return billing


def test_good_rows_that_would_leave_a_month_under_half_its_rows_stop_before_replacing(held, write_csv):
    result = run(held, write_csv(SHRINKING), mode="good")
    assert result.status == ImportStatus.CONFIRM and result.is_done
    assert "2026-01: 1 rows in the file, 3 held now" in result.message and "2026-02" not in result.message
    assert "less than 50% of the rows they hold" in result.message
    assert facts() == held.held  # nothing replaced
    assert (result.rows_ok, result.rows_bad, result.periods) == (0, 10, [])
    assert result.error_path  # the bad rows are already reported: the uploader sees why so few are good
    assert not Event.objects.filter(name="billing.period_replaced", payload__import_run=result.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT, target_id=result.pk).exists()


def test_confirming_reads_the_file_again_and_replaces_the_months(held, write_csv):
    waiting = run(held, write_csv(SHRINKING), mode="good")
    confirmed = services.import_confirm_drop(actor=held.erin.user, run_id=waiting.pk)  # the task runs inline here
    confirmed.refresh_from_db()
    assert confirmed.status == ImportStatus.PARTIALLY and confirmed.drop_confirmed
    assert (confirmed.rows_total, confirmed.rows_ok, confirmed.rows_bad) == (14, 4, 10)
    assert confirmed.periods == ["2026-01", "2026-02"]
    assert len(january()) == 1
    decided = AuditEvent.objects.get(action=AuditAction.STATUS, target_id=waiting.pk)
    assert decided.actor == held.erin.user and decided.after == {"status": "queued", "drop_confirmed": True}
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, target_id=waiting.pk).count() == 1


def test_cancelling_replaces_nothing_and_ends_the_run(held, write_csv):
    waiting = run(held, write_csv(SHRINKING), mode="good")
    cancelled = services.import_cancel(actor=held.erin.user, run_id=waiting.pk)
    assert cancelled.status == ImportStatus.CANCELLED and cancelled.finished_at and cancelled.is_done
    assert facts() == held.held
    with pytest.raises(services.NotAwaiting):
        services.import_confirm_drop(actor=held.erin.user, run_id=waiting.pk)
    assert AuditEvent.objects.get(action=AuditAction.STATUS, target_id=waiting.pk).after == {"status": "cancelled"}


def test_a_month_keeping_half_its_rows_or_a_month_not_held_yet_does_not_ask(held, write_csv):
    # January 3 → 2 (one bad row left out); March is new.
    rows = [*JAN[:2], ("202601", "C404", "DIA", "1", "0", "是"), ("202603", "C001", "DIA", "1", "0", "是")]
    result = run(held, write_csv(rows), mode="good")
    assert result.status == ImportStatus.PARTIALLY, result.message
    assert len(january()) == 2


def test_all_or_nothing_imports_never_ask(held, write_csv):
    # A complete file is what the month is: a corrected January of one row replaces three.
    result = run(held, write_csv(JAN[:1]))
    assert result.status == ImportStatus.SUCCEEDED and len(january()) == 1


def test_the_drop_allowed_is_a_setting(held, write_csv, settings):
    settings.BILLING_MAX_DROP = 0.8  # January 3 → 1 keeps 33 %, above the 20 % now required
    assert run(held, write_csv(SHRINKING), mode="good").status == ImportStatus.PARTIALLY
    settings.BILLING_MAX_DROP = 0.2  # 1 → 1 is fine; a month of 3 rows may now only go down to 3 × 80 %
    run(held, write_csv(JAN + FEB, name="again.csv"))
    shrunk = run(held, write_csv([*JAN[:2], ("202601", "C404", "DIA", "1", "0", "是")]), mode="good")
    assert shrunk.status == ImportStatus.CONFIRM and "less than 80%" in shrunk.message


def test_only_the_uploader_or_an_administrator_decides(held, write_csv):
    waiting = run(held, write_csv(SHRINKING), mode="good")
    other_analyst = testing.make_staff("hank", held.org["100000"], [Role.ANALYST])
    for staff in (held.alice, held.grace, other_analyst):
        with pytest.raises(PermissionDenied):
            services.import_cancel(actor=staff.user, run_id=waiting.pk)
    assert services.import_cancel(actor=held.frank.user, run_id=waiting.pk).status == ImportStatus.CANCELLED


def test_the_command_line_stops_without_confirm_drop_and_replaces_with_it(held, write_csv):
    path = str(write_csv(SHRINKING))
    with pytest.raises(CommandError, match=r"2026-01: 1 rows in the file, 3 held now.*\(--confirm-drop\)"):
        call_command("billing", "import", path, "--mode", "good", "--user", "erin")
    assert facts() == held.held
    call_command("billing", "import", path, "--mode", "good", "--confirm-drop", "--user", "erin")
    assert len(january()) == 1


def test_the_progress_page_offers_the_uploader_to_confirm_or_cancel(held, write_csv, client_as):
    with translation.override("zh-hans"):  # the uploader's language writes the run's messages
        waiting = run(held, write_csv(SHRINKING), mode="good")
    url = reverse("billing:import_detail", args=[waiting.pk])
    page = client_as(held.erin).get(url).content.decode()
    assert "待确认" in page and "仍然替换这些账期" in page and "取消导入" in page and "every 1s" not in page
    assert "2026-01：文件中 1 行，现有 3 行" in page and "不足现有行数的 50%" in page
    hank = testing.make_staff("hank", held.org["100000"], [Role.ANALYST])
    assert "仍然替换这些账期" not in client_as(hank).get(url).content.decode()
    assert client_as(hank).post(reverse("billing:import_confirm", args=[waiting.pk])).status_code == 403
    response = client_as(held.erin).post(reverse("billing:import_confirm", args=[waiting.pk]))
    assert response.status_code == 302 and response.url == url
    assert ImportRun.objects.get(pk=waiting.pk).status == ImportStatus.PARTIALLY and len(january()) == 1
    # Deciding again: said on the page, nothing changes.
    again = en(client_as(held.erin)).post(reverse("billing:import_cancel", args=[waiting.pk]), follow=True)
    assert "This import is not waiting for a confirmation." in again.content.decode()
    assert ImportRun.objects.get(pk=waiting.pk).status == ImportStatus.PARTIALLY


def test_the_page_cancel_button(held, write_csv, client_as):
    waiting = run(held, write_csv(SHRINKING), mode="good")
    client_as(held.erin).post(reverse("billing:import_cancel", args=[waiting.pk]))
    assert ImportRun.objects.get(pk=waiting.pk).status == ImportStatus.CANCELLED and facts() == held.held


def test_api_confirm_drop_on_upload_and_confirm_and_cancel_endpoints(held, write_csv):
    client = api(held.erin)
    content = write_csv(SHRINKING).read_bytes()

    def upload(**fields):
        file = SimpleUploadedFile("f.csv", content, content_type="text/csv")
        return client.post("/api/v1/billing/imports", {"file": file, "kind": "facts", "mode": "good", **fields})

    waiting = upload().json()
    assert waiting["status"] == "confirm" and "2026-01" in waiting["message"] and waiting["drop_confirmed"] is False
    assert facts() == held.held
    confirmed = client.post(f"/api/v1/billing/imports/{waiting['id']}/confirm")
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "partially" and len(january()) == 1
    again = client.post(f"/api/v1/billing/imports/{waiting['id']}/confirm")
    assert again.status_code == 409 and again.json()["detail"] == "本次导入不在待确认状态。"
    run(held, write_csv(JAN + FEB, name="back.csv"))
    second = upload().json()
    assert api(held.alice).post(f"/api/v1/billing/imports/{second['id']}/cancel").status_code == 404
    cancelled = client.post(f"/api/v1/billing/imports/{second['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    agreed = upload(confirm_drop="true").json()
    assert (agreed["status"], agreed["drop_confirmed"]) == ("partially", True)
