"""`make demo HOST=…` prints the address the server really listens on."""

from io import StringIO

import pytest
from django.core.management import call_command

from jiketong.demo.management.commands.demo import demo_url

pytestmark = pytest.mark.django_db


def test_the_printout_names_the_host_it_was_given(cast):
    out = StringIO()
    call_command("demo", if_empty=True, host="10.1.2.3:8080", stdout=out)
    assert "http://10.1.2.3:8080/" in out.getvalue()
    assert "127.0.0.1:8000" not in out.getvalue()


def test_the_printout_defaults_to_the_runserver_address(cast):
    out = StringIO()
    call_command("demo", if_empty=True, stdout=out)
    assert "http://127.0.0.1:8000/" in out.getvalue()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("8080", "http://127.0.0.1:8080/"),  # runserver's port-only form
        ("demo.example.cn:80", "http://demo.example.cn:80/"),
        ("0.0.0.0:8000", "http://0.0.0.0:8000/"),
        ("[::1]:8000", "http://[::1]:8000/"),
    ],
)
def test_demo_url_follows_runservers_address_forms(host, url):
    assert demo_url(host) == url


def test_the_readme_names_the_logins_roles_and_units_as_the_printout_does(db):
    """The README's login table and `make demo`'s printout are the two places a new user meets the roles:
    they use the UI's words (审计员, not 审计) and the units' own names."""
    import re
    from pathlib import Path

    from django.conf import settings
    from django.utils import translation

    from jiketong.demo.generator import generate

    generate(groups=20, seed=7)
    out = StringIO()
    with translation.override("zh-hans"):
        call_command("demo", if_empty=True, stdout=out)
    printed = {}
    for line in out.getvalue().splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 4 and cells[3] == "Jiketong@2026":
            printed[cells[0]] = (cells[1], cells[2])
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    logins = readme.split("演示账号（", 1)[1].split("\n\n", 2)[1]  # the table below the heading line
    table = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", logins, re.M)}
    assert printed and table == printed
    assert "| 用户名 | 角色 | 组织单元 |" in readme  # the printout's headings
