"""Words a service stores for people to read later (audit notes, grade reasons) are kept as the message and
its values, not as text in the writer's language, and are translated when shown, in the reader's language.
Otherwise what a job, an import or an English-UI user wrote reads in English to everyone else.

    record(..., note=stored(gettext_noop("%(n)d members added"), n=3))      # writes the message
    readable(event.note)                                                 # "已添加 3 名成员" for a Chinese reader

Text a person typed (a handover note, a grade reason) is stored as typed and `readable` returns it unchanged.
"""

import json

from django.utils.translation import gettext

MARK = "msg:"  # what a stored message starts with; typed text is refused nothing, it simply doesn't parse


def stored(msgid: str, **params) -> str:
    """The message `msgid` (marked with gettext_noop so makemessages finds it) with its values, to store."""
    return MARK + json.dumps([msgid, params] if params else [msgid], ensure_ascii=False, separators=(",", ":"))


def readable(text: str) -> str:
    """A stored message in the active language; any other text as it is."""
    if not text or not text.startswith(MARK):
        return text
    try:
        msgid, *rest = json.loads(text[len(MARK) :])
        words = gettext(msgid)
        return words % rest[0] if rest else words
    except (ValueError, TypeError, KeyError):
        return text
