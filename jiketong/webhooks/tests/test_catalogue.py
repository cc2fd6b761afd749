"""The app's Chinese catalogue: every message translated, placeholders kept, the .mo compiled from the .po."""

import gettext
from pathlib import Path

from jiketong.core.tests.test_i18n import PLACEHOLDER, parse_po

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_is_translated_and_compiled():
    header, *entries = parse_po(LOCALE / "django.po")
    assert "fuzzy" not in header["flags"] and "Language: zh_Hans\n" in header["msgstr"]
    with open(LOCALE / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    problems = []
    for entry in entries:
        source = entry.get("msgid_plural", entry["msgid"])
        text = entry.get("msgstr[0]", entry.get("msgstr", ""))
        if "fuzzy" in entry["flags"] or not text.strip():
            problems.append(("untranslated", entry["msgid"]))
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
            problems.append(("placeholders", entry["msgid"]))
        if "msgid_plural" in entry:
            compiled = mo.ngettext(entry["msgid"], source, 2)
        elif "msgctxt" in entry:
            compiled = mo.pgettext(entry["msgctxt"], entry["msgid"])
        else:
            compiled = mo.gettext(entry["msgid"])
        if compiled != text:
            problems.append(("not compiled", entry["msgid"]))
    assert problems == []
