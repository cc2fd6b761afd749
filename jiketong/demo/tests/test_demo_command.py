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
