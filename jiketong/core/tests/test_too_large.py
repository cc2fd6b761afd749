"""A form body larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE) answers a friendly 413 page in
the user's language, not Django's English debug page; the API keeps its JSON 413; files may be larger."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUGE_NOTE = "备注" * (5 * 1024 * 1024)  # 10 MB of text typed (or pasted) into a note


@override_settings(DEBUG=True)  # the demo runs with DEBUG: there the debug page showed
def test_a_10_mb_note_answers_a_413_page_in_chinese(cast, client_as):
    url = reverse("customers:edit", args=[cast.alice_customer.pk])
    response = client_as(cast.alice).post(url, {"name": "x", "note": HUGE_NOTE})
    assert response.status_code == 413
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "提交的内容太大" in html and "没有保存" in html
    assert "RequestDataTooBig" not in html and "Traceback" not in html


def test_the_413_page_speaks_the_language_the_user_chose(cast, client_as):
    client = client_as(cast.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("customers:edit", args=[cast.alice_customer.pk]), {"note": HUGE_NOTE})
    assert response.status_code == 413
    html = response.content.decode()
    assert "too large" in html and "Nothing was saved" in html


def test_the_api_still_answers_json_413(cast):
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.org.services import token_issue

    api = ApiClient(token_issue(user=cast.alice.user))
    response = api.post_json("/customers", {"name": "x", "note": HUGE_NOTE})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")


def test_an_uploaded_file_may_be_larger_than_the_form_limit(cast, client_as):
    """Files are not held in memory: a 3 MB attachment is judged by the attachment rules, not refused as 413."""
    from decimal import Decimal

    from jiketong.deals import services

    contract = services.contract_create(actor=cast.alice.user, customer=cast.alice_customer, start_on="2026-01-01",
                                        end_on="2026-12-31", value=Decimal("100"))  # fmt: skip
    upload = SimpleUploadedFile("合同.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024), content_type="application/pdf")
    response = client_as(cast.alice).post(reverse("deals:attachment_upload", args=[contract.pk]), {"file": upload})
    assert response.status_code == 302
