"""The UI is Chinese-first with English switchable, and the catalogue is complete and compiled.

The autouse `english` fixture (jiketong/conftest.py) only governs code called straight from a test; pages
requested through the test client get 简体中文 unless the language cookie (the language switch) says otherwise,
whatever Accept-Language says; the API follows Accept-Language (core.middleware.LanguageMiddleware).
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from jiketong import testing
from jiketong.api.tests.conftest import API, ApiClient
from jiketong.customers.models import Customer
from jiketong.customers.tests.test_views import customer_post
from jiketong.org.services import token_issue

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|\{[^{}]*\}")


def bad_check_digit(uscc: str) -> str:
    return uscc[:17] + ("0" if uscc[-1] != "0" else "1")


# --- pages ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "密码" in html and "登录" in html
    assert "Username" not in html and "Log in" not in html
    # Each language is offered under its own name, not "英语".
    assert 'lang="en">English</button>' in html and "英语" not in html


@pytest.mark.django_db
def test_customer_list_is_chinese_by_default(cast, client_as):
    html = client_as(cast.alice).get(reverse("customers:list")).content.decode()
    assert "集团客户" in html and "搜索" in html and "客户经理" in html and "导出 Excel" in html
    assert "Search" not in html and "Export to Excel" not in html
    assert "广州地铁集团有限公司" in html


@pytest.mark.django_db
def test_switching_to_english_via_setlang(cast, client_as):
    client = client_as(cast.alice)
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("customers:list")})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    html = client.get(reverse("customers:list")).content.decode()
    assert '<html lang="en">' in html
    assert "Group customers" in html and "Search" in html and "Export to Excel" in html
    assert "搜索" not in html
    # …and back.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "搜索" in client.get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "en", "*"])
def test_pages_are_chinese_whatever_the_browser_asks_for(cast, client_as, accept):
    """README: 简体中文 by default. An en-US browser still gets Chinese until its user picks English."""
    client = client_as(cast.alice)
    html = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert '<html lang="zh-hans">' in html and "搜索" in html and "Search" not in html
    html = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert "用户名" in html and "Username" not in html


@pytest.mark.django_db
def test_the_language_a_user_picks_is_remembered_across_visits(cast, client_as):
    client = client_as(cast.alice)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 365 * 24 * 3600  # kept when the browser closes
    html = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Search" in html and "搜索" not in html


@pytest.mark.django_db
def test_api_still_answers_in_the_language_of_accept_language(cast):
    """docs/api.md: API messages follow Accept-Language (integrations pick their language per request)."""
    response = ApiClient(token_issue(user=cast.alice.user)).api_get("/customers/999999")
    assert response.status_code == 404
    assert response["Content-Language"] == "en"


@pytest.mark.django_db
def test_bad_uscc_check_digit_reaches_the_customer_form_in_chinese(cast, client_as):
    uscc = testing.make_uscc("440106")
    data = customer_post(None, cast.org["440106"], uscc=bad_check_digit(uscc))
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"校验位错误：最后一位应为{uscc[-1]}，而不是{bad_check_digit(uscc)[-1]}。" in html
    assert "check digit" not in html
    assert not Customer.objects.filter(name="新开客户有限公司").exists()


@pytest.mark.django_db
def test_api_errors_follow_accept_language_and_default_to_chinese(cast):
    uscc = testing.make_uscc("440106")
    body = {
        "name": "广州白云机场股份有限公司",
        "type": "enterprise",
        "industry": "transport",
        "org_unit": cast.org["440106"].pk,
        "uscc": bad_check_digit(uscc),
    }
    token = token_issue(user=cast.alice.user)
    expected_zh = f"校验位错误：最后一位应为{uscc[-1]}，而不是{bad_check_digit(uscc)[-1]}。"
    expected_en = f"The check digit is wrong: the last character should be {uscc[-1]}, not {bad_check_digit(uscc)[-1]}."

    chinese = ApiClient(token)
    chinese.defaults.pop("HTTP_ACCEPT_LANGUAGE")  # no Accept-Language at all: the default language
    response = chinese.post_json("/customers", body)
    assert response.status_code == 400
    assert response.json()["errors"]["uscc"] == [expected_zh]

    response = ApiClient(token).post_json("/customers", body)
    assert response.status_code == 400
    assert response.json()["errors"]["uscc"] == [expected_en]


@pytest.mark.django_db
def test_api_auth_error_is_chinese_without_accept_language(client):
    response = client.get(f"{API}/customers")
    assert response.status_code == 401
    assert response.json()["detail"] == "需要认证：请提供有效的 Bearer 令牌。"


# --- the catalogue -------------------------------------------------------------------------------------
def parse_po(path: Path) -> list[dict]:
    """A tiny .po reader: each entry's flags, msgid, msgid_plural and msgstr / msgstr[n]."""
    entries, entry, key = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> tuple[dict, list[dict]]:
    entries = parse_po(LOCALE_DIR / "django.po")
    return entries[0], entries[1:]


def test_catalogue_header(catalogue):
    header, _ = catalogue
    assert header["msgid"] == ""
    assert "Language: zh_Hans\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header["msgstr"]
    assert "fuzzy" not in header["flags"]


def test_every_message_is_translated_and_keeps_its_placeholders(catalogue):
    _, entries = catalogue
    assert len(entries) > 400
    problems = []
    for e in entries:
        translations = [v for k, v in e.items() if k.startswith("msgstr")]
        if "fuzzy" in e["flags"]:
            problems.append(("fuzzy", e["msgid"]))
        if "msgid_plural" in e and set(k for k in e if k.startswith("msgstr")) != {"msgstr[0]"}:
            problems.append(("plural forms", e["msgid"]))
        for t in translations:
            if not t.strip():
                problems.append(("empty", e["msgid"]))
            elif sorted(PLACEHOLDER.findall(t)) != sorted(PLACEHOLDER.findall(e.get("msgid_plural", e["msgid"]))):
                problems.append(("placeholders", e["msgid"]))
    assert problems == []


def test_compiled_catalogue_matches_the_po(catalogue):
    """The .mo is in git (CI has no gettext): it must be compiled from the current .po."""
    _, entries = catalogue
    with open(LOCALE_DIR / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for e in entries:
        if "msgid_plural" in e:
            assert mo.ngettext(e["msgid"], e["msgid_plural"], 2) == e["msgstr[0]"], e["msgid"]
        elif "msgctxt" in e:
            assert mo.pgettext(e["msgctxt"], e["msgid"]) == e["msgstr"], e["msgid"]
        else:
            assert mo.gettext(e["msgid"]) == e["msgstr"], e["msgid"]
