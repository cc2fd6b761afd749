"""Counting a list that grows with the scope (decision 0605): up to a cap, so a page costs the same for a county
and for HQ. One helper for the pages (CappedPaginator) and the API (api.base.Page)."""

from functools import cached_property

from django.core.paginator import Paginator

LIST_COUNT_CAP = 10_000


def capped_count(queryset, cap: int = LIST_COUNT_CAP) -> tuple[int, bool]:
    """(rows, up to `cap`; whether there are more): one query that counts one row past the cap."""
    counted = queryset.order_by()[: cap + 1].count()
    return min(counted, cap), counted > cap


class CappedPaginator(Paginator):
    """Pages of a long list counted up to a cap; `capped` says there are more. Lists are biggest or newest
    first: what lies past the cap is in the export."""

    def __init__(self, object_list, per_page, cap: int = LIST_COUNT_CAP):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @cached_property
    def capped(self) -> bool:
        return self._counted[1]
