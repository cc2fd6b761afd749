"""Reads of HQ's national pages. National data is HQ's: an administrator or an HQ-level analyst, supervisor
or auditor reads it; nobody else (decision 1101). Every page reads precomputed figures (decision 1102)."""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import MEASURES, GroupContact, GroupUnit, NationalGroup, NationalTally, Province, ProvinceMonth, UnitMonth


def can_read_national(user) -> bool:
    from jiketong.org.models import Role, staff_of

    if user.is_superuser:
        return True
    staff = staff_of(user)
    if staff is None or not staff.is_active:
        return False
    return Role.ADMIN in staff.role_codes or bool(staff.role_codes & Role.SUBTREE_ROLES and staff.org_unit.is_root())


def can_direct(user) -> bool:
    """Sets HQ's directives to the provinces: an HQ-level analyst or an administrator (decision 1103)."""
    from jiketong.org.models import Role, can

    return can_read_national(user) and can(user, {Role.ADMIN, Role.ANALYST})


def directives_page() -> dict:
    """What the 下达 page lists: the latest directives, the national catalog, the HQ discount rules."""
    from .models import Directive, NationalCatalogEntry, NationalDiscountRule

    names = province_names()
    latest = list(Directive.objects.order_by("-pk")[:50])
    for directive in latest:
        directive.province_name = names.get(directive.province, directive.province)
    from jiketong.catalog.models import ProductCategory

    rules = list(NationalDiscountRule.objects.order_by("category"))
    categories = dict(ProductCategory.choices)
    for rule in rules:
        rule.category_name = categories.get(rule.category, rule.category)
    return {
        "latest": latest,
        "catalog": list(NationalCatalogEntry.objects.order_by("kind", "code")[:500]),
        "rules": rules,
    }


def require_national(user) -> None:
    if not can_read_national(user):
        raise PermissionDenied(_("National pages are for HQ."))


def province_names() -> dict[str, str]:
    return dict(Province.objects.values_list("code", "name"))


def groups(search: str = "", national_only: bool = False):
    lead_name = Province.objects.filter(code=OuterRef("account__lead_province")).values("name")[:1]
    rows = (
        NationalGroup.objects.select_related("account")
        .annotate(lead_name=Subquery(lead_name))
        .order_by("-revenue_12m", "pk")
    )
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(uscc=search.upper()) | Q(group_code=search))
    if national_only:
        rows = rows.filter(is_national=True)
    return rows


def group_360(group: NationalGroup) -> dict:
    """A national group assembled from the provinces: units per province, months per province, open risks."""
    names = province_names()
    units = list(GroupUnit.objects.filter(group=group).order_by("province", "-is_head", "name"))
    by_province: dict[str, list] = {}
    for unit in units:
        by_province.setdefault(unit.province, []).append(unit)
    months = (
        UnitMonth.objects.filter(group=group)
        .values("province", "period")
        .annotate(revenue=Sum("revenue"), members=Sum("members"))
        .order_by("-period", "province")[:240]
    )
    return {
        "provinces": [
            {
                "code": code,
                "name": names.get(code, code),
                "units": rows,
                "owners": sorted({unit.owner_name for unit in rows if unit.owner_name}),
            }
            for code, rows in by_province.items()
        ],
        "months": [{**row, "province_name": names.get(row["province"], row["province"])} for row in months],
        "risks": [unit for unit in units if unit.at_risk or unit.status == "at_risk"],
        "contacts": [
            {
                "name": contact.name,
                "title": contact.title,
                "province_name": names.get(contact.province, contact.province),
            }
            for contact in GroupContact.objects.filter(group=group).order_by("province", "name")[:100]
        ],
        "account": getattr(group, "account", None),
        "lead_name": names.get(getattr(getattr(group, "account", None), "lead_province", ""), ""),
    }


def periods() -> list[date]:
    return list(ProvinceMonth.objects.order_by("-period").values_list("period", flat=True).distinct()[:36])


def national_indicators(period: date | None) -> dict:
    """Each province's month (its cells added up when they arrived) and the nation's total; 全国性集团客户
    counted once nationally (a group with units in several provinces is one customer). Three queries however
    many provinces and groups: the counts are kept as batches arrive (services.national_counts_refresh)."""
    provinces = {
        code: (name, national)
        for code, name, national in Province.objects.values_list("code", "name", "national_groups")
    }
    rows = list(ProvinceMonth.objects.filter(period=period).order_by("province")) if period else []
    total = {name: sum(getattr(row, name) for row in rows) for name in MEASURES}
    tally = NationalTally.objects.filter(pk=1).values_list("national_groups", flat=True).first()
    return {
        "rows": [
            {
                "code": row.province,
                "name": provinces.get(row.province, (row.province, 0))[0],
                "row": row,
                "national": provinces.get(row.province, (row.province, 0))[1],
            }
            for row in rows
        ],
        "total": total,
        "national_total": tally or 0,
    }


def freshness() -> list[dict]:
    now = timezone.now()
    return [
        {
            "province": province,
            "lag": (now - province.last_batch_at) if province.last_batch_at else None,
            "stale": province.last_batch_at is None or (now - province.last_batch_at).total_seconds() > 3 * 3600,
        }
        for province in Province.objects.order_by("code")
    ]
