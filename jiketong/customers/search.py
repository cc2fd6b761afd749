"""Search text for customers: what a user may type to find one.

Users search by name, short name, USCC, customer number or pinyin — full (guangzhouditie) or initials
(gzdt). Characters with several readings (重庆 chong/zhong, 单 shan/dan, 长 chang/zhang) index every
reading's initials, so whichever the user has in mind finds the customer.
"""

import re
from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.seg import mmseg

from jiketong.core.validators import to_halfwidth

MAX_VARIANTS = 16  # initials variants per name; beyond this only single-character alternatives are kept


def normalize_query(text: str) -> str:
    return to_halfwidth(text or "").strip().lower().replace(" ", "")


def _keep(chars: str) -> list[str]:
    return [c.lower() for c in chars]


@lru_cache(maxsize=20_000)
def _char_initials(ch: str) -> tuple[str, ...]:
    """Initials of every reading of one character; cached because bulk loads ask for the same few thousand."""
    return tuple(sorted({r.lower() for r in pinyin(ch, style=Style.FIRST_LETTER, heteronym=True, errors=_keep)[0]}))


# pypinyin.seg.simpleseg.seg, with the runs of Chinese and of other characters found by one regular expression
# (the character class is pypinyin's own RE_HANS) instead of a match per character.
_HANS_CLASS = RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$")
_RUNS = re.compile(f"{_HANS_CLASS}+|(?:(?!{_HANS_CLASS}).)+", re.DOTALL)


def seg(text: str) -> list[str]:
    words: list[str] = []
    for run in _RUNS.findall(text) or [text]:
        if PHRASES_DICT and RE_HANS.match(run):
            words.extend(mmseg.seg.cut(run))
        else:
            words.append(run)
    return words


@lru_cache(maxsize=100_000)
def _word_pinyin(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin([word], errors=_keep))


def full_pinyin(text: str) -> list[str]:
    """lazy_pinyin(text), word by word through pypinyin's own segmentation with each word's reading cached:
    lazy_pinyin converts the words of that same segmentation one by one, so the answer is the same, and an
    import of 100,000 names (which share most of their words: 有限公司, 科技, 广州) reads each word once. A run
    without Chinese characters (a number, Latin letters) is kept as it is, character by character, as
    lazy_pinyin keeps it with `errors=_keep`, and is not cached (it is often unique to one name)."""
    syllables: list[str] = []
    for word in seg(text):
        syllables.extend(_word_pinyin(word) if RE_HANS.match(word) else _keep(word))
    return syllables


def initials_variants(text: str, syllables: list[str] | None = None) -> list[str]:
    """Every plausible string of pinyin initials for `text`, the phrase-aware reading first."""
    text = "".join(text.split())
    syllables = syllables if syllables is not None else full_pinyin(text)
    default = "".join(s[:1] for s in syllables).lower()
    # Character by character: for a known phrase pypinyin would return only the phrase's reading.
    choices = [_char_initials(ch) for ch in text]
    variants = {default}
    count = 1
    for c in choices:
        count *= len(c)
    if count <= MAX_VARIANTS:
        variants.update("".join(combo) for combo in product(*choices))
    elif len(choices) == len(default):
        # Too many combinations: vary one character at a time around the default reading.
        for i, options in enumerate(choices):
            for option in options:
                variants.add(default[:i] + option + default[i + 1 :])
    variants.discard(default)
    return [default, *sorted(variants)]


def build_search_text(*, name: str, short_name: str = "", number: str | None = "", uscc: str | None = "") -> str:
    parts = [normalize_query(name), normalize_query(short_name), (number or "").lower(), (uscc or "").lower()]
    for text in filter(None, (name, short_name)):
        syllables = full_pinyin("".join(text.split()))
        parts.append("".join(syllables).lower())
        parts.extend(initials_variants(text, syllables))
    return " ".join(dict.fromkeys(p for p in parts if p))
