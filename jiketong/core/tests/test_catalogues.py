"""Every message the code uses has its Chinese, and one message has one Chinese everywhere.

Django merges every catalogue into one at run time (the project's jiketong/locale first, then the apps' in
INSTALLED_APPS order), so a msgid translated 职务 in one catalogue and 标题 in another shows one of them on
both pages: a word that means two things takes a context (pgettext / `{% translate "…" context "…" %}`).

The messages are read from the sources as makemessages reads them (Python calls to gettext & co., templates
through Django's own templatize), without running xgettext, so the test takes a second or two.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from jiketong.core.tests.test_i18n import PLACEHOLDER, parse_po

ROOT = Path(settings.BASE_DIR) / "jiketong"
SKIP_PARTS = {"tests", "tests_browser", "tests_scope", "migrations", "locale", "static"}
# Python: the name a call goes by → (index of the context argument or None, index of the msgid).
CALLS = {
    "gettext": (None, 0), "gettext_lazy": (None, 0), "gettext_noop": (None, 0), "_": (None, 0), "_lazy": (None, 0),
    "ngettext": (None, 0), "ngettext_lazy": (None, 0),
    "pgettext": (0, 1), "pgettext_lazy": (0, 1), "npgettext": (0, 1), "npgettext_lazy": (0, 1),
}  # fmt: skip
STRING = r"u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
TEMPLATE_CALL = re.compile(rf"\b(n?p?gettext)\(\s*({STRING}(?:\s*,\s*{STRING})*)")

Key = tuple[str | None, str]  # (msgctxt, msgid)


def _skipped(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return bool(SKIP_PARTS & set(parts)) or path.name in {"conftest.py", "testing.py"}


def catalogue_of(path: Path) -> str:
    """Where a source file's messages belong: its app's own catalogue, or the project's (jiketong/locale)."""
    first = path.relative_to(ROOT).parts[0]
    return first if first != "templates" and (ROOT / first / "locale").is_dir() else "project"


def _python_messages(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in CALLS:
            continue
        context, msgid = CALLS[name]
        args = node.args
        literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args]
        if len(args) > msgid and literal[msgid] and (context is None or literal[context]):
            yield (args[context].value if context is not None else None, args[msgid].value), node.lineno


def _template_messages(path: Path):
    text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in TEMPLATE_CALL.finditer(text):
        strings = [ast.literal_eval(s) for s in re.findall(STRING, match.group(2))]
        key = (strings[0], strings[1]) if "p" in match.group(1)[:2] else (None, strings[0])
        yield key, text.count("\n", 0, match.start()) + 1


def messages_in_code() -> dict[Key, dict[str, list[str]]]:
    """(msgctxt, msgid) → catalogue → the places that use it."""
    found: dict[Key, dict[str, list[str]]] = {}
    for pattern, reader in (("*.py", _python_messages), ("*.html", _template_messages), ("*.txt", _template_messages)):
        for path in sorted(ROOT.rglob(pattern)):
            if _skipped(path):
                continue
            for key, line in reader(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                found.setdefault(key, {}).setdefault(catalogue_of(path), []).append(where)
    return found


def catalogues() -> dict[str, dict[Key, str]]:
    """catalogue → (msgctxt, msgid) → Chinese, for the project's and every app's zh_Hans catalogue."""
    result = {}
    for po in sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        parts = po.relative_to(ROOT).parts
        name = "project" if parts[0] == "locale" else parts[0]
        result[name] = {
            (e.get("msgctxt"), e["msgid"]): e.get("msgstr", e.get("msgstr[0]", ""))
            for e in parse_po(po)[1:]
            if "fuzzy" not in e["flags"]
        }
    return result


@pytest.fixture(scope="module")
def code() -> dict[Key, dict[str, list[str]]]:
    return messages_in_code()


@pytest.fixture(scope="module")
def po() -> dict[str, dict[Key, str]]:
    return catalogues()


def test_the_reader_finds_the_messages_of_python_and_templates(code):
    assert (None, "Customer manager") in code  # org/models.py, gettext_lazy as _
    assert ("person", "name") in code  # pgettext_lazy
    # A template message with an apostrophe (templatize writes it between double quotes).
    assert any("'" in msgid for _ctx, msgid in code)
    assert len(code) > 1500


def test_every_message_in_the_code_has_its_chinese(code, po):
    """In the app's own catalogue or the project's; `appmessages <app>` / `appmessages project` add them."""
    missing = []
    for key, places in code.items():
        for catalogue, where in places.items():
            if not (po.get(catalogue, {}).get(key) or po["project"].get(key)):
                missing.append((catalogue, key, where[0]))
    assert sorted(missing, key=str) == []


def test_one_message_has_one_chinese_in_every_catalogue(po):
    """Django merges the catalogues: the same (context, msgid) translated two ways shows one of them
    everywhere. Where the English word means two things, give each meaning a context."""
    translations: dict[Key, dict[str, list[str]]] = {}
    for catalogue, entries in po.items():
        for key, chinese in entries.items():
            translations.setdefault(key, {}).setdefault(chinese, []).append(catalogue)
    conflicts = {key: seen for key, seen in translations.items() if len(seen) > 1}
    assert conflicts == {}


def test_every_catalogue_keeps_its_placeholders():
    problems = []
    for path in sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        for e in parse_po(path)[1:]:
            english = e.get("msgid_plural", e["msgid"])
            for key in (k for k in e if k.startswith("msgstr")):
                if e[key] and sorted(PLACEHOLDER.findall(e[key])) != sorted(PLACEHOLDER.findall(english)):
                    problems.append((str(path.relative_to(ROOT)), e["msgid"]))
    assert problems == []
