"""Writes of the two-level system: HQ receiving a province's batch and setting national directives; a province
sharing a group and applying HQ's directives through its own services. All audited (decision 1101)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticError

from jiketong.core.audit import record
from jiketong.core.models import AuditAction

from .models import (
    MEASURES,
    CatalogItemKind,
    Directive,
    DirectiveKind,
    GroupContact,
    GroupUnit,
    IndicatorCell,
    Kind,
    NationalAccount,
    NationalAssignment,
    NationalCatalogEntry,
    NationalDiscountRule,
    NationalGroup,
    NationalTally,
    NationalTarget,
    Province,
    ProvinceMonth,
    SharedGroup,
    UnitMonth,
)
from .schemas import (
    PAYLOADS,
    AccountDirective,
    DiscountDirective,
    PackageDirective,
    ProductDirective,
    TargetDirective,
    Tombstone,
)

NATIONAL_REVENUE = Decimal("1000000")  # DOMAIN §4: 全国性 brings more than this a year, in ≥ 2 provinces
NATIONAL_PROVINCES = 2


# --- HQ: provinces and their credentials --------------------------------------------------------------------
@transaction.atomic
def province_add(*, actor, code: str, name: str) -> tuple[Province, str]:
    """Register a province instance (or give it a new token): returns the token, shown once."""
    if len(code) != 6 or not code.isdigit() or not code.endswith("0000"):
        raise ValidationError({"code": [_("Use the province's 6-digit code, e.g. 440000.")]})
    token = Province.new_token()
    province, created = Province.objects.update_or_create(
        code=code, defaults={"name": name or code, "token_hash": Province.hash(token), "token_prefix": token[:12]}
    )
    record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=province,
        customer_id=None,
        after={"code": code, "name": province.name, "token": province.token_prefix + "…"},
    )
    return province, token


def province_for_token(token: str) -> Province | None:
    return Province.objects.filter(token_hash=Province.hash(token)).first()


# --- HQ: a batch from a province ----------------------------------------------------------------------------
def _payload_errors(index: int, kind: str, payload: dict) -> tuple[dict | None, dict[str, list[str]]]:
    schema = Tombstone if payload.get("deleted") is True else PAYLOADS[kind]
    try:
        return schema.model_validate(payload).model_dump(), {}
    except PydanticError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = (
                _("This key is not part of what HQ receives.") if error["type"] == "extra_forbidden" else (error["msg"])
            )
            errors.setdefault(f"rows.{index}.payload.{where}", []).append(message)
        return None, errors


def batch_refused(province: Province) -> None:
    Province.objects.filter(pk=province.pk).update(refused=F("refused") + 1, last_refused_at=timezone.now())


def batch_apply(*, province: Province, rows: list[dict], status: dict | None = None) -> dict:
    """Apply a province's batch as idempotent upserts keyed (province, natural key, period). A row naming
    another province refuses the whole batch (PermissionDenied: nothing written); a row older than the one HQ
    holds (a lower sequence number: an old replay) changes nothing. Returns what BatchOut reports."""
    foreign = sorted({row["province"] for row in rows} - {province.code})
    if foreign:
        batch_refused(province)
        raise PermissionDenied(
            _("Province %(code)s may only send its own rows; this batch has rows of %(others)s. Nothing was written.")
            % {"code": province.code, "others": ", ".join(foreign)}
        )
    errors: dict[str, list[str]] = {}
    clean = []
    for index, row in enumerate(rows):
        payload, row_errors = _payload_errors(index, row["kind"], row["payload"])
        errors |= row_errors
        if not row["period"] and row["kind"] not in (Kind.GROUP, Kind.UNIT, Kind.CONTACT):
            errors[f"rows.{index}.period"] = [_("This kind of row needs its month (YYYY-MM).")]
        clean.append({**row, "payload": payload})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        accepted = _apply(province.code, sorted(clean, key=lambda row: row["seq"]))
        top = max([row["seq"] for row in rows], default=0)
        status = status or {}
        province = Province.objects.select_for_update().get(pk=province.pk)
        province.last_batch_at = timezone.now()
        province.last_seq = max(province.last_seq, top)
        province.batches += 1
        province.rows += len(rows)
        province.pending = status.get("pending", 0)
        province.failures = status.get("failures", 0)
        province.last_error = (status.get("last_error") or "")[:500]
        province.save()
    return {"province": province.code, "accepted": accepted, "last_seq": province.last_seq}


def _period(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _apply(code: str, rows: list[dict]) -> int:
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    accepted = 0
    named = by_kind[Kind.UNIT] + by_kind[Kind.UNIT_MONTH] + by_kind[Kind.CONTACT]
    groups = _groups(by_kind[Kind.GROUP], [row["payload"] for row in named])
    touched_groups: set[int] = set()
    touched_months: set[date] = set()
    accepted += len(by_kind[Kind.GROUP])

    def upsert(model, rows_, natural, fields_of):
        """Write rows of one model: one read of the existing rows, then bulk writes."""
        nonlocal accepted
        idents = [natural(row) for row in rows_]
        existing = {}
        for start in range(0, len(idents), 300):
            chunk = idents[start : start + 300]
            condition = Q(pk__in=[])
            for ident in chunk:
                condition |= Q(province=code, **ident)
            for obj in model.objects.filter(condition):
                existing[tuple(sorted((name, getattr(obj, name)) for name in chunk[0]))] = obj
        new, changed, gone = {}, {}, []
        for row, ident in zip(rows_, idents, strict=True):
            marker = tuple(sorted(ident.items()))
            obj = new.get(marker) or changed.get(marker) or existing.get(marker)
            if obj is not None and obj.seq > row["seq"]:
                continue  # an old replay
            accepted += 1
            if row["payload"].get("deleted"):
                if obj is not None and obj.pk:
                    gone.append(obj)
                    touched_groups.add(getattr(obj, "group_id", 0))
                new.pop(marker, None)
                changed.pop(marker, None)
                continue
            fields = fields_of(row)
            if obj is None:
                obj = model(province=code, **ident)
                new[marker] = obj
            elif obj.pk:
                changed[marker] = obj
            for name, value in fields.items():
                setattr(obj, name, value)
            obj.seq = row["seq"]
            obj.received_at = timezone.now()
            touched_groups.add(getattr(obj, "group_id", 0))
        # Nothing refers to these rows: a changed one is replaced (one DELETE, then the INSERT of the new ones),
        # several times faster than bulk_update's CASE per column and row (benchmarks/federation_bench.py).
        stale = [obj.pk for obj in gone] + [obj.pk for obj in changed.values()]
        for start in range(0, len(stale), 500):
            model.objects.filter(pk__in=stale[start : start + 500])._raw_delete(model.objects.db)
        for obj in changed.values():
            obj.pk = None
        model.objects.bulk_create([*new.values(), *changed.values()], batch_size=500)

    upsert(
        GroupUnit,
        by_kind[Kind.UNIT],
        lambda row: {"key": row["key"]},
        lambda row: {
            "group": groups[row["payload"]["group"]],
            **{k: v for k, v in row["payload"].items() if k != "group"},
        },
    )
    upsert(
        UnitMonth,
        by_kind[Kind.UNIT_MONTH],
        lambda row: {"key": row["key"], "period": _period(row["period"])},
        lambda row: {
            "group": groups[row["payload"]["group"]],
            "revenue": row["payload"]["revenue"],
            "members": row["payload"]["members"],
            "arrears": row["payload"]["arrears"],
        },
    )
    upsert(
        GroupContact,
        by_kind[Kind.CONTACT],
        lambda row: {"key": row["key"]},
        lambda row: {
            "group": groups[row["payload"]["group"]],
            "name": row["payload"]["name"],
            "title": row["payload"]["title"],
        },
    )
    cells = by_kind[Kind.INDICATOR]
    upsert(
        IndicatorCell,
        cells,
        lambda row: {
            "period": _period(row["period"]),
            "org_unit_code": row["key"].split("|")[0],
            "industry": row["key"].split("|")[1],
            "grade": row["key"].split("|")[2],
        },
        lambda row: {
            "org_unit_name": row["payload"].get("org_unit_name", ""),
            **{name: row["payload"][name] for name in MEASURES},
        },
    )
    touched_months |= {_period(row["period"]) for row in cells}
    for period in sorted(touched_months):
        province_month_refresh(code, period)
    touched_groups.discard(0)
    touched_groups |= {group.pk for group in groups.values()}
    flipped = group_figures_refresh(touched_groups)
    # The counts change only where a group became or stopped being 全国性 (every province with its units, and
    # the total), or where this province's units came or went (its own count).
    national_counts_refresh(flipped, {code} if by_kind[Kind.UNIT] else set(), total=bool(flipped))
    return accepted


def _groups(group_rows: list[dict], named_by: list[dict]) -> dict[str, NationalGroup]:
    """The national groups a batch names, by identity: created or renamed by `group` rows (the latest wins),
    created bare when a unit names one HQ has not heard of yet."""
    keys = {row["key"] for row in group_rows if not row["payload"].get("deleted")}
    keys |= {payload["group"] for payload in named_by if payload and "group" in payload}
    found = {group.key: group for group in NationalGroup.objects.filter(key__in=keys)}
    new: dict[str, NationalGroup] = {}
    changed: dict[str, NationalGroup] = {}
    for row in group_rows:
        payload = row["payload"]
        if payload.get("deleted"):
            continue
        group = found.get(row["key"]) or new.setdefault(row["key"], NationalGroup(key=row["key"]))
        for name in ("uscc", "group_code", "name", "industry"):
            setattr(group, name, payload[name] or getattr(group, name))
        if group.pk:
            group.updated_at = timezone.now()
            changed[row["key"]] = group
    for key in keys - set(found) - set(new):
        new[key] = NationalGroup(key=key, name=key, uscc="" if key.startswith("code:") else key)
    # One INSERT and one UPDATE per 500 groups, not a query per group the batch names.
    NationalGroup.objects.bulk_update(
        changed.values(), ["uscc", "group_code", "name", "industry", "updated_at"], batch_size=500
    )
    NationalGroup.objects.bulk_create(new.values(), batch_size=500)
    return found | new


def province_month_refresh(code: str, period: date) -> None:
    """A province's month added up again from its cells (a few thousand rows: one indexed GROUP BY)."""
    sums = IndicatorCell.objects.filter(province=code, period=period).aggregate(
        **{name: Sum(name) for name in MEASURES}, cells=Count("pk")
    )
    if not sums.pop("cells"):
        ProvinceMonth.objects.filter(province=code, period=period).delete()
        return
    ProvinceMonth.objects.update_or_create(
        province=code, period=period, defaults={name: value or 0 for name, value in sums.items()}
    )


def _month_minus(period: date, months: int) -> date:
    index = period.year * 12 + period.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def group_figures_refresh(group_ids: set[int]) -> set[int]:
    """The national figures of these groups: revenue in the 12 months to the latest month any province sent,
    the provinces with revenue in them, and whether that makes a 全国性集团客户 (counted once nationally).
    Three queries for a batch's groups however many there are (a chunk of 500 ids at a time). Returns the
    groups whose 全国性 changed."""
    ids = sorted(group_ids)
    flipped: set[int] = set()
    for start in range(0, len(ids), 500):
        flipped |= _group_figures(ids[start : start + 500])
    return flipped


def _group_figures(ids: list[int]) -> set[int]:
    groups = list(NationalGroup.objects.filter(pk__in=ids))
    was_national = {group.pk for group in groups if group.is_national}
    latest = dict(
        UnitMonth.objects.filter(group_id__in=ids)
        .order_by()
        .values("group_id")
        .annotate(latest=Max("period"))
        .values_list("group_id", "latest")
    )
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    provinces: dict[int, set[str]] = defaultdict(set)
    if latest:
        months = UnitMonth.objects.filter(
            group_id__in=list(latest),
            period__gt=_month_minus(min(latest.values()), 12),
            period__lte=max(latest.values()),
        ).values_list("group_id", "province", "period", "revenue")
        for group_id, province, period, amount in months:
            if _month_minus(latest[group_id], 12) < period <= latest[group_id]:
                revenue[group_id] += amount
                if amount > 0:
                    provinces[group_id].add(province)
    now = timezone.now()
    for group in groups:
        group.as_of = latest.get(group.pk)
        group.revenue_12m = revenue[group.pk] if group.as_of else Decimal(0)
        group.provinces_12m = len(provinces[group.pk]) if group.as_of else 0
        group.is_national = group.provinces_12m >= NATIONAL_PROVINCES and group.revenue_12m > NATIONAL_REVENUE
        group.updated_at = now
    NationalGroup.objects.bulk_update(
        groups, ["as_of", "revenue_12m", "provinces_12m", "is_national", "updated_at"], batch_size=500
    )
    return was_national ^ {group.pk for group in groups if group.is_national}


def national_counts_refresh(group_ids: set[int], provinces: set[str], *, total: bool = True) -> None:
    """The national indicator page's counts, kept as batches arrive (decision 1103): for each province with
    units of these groups (and `provinces`), its 全国性集团客户 with units there; and (`total`) the national
    total, each group counted once. Each is a count, not an increment, so a count that raced another batch is
    right again at the next one. A batch pays one indexed count per province recounted and one over the
    partial index of national groups; the page only reads them."""
    ids = sorted(group_ids)
    provinces = set(provinces)
    for start in range(0, len(ids), 500):
        provinces |= set(
            GroupUnit.objects.filter(group_id__in=ids[start : start + 500])
            .order_by()
            .values_list("province", flat=True)
            .distinct()
        )
    for code in sorted(provinces):
        count = (
            GroupUnit.objects.filter(province=code, group__is_national=True)
            .order_by()
            .values("group_id")
            .distinct()
            .count()
        )
        Province.objects.filter(code=code).exclude(national_groups=count).update(national_groups=count)
    if total:
        count = NationalGroup.objects.filter(is_national=True).count()
        NationalTally.objects.update_or_create(pk=1, defaults={"national_groups": count})


# --- HQ: directives to the provinces ------------------------------------------------------------------------
def require_hq_admin(actor) -> None:
    from .queries import can_direct

    if not can_direct(actor):
        raise PermissionDenied(_("Only HQ analysts and administrators set national directives."))


@transaction.atomic
def account_assign(
    *, actor, group: NationalGroup, lead_province: str, manager_name: str, team: list[str] | None = None
) -> NationalAccount:
    """Name a national group's lead province and national account manager and team; every province reads it."""
    require_hq_admin(actor)
    errors = {}
    if not Province.objects.filter(code=lead_province).exists():
        errors["lead_province"] = [_("This province is not registered with HQ.")]
    if not manager_name.strip():
        errors["manager_name"] = [_("Name the national account manager.")]
    if errors:
        raise ValidationError(errors)
    team = [name.strip() for name in team or [] if name.strip()]
    account = NationalAccount.objects.filter(group=group).first()
    before = account.assigned() if account else {}
    account, _created = NationalAccount.objects.update_or_create(
        group=group, defaults={"lead_province": lead_province, "manager_name": manager_name.strip(), "team": team}
    )
    payload = {
        "group": group.key,
        "uscc": group.uscc,
        "group_code": group.group_code,
        "lead_province": lead_province,
        "manager_name": account.manager_name,
        "team": team,
    }
    Directive.objects.create(kind=DirectiveKind.ACCOUNT, key=group.key, payload=payload)
    record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        target=account,
        customer_id=None,
        before=before or None,
        after={k: payload[k] for k in ("lead_province", "manager_name", "team")},
    )
    return account


@transaction.atomic
def target_set(
    *, actor, province: str, indicator: str, period_type: str, period: date, value: Decimal
) -> NationalTarget:
    """A national target for one province; the province applies it to its own org unit."""
    from jiketong.analytics.services import targetable_indicators

    require_hq_admin(actor)
    errors = {}
    if not Province.objects.filter(code=province).exists():
        errors["province"] = [_("This province is not registered with HQ.")]
    if indicator not in {item.code for item in targetable_indicators()}:
        errors["indicator"] = [_("Choose an indicator targets can be set on.")]
    if period_type not in ("month", "year"):
        errors["period_type"] = [_("Choose month or year.")]
    if value < 0:
        errors["value"] = [_("A target cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    period = date(period.year, 1, 1) if period_type == "year" else period.replace(day=1)
    target, created = NationalTarget.objects.update_or_create(
        province=province, indicator=indicator, period_type=period_type, period=period, defaults={"value": value}
    )
    payload = {"indicator": indicator, "period_type": period_type, "period": period.isoformat(), "value": str(value)}
    Directive.objects.create(
        kind=DirectiveKind.TARGET, province=province, key=f"{indicator}|{period_type}|{period:%Y-%m}", payload=payload
    )
    record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=target,
        customer_id=None,
        after=payload,
    )
    return target


def _product_payload(product) -> dict:
    from jiketong.catalog.services import PRODUCT_FIELDS

    payload = {"item": CatalogItemKind.PRODUCT}
    for name in PRODUCT_FIELDS:
        value = getattr(product, name)
        payload[name] = str(value) if isinstance(value, Decimal) else value
    return payload


def _publish(kind: str, code: str, name: str, payload: dict) -> NationalCatalogEntry:
    entry, _created = NationalCatalogEntry.objects.update_or_create(kind=kind, code=code, defaults={"name": name})
    Directive.objects.create(kind=DirectiveKind.CATALOG, key=f"{kind}:{code}", payload=payload)
    return entry


@transaction.atomic
def catalog_publish(*, actor, product=None, package=None) -> NationalCatalogEntry:
    """Mark a product or solution package of HQ's catalog national and send it, as it is now, to every
    province (publishing again after a change sends the change). A package's products go first, so the
    province has them when the package arrives. Audited."""
    require_hq_admin(actor)
    if (product is None) == (package is None):
        raise ValidationError({"item": [_("Choose a product or a solution package.")]})
    if product is not None:
        payload = _product_payload(product)
        entry = _publish(CatalogItemKind.PRODUCT, product.code, product.name, payload)
    else:
        items = list(package.items.select_related("product").order_by("id"))
        for item in items:
            _publish(CatalogItemKind.PRODUCT, item.product.code, item.product.name, _product_payload(item.product))
        payload = {
            "item": CatalogItemKind.PACKAGE,
            "code": package.code,
            "name": package.name,
            "industry": package.industry_id,
            "price": str(package.price),
            "description": package.description,
            "is_active": package.is_active,
            "items": [[item.product.code, item.quantity] for item in items],
        }
        entry = _publish(CatalogItemKind.PACKAGE, package.code, package.name, payload)
    record(actor=actor, action=AuditAction.UPDATE, target=entry, customer_id=None, after=payload)
    return entry


@transaction.atomic
def discount_rule_set(*, actor, category: str, manager_max, city_max, province_max) -> NationalDiscountRule:
    """An HQ-level discount approval rule (a category, "" = the default) for every province. Audited."""
    from jiketong.catalog.models import ProductCategory

    require_hq_admin(actor)
    errors: dict[str, list[str]] = {}
    if category and category not in ProductCategory.values:
        errors["category"] = [_("Choose a product category, or none for the default.")]
    limits = {"manager_max": manager_max, "city_max": city_max, "province_max": province_max}
    for name, value in limits.items():
        if value is None or not Decimal(0) <= Decimal(value) <= Decimal(100):
            errors[name] = [_("Give a discount between 0 and 100 %.")]
    if not errors and not (Decimal(manager_max) <= Decimal(city_max) <= Decimal(province_max)):
        errors["city_max"] = [_("Each level must be allowed at least as much as the level below it.")]
    if errors:
        raise ValidationError(errors)
    rule = NationalDiscountRule.objects.filter(category=category).first()
    before = {name: str(getattr(rule, name)) for name in limits} if rule else {}
    rule, created = NationalDiscountRule.objects.update_or_create(category=category, defaults=limits)
    payload = {
        "category": category,
        **{name: str(Decimal(value).quantize(Decimal("0.01"))) for name, value in limits.items()},
    }
    Directive.objects.create(kind=DirectiveKind.DISCOUNT, key=category or "default", payload=payload)
    record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=rule,
        customer_id=None,
        before=before or None,
        after=payload,
    )
    return rule


def directives_for(code: str | None):
    """HQ's directives in order: for province `code` (its own and every province's), or all of them (None)."""
    rows = Directive.objects.order_by("pk")
    return rows if code is None else rows.filter(Q(province="") | Q(province=code))


# --- province: sharing groups and applying HQ's directives --------------------------------------------------
def federation_actor():
    """The account HQ's directives are applied as (no password: it cannot log in), so the audit trail says so."""
    user, created = get_user_model().objects.get_or_create(
        username="hq-federation", defaults={"is_superuser": True, "first_name": "集团公司"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def group_share(*, actor, customer) -> SharedGroup:
    """A province supervisor or administrator shares a group (its head) with HQ; the nightly collection sends it."""
    from jiketong.customers.models import Customer
    from jiketong.org.models import Role, can

    if not can(actor, {Role.ADMIN, Role.SUPERVISOR}):
        raise PermissionDenied(_("Only supervisors and administrators share a group with HQ."))
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("Only supervisors and administrators share a group with HQ."))
    head = Customer.objects.get(path=customer.path[: Customer.steplen])
    if not (head.uscc or head.number):
        raise ValidationError({"customer": [_("The group's head needs a USCC or a group code before HQ can see it.")]})
    shared, created = SharedGroup.objects.get_or_create(customer=head, defaults={"reason": "province"})
    if created:
        record(
            actor=actor, action=AuditAction.CREATE, target=shared, customer_id=head.pk, after={"shared_with_hq": True}
        )
    return shared


def _head_for(payload: dict):
    from jiketong.customers.models import Customer

    heads = Customer.objects.filter(depth=1)
    if payload.get("uscc"):
        head = heads.filter(uscc=payload["uscc"]).first()
        if head:
            return head
    if payload.get("group_code"):
        return heads.filter(number=payload["group_code"]).first()
    return None


@transaction.atomic
def directive_apply(*, seq: int, kind: str, payload: dict) -> str:
    """Apply one of HQ's directives in this province, audited as the federation account: an assignment is
    kept (and shares the group, so it is sent), a target goes through the analytics targets service."""
    from jiketong.analytics.models import Target
    from jiketong.analytics.services import target_save

    from .collect import province_unit

    actor = federation_actor()
    if kind == DirectiveKind.ACCOUNT:
        data = AccountDirective.model_validate(payload)
        head = _head_for(payload)
        assignment = NationalAssignment.objects.filter(group_key=data.group).first()
        before = assignment.assigned() if assignment else {}
        assignment, _created = NationalAssignment.objects.update_or_create(
            group_key=data.group,
            defaults={
                "customer": head,
                "lead_province": data.lead_province,
                "manager_name": data.manager_name,
                "team": data.team,
            },
        )
        after = assignment.assigned()
        if after != before:
            record(
                actor=actor,
                action=AuditAction.UPDATE if before else AuditAction.CREATE,
                target=assignment,
                customer_id=head.pk if head else None,
                before=before or None,
                after=after,
                note=f"HQ directive {seq}",
            )
        if head is not None:
            SharedGroup.objects.get_or_create(customer=head, defaults={"reason": "hq"})
        return "account"
    if kind == DirectiveKind.TARGET:
        data = TargetDirective.model_validate(payload)
        unit = province_unit()
        if unit is None:
            raise ValidationError({"org_unit": [_("This instance has no org unit with its province code.")]})
        existing = Target.objects.filter(
            org_unit=unit, indicator=data.indicator, period_type=data.period_type, period=data.period
        ).first()
        if existing is not None and existing.value == data.value:
            return "target"
        target_save(
            actor=actor,
            target=existing,
            org_unit=unit,
            indicator=data.indicator,
            period_type=data.period_type,
            period=data.period,
            value=data.value,
        )
        return "target"
    if kind == DirectiveKind.CATALOG:
        return _catalog_apply(actor, payload)
    if kind == DirectiveKind.DISCOUNT:
        from jiketong.deals.services import discount_policy_save

        data = DiscountDirective.model_validate(payload)
        discount_policy_save(
            actor=actor,
            category=data.category,
            manager_max=data.manager_max,
            city_max=data.city_max,
            province_max=data.province_max,
        )
        return "discount"
    return "unknown"


def _catalog_apply(actor, payload: dict) -> str:
    """A national product or package into this province's catalog through the catalog services: created, or
    changed where it differs (unchanged: nothing saved is audited)."""
    from jiketong.catalog.models import Product, SolutionPackage
    from jiketong.catalog.services import package_save, product_save
    from jiketong.customers.models import Industry

    if payload.get("item") == CatalogItemKind.PRODUCT:
        data = ProductDirective.model_validate(payload).model_dump(exclude={"item"})
        product_save(actor=actor, product=Product.objects.filter(code=data["code"]).first(), **data)
        return "catalog"
    data = PackageDirective.model_validate(payload).model_dump(exclude={"item"})
    codes = [code for code, _quantity in data["items"]]
    products = {product.code: product for product in Product.objects.filter(code__in=codes)}
    missing = sorted(set(codes) - set(products))
    industry = Industry.objects.filter(pk=data["industry"]).first()
    errors = {}
    if missing:
        errors["items"] = [
            _("These products are not in this province's catalog: %(codes)s.") % {"codes": ", ".join(missing)}
        ]
    if industry is None:
        errors["industry"] = [_("This province has no industry %(code)s.") % {"code": data["industry"]}]
    if errors:
        raise ValidationError(errors)
    package = SolutionPackage.objects.filter(code=data["code"]).first()
    package_save(
        actor=actor,
        package=package,
        items=[(products[code], quantity) for code, quantity in data.pop("items")],
        **{**data, "industry": industry},
    )
    return "catalog"
