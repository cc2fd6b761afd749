"""Organisation names as a duplicate check compares them (normalise_org_name): a lead against the customers and
the open leads (sales), a customer file's rows against the archive (customers). Pure text, no app's data."""

import unicodedata

# Legal-form and organisational suffixes that do not tell two organisations apart; longest first, so that
# 股份有限公司 goes before 有限公司. Stripped repeatedly: 某某集团有限公司 → 某某集团 → 某某.
ORG_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "有限公司",
        "集团公司",
        "分公司",
        "总公司",
        "子公司",
        "公司",
        "集团",
        "股份",
        "有限",
        "co.,ltd.",
        "co.,ltd",
        "co.ltd",
        "ltd.",
        "ltd",
        "limited",
        "inc.",
        "inc",
        "corp.",
        "corp",
        "group",
    ],
    key=len,
    reverse=True,
)
_DROP = {"Zs", "Cc", "Pd", "Po", "Ps", "Pe"}  # spaces, controls, dashes and punctuation incl. brackets
_SUFFIX_ENDINGS = tuple(ORG_SUFFIXES)


class _DropTable(dict):
    """str.translate table that deletes the _DROP characters (but "." and ","), filled as characters are met:
    the import normalises every name of a file, and a category lookup per character per name added up."""

    def __missing__(self, point: int) -> int | None:
        ch = chr(point)
        value = None if unicodedata.category(ch) in _DROP and ch not in ".," else point
        self[point] = value
        return value


_DROP_TABLE = _DropTable()


def normalise_org_name(name: str) -> str:
    """The part of an organisation's name that identifies it, for duplicate checks.

    Full-width forms become half-width, case and spacing and punctuation go, and legal-form suffixes
    (有限公司, 股份有限公司, 集团, Co., Ltd. …) are stripped, so that 广州 某某科技有限公司 and 广州某某科技股份有限公司
    compare equal. A name that is nothing but a suffix is kept as it is rather than emptied.
    """
    key = unicodedata.normalize("NFKC", name or "").lower().translate(_DROP_TABLE)
    while key.endswith(_SUFFIX_ENDINGS):
        for suffix in ORG_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)].rstrip(".,")
                break
        else:
            break
    return key.strip(".,")
