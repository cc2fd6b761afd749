"""Subtree filters for the materialised-path trees (org units, customer groups)."""

from django.db.models import Q
from treebeard.mp_tree import MP_Node

ALPHABET = MP_Node.alphabet


def subtree(path: str, field: str = "path") -> Q:
    """Rows whose `field` starts with `path`, as a range [path, next) rather than LIKE 'path%'.

    SQLite's LIKE is case-insensitive and so never uses a b-tree index on a BINARY column; a range does,
    on SQLite and PostgreSQL alike and whatever the collation (paths hold only 0-9 and A-Z).
    """
    upper = _upper_bound(path)
    q = Q(**{f"{field}__gte": path})
    return q & Q(**{f"{field}__lt": upper}) if upper else q


def _upper_bound(path: str) -> str | None:
    """The smallest string greater than every string that starts with `path` (None: no bound)."""
    for i in range(len(path) - 1, -1, -1):
        position = ALPHABET.index(path[i])
        if position + 1 < len(ALPHABET):
            return path[:i] + ALPHABET[position + 1]
    return None
