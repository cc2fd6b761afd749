"""The lead import's engine (decisions 0018, 0024): a file's rows checked and written as one stream.

services.leads_import is its entry point; this module holds how it runs. The rules are those of the lead form
(services._normalise_lead, the model's field rules, the duplicate check): every bad row comes back with every
reason at once, all or nothing or the good rows, nothing half-written.

How the time is spent (docs/benchmarks.md, "Imports"): a lead costs the Python side ~40 µs (the row's checks,
its audit snapshot) and the database ~40 µs (the lead's row and indexes, its audit row, the foreign keys at
commit). Checked first and written after, the two halves add up. Here, on PostgreSQL, the rows are checked as
COPY takes them: while the server inserts the rows sent so far, this process checks the next ones, so the two
halves run side by side on two cores. The duplicates against the archive and the open leads are looked up
before the stream (one join for the whole file, decision 0018), from each row's name key and USCC; duplicates
within the file are found as the rows go by, in file order, as before. The audit rows (JSON made as the leads
go) follow each chunk of leads in a COPY of their own, and while the server takes them this process checks
the next chunk's rows, so neither side waits for the other for long.

All or nothing: the first bad row ends the writing; the remaining rows are still checked (every error at
once) and the transaction is rolled back, then the run's outcome is written on its own. On SQLite (one
process, one write lock) the rows are checked before the writing transaction and written in one go, as before.
"""

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from jiketong.core.imports import (
    AUDIT_FIELDS,
    FieldRules,
    Progress,
    Snapshot,
    audit_rows,
    db_now,
    fast_mobile,
    fast_uscc,
    new_ids,
    write_rows,
)
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.names import normalise_org_name
from jiketong.core.spreadsheets import header_key
from jiketong.core.trees import subtree
from jiketong.core.validators import to_halfwidth
from jiketong.customers.models import Industry
from jiketong.org.models import OrgUnit, Role, Staff, can

from .models import OPEN_LEAD_STATUSES, AssignmentRule, Lead, LeadSource, LeadStatus

# Leads per COPY on PostgreSQL: each chunk of leads is followed by its audit rows. Large enough that a COPY's
# start and end cost nothing per row, small enough that the audit COPY overlaps the next chunk's checks.
CHUNK = 10_000

# The plain fields of an imported lead, checked by their model rules (FieldRules: full_clean's checks, no query).
LEAD_ROW_FIELDS = ("source", "name", "uscc", "expected_size", "grade_hint", "contact_name", "contact_title",
                   "contact_mobile", "need")  # fmt: skip

# Columns of a lead as an import writes it (COPY / multi-row INSERT with ids given: no per-row ORM work).
LEAD_COLUMNS_WRITTEN = ["id", "created_at", "updated_at", "source", "name", "name_key", "uscc", "org_unit",
                        "industry", "expected_size", "grade_hint", "contact_name", "contact_mobile", "contact_title",
                        "need", "owner", "status", "disqualify_reason", "created_by"]  # fmt: skip


@dataclass(frozen=True)
class LeadRules:
    """What the import takes from sales.services, handed in by services.leads_import (services imports this
    module; this module imports nothing of services, so no import circle hides in a function)."""

    staff: Callable[[Any], Staff | None]  # the actor's staff record (their unit: the default region)
    sources: Callable[[], dict[str, str]]  # every word for a source → its code
    rule_role: Callable[..., str | None]  # the assignment rules' role for a grade and size
    tell_owners: Callable[[Any, list], None]  # the new owners' notices
    audited: list[str]  # a lead's fields in its audit snapshot


def _any_subtree(paths: set[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= subtree(path, "org_unit__path")
    return q


@dataclass
class ImportContext:
    """What a lead import loads once for the whole file."""

    actor: Any
    default_unit: OrgUnit | None
    units: dict[str, OrgUnit]
    industries: dict[str, Industry]
    sources: dict[str, str]
    region_prefix: str | None  # the actor's unit path; None: anywhere (admins and HQ)
    rules: FieldRules
    null_unit: list[str]
    source_seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, actor, rows: list[dict], rules: "LeadRules") -> "ImportContext":
        staff = rules.staff(actor)
        codes = {(row.get("org_unit") or "").strip() for row in rows} - {""}
        industries = list(Industry.objects.all())
        anywhere = actor.is_superuser or can(actor, {Role.ADMIN})
        return cls(
            actor=actor,
            default_unit=staff.org_unit if staff else None,
            units={unit.code: unit for unit in OrgUnit.objects.filter(code__in=codes)} if codes else {},
            industries={i.name: i for i in industries} | {i.code: i for i in industries},
            sources=rules.sources(),
            region_prefix=None if anywhere else (staff.org_unit.path if staff else ""),
            rules=FieldRules(Lead, LEAD_ROW_FIELDS, prevalidated=("uscc",)),
            null_unit=[str(Lead._meta.get_field("org_unit").error_messages["null"])],
        )


@dataclass(slots=True)
class NewLead:
    """An imported row, checked, before it is written: what a Lead holds, without a model instance per row."""

    source: str
    name: str
    uscc: str
    expected_size: int | None
    grade_hint: str
    contact_name: str
    contact_title: str
    contact_mobile: str
    need: str
    org_unit: OrgUnit
    org_unit_id: int
    industry_id: str | None
    name_key: str = ""
    owner_id: int | None = None
    pk: int | None = None
    status: str = LeadStatus.NEW.value


@dataclass(slots=True)
class _Keys:
    """A row's name and USCC as the duplicate check compares them, worked out before the stream."""

    name: str
    name_key: str
    uscc: str
    uscc_errors: list[str] | None


def _keys(row: dict) -> _Keys:
    name = " ".join(str(row.get("name") or "").split())
    uscc, errors = row.get("uscc") or "", None
    if uscc:
        try:
            uscc = fast_uscc(uscc)
        except ValidationError as exc:
            errors = exc.messages
    return _Keys(name, normalise_org_name(name) if name else "", uscc, errors)


def lead_from_row(row: dict, keys: _Keys, context: ImportContext) -> NewLead:
    """One row as an unsaved lead, or ValidationError with every reason at once (field → messages): the
    same normalisation and rules as the lead form, against the regions and industries the import loaded."""
    get = row.get
    errors: dict[str, list[str]] = {}
    given = get("source") or LeadSource.GRID_SURVEY.value
    source = context.source_seen.get(given)
    if source is None:  # a file holds a handful of source words: each compared once
        source = context.source_seen[given] = context.sources.get(header_key(given), given)
    code = (get("org_unit") or "").strip()
    unit = context.units.get(code) if code else context.default_unit
    if code and unit is None:
        errors["org_unit"] = [_("No region has the code %(code)s.") % {"code": code}]
    industry_name = (get("industry") or "").strip()
    industry = context.industries.get(industry_name) if industry_name else None
    if industry_name and industry is None:
        errors["industry"] = [_("Unknown industry: %(name)s.") % {"name": industry_name}]
    size_text = (get("expected_size") or "").strip()
    size = None
    if size_text:
        try:
            size = int(size_text) if size_text.isdigit() else int(float(size_text))
        except (ValueError, OverflowError):
            errors["expected_size"] = [_("Give the size as a whole number of people.")]
    uscc = keys.uscc
    if keys.uscc_errors is not None:
        errors["uscc"] = keys.uscc_errors
    mobile = get("contact_mobile") or ""
    if mobile:
        try:
            mobile = fast_mobile(mobile)
        except ValidationError as exc:
            errors["contact_mobile"] = exc.messages
    contact_name = get("contact_name") or ""
    if contact_name and not contact_name.isascii():
        contact_name = to_halfwidth(contact_name)
    values = {
        "source": source,
        "name": keys.name,
        "uscc": uscc,
        "expected_size": size,
        "grade_hint": (get("grade_hint") or "").upper(),
        "contact_name": " ".join(contact_name.split()),
        "contact_title": " ".join((get("contact_title") or "").split()),
        "contact_mobile": mobile,
        "need": get("need") or "",
    }
    context.rules.errors(values, into=errors)
    if unit is None and "org_unit" not in errors:
        errors["org_unit"] = context.null_unit
    if not errors and context.region_prefix is not None and not unit.path.startswith(context.region_prefix):
        errors["org_unit"] = [_("Choose a region within your own org unit.")]
    if errors:
        raise ValidationError(errors)
    return NewLead(org_unit=unit, org_unit_id=unit.pk, industry_id=industry.pk if industry is not None else None,
                   name_key=keys.name_key, **values)  # fmt: skip


class _Rule:
    """An assignment rule as rule_role asks it: AssignmentRule.matches itself, with the rule's grades split
    once (the model splits them on every call, and a file asks once for every distinct grade and size)."""

    __slots__ = ("kept_grades", "min_size", "role_id")

    def __init__(self, rule: AssignmentRule) -> None:
        self.kept_grades, self.min_size, self.role_id = rule.grades(), rule.min_size, rule.role_id

    def grades(self) -> set[str]:
        return self.kept_grades

    matches = AssignmentRule.matches


class Assigner:
    """The assignment rules, one lead at a time in file order, as pick_owner decides for one lead (the
    least-loaded active staff member with the rule's role in the lead's region, or in the nearest ancestor
    unit below HQ that has one), with everyone's load read once and kept in memory, so the file spreads evenly
    instead of landing on one person. Three queries for the whole file, before the stream: the rules, the
    people with any rule's role in any province the file's regions are in, and their open leads."""

    def __init__(self, context: ImportContext, rule_role: Callable) -> None:
        self.rule_role = rule_role
        self.rules = [_Rule(rule) for rule in AssignmentRule.objects.filter(active=True)]
        self.thresholds = sorted({rule.min_size for rule in self.rules if rule.min_size is not None})
        self.roles: dict[tuple[str, int], str | None] = {}
        self.people: dict[str, list[tuple[str, int]]] = {}  # role → [(org unit path, staff id)]
        self.pools: dict[tuple[str, str], list[int]] = {}
        self.loads: dict[int, int] = {}
        step = OrgUnit.steplen
        units = [*context.units.values(), context.default_unit]
        provinces = {unit.path[: 2 * step] for unit in units if unit is not None and unit.depth >= 2}
        roles = {rule.role_id for rule in self.rules}
        if not roles or not provinces:
            return
        for pk, path, role in (
            Staff.objects.filter(roles__in=roles, user__is_active=True, left_on=None)
            .filter(_any_subtree(provinces))
            .values_list("pk", "org_unit__path", "roles")
        ):
            self.people.setdefault(role, []).append((path, pk))
        staff_ids = {pk for found in self.people.values() for _path, pk in found}
        if staff_ids:
            self.loads = dict.fromkeys(staff_ids, 0) | dict(
                Lead.objects.filter(owner__in=staff_ids, status__in=OPEN_LEAD_STATUSES)
                .values("owner")
                .annotate(n=Count("id"))
                .values_list("owner", "n")
            )

    def assign(self, lead: NewLead) -> None:
        size = lead.expected_size
        # Sizes between the same two rule thresholds meet the same rules: one rule_role per grade and band.
        key = (lead.grade_hint, -1 if size is None else bisect_right(self.thresholds, size))
        role = self.roles.get(key, False)
        if role is False:
            role = self.roles[key] = self.rule_role(grade_hint=lead.grade_hint, size=size, rules=self.rules)
        if role is None:
            return
        path = lead.org_unit.path
        pool = self.pools.get((path, role))
        if pool is None:
            pool = self.pools[(path, role)] = []
            step = OrgUnit.steplen
            for depth in range(len(path) // step, 1, -1):  # the region, then its ancestors down to the province
                prefix = path[: depth * step]
                found = [pk for unit_path, pk in self.people.get(role, ()) if unit_path.startswith(prefix)]
                if found:
                    pool[:] = found
                    break
        if pool:
            loads = self.loads
            best = min(pool, key=lambda pk: (loads[pk], pk))
            lead.owner_id = best
            loads[best] += 1


class _RolledBack(Exception):
    """All or nothing met a bad row after leads were sent: undo them."""


def import_leads(
    *,
    actor,
    rows: list[dict],
    all_or_nothing: bool,
    result,
    rules: "LeadRules",
    progress: Progress,
    on_write: Callable | None = None,
) -> list[NewLead]:
    """Check and write the rows (see the module's docstring); fills `result` and answers the leads written."""
    from .queries import lead_duplicates_many

    _tell_owners = rules.tell_owners
    context = ImportContext.load(actor, rows, rules)
    keys = [_keys(row) for row in rows]
    duplicates = lead_duplicates_many(
        actor, [(k.name, k.uscc if k.uscc_errors is None else "") for k in keys], name_keys=[k.name_key for k in keys]
    )
    progress.tick(0.5)
    total = max(len(rows), 1)
    state = {"stop": False}

    def checked() -> Iterator[NewLead]:
        """The good leads in file order; the bad rows' errors go to the result as they are found."""
        seen: dict[str, int] = {}
        errors_out = result.errors
        for number, (row, key, matches) in enumerate(zip(rows, keys, duplicates, strict=True), start=1):
            try:
                lead = lead_from_row(row, key, context)
            except ValidationError as exc:
                errors_out.append({"row": number, "name": row.get("name", ""), "errors": exc.message_dict})
                state["stop"] = all_or_nothing
                continue
            errors: dict[str, list[str]] = {}
            for value, name in ((lead.uscc, "uscc"), (lead.name_key, "name")):
                if value and value in seen:
                    errors[name] = [_("The same organisation as row %(row)d.") % {"row": seen[value]}]
            for match in matches:
                errors.setdefault(match.field, []).append(match.message())
            if errors:
                errors_out.append({"row": number, "name": lead.name, "errors": errors})
                state["stop"] = all_or_nothing
                continue
            if lead.uscc:
                seen[lead.uscc] = number
            if lead.name_key:
                seen[lead.name_key] = number
            state["done"] = number
            yield lead

    if connection.vendor != "postgresql":
        leads = list(checked())
        result.errors.sort(key=lambda e: e["row"])
        if result.errors and all_or_nothing:
            leads = []
        progress.tick(0.85)
        with transaction.atomic():
            progress.hold()
            if leads:
                assigner = Assigner(context, rules.rule_role)
                for lead in leads:
                    assigner.assign(lead)
                _Writer(actor, len(leads), rules.audited).write_all(leads)
                _tell_owners(actor, leads)
            result.done = len(leads)
            if on_write is not None:
                on_write(result)
        return leads

    written: list[NewLead] = []
    try:
        with transaction.atomic():
            progress.hold()
            assigner = Assigner(context, rules.rule_role)
            writer = _Writer(actor, len(rows), rules.audited)
            stream = checked()
            ahead: deque[NewLead] = deque()
            exhausted = False

            def pull() -> None:
                """Check rows until one more good lead is ahead, or the file ends (or all or nothing stops)."""
                nonlocal exhausted
                if exhausted:
                    return
                lead = next(stream, None)
                if lead is None or state["stop"]:
                    exhausted = True
                    return
                assigner.assign(lead)
                ahead.append(lead)

            while True:
                if not ahead:
                    pull()
                if not ahead or state["stop"]:
                    break
                written += writer.write_chunk(ahead, pull)
                progress.tick(0.5 + 0.45 * state.get("done", 0) / total)
            if state["stop"]:
                for _lead in stream:  # every error at once: the rest of the file is checked, not written
                    pass
                raise _RolledBack
            result.errors.sort(key=lambda e: e["row"])
            result.done = len(written)
            if written:
                _tell_owners(actor, written)
            if on_write is not None:
                on_write(result)
    except _RolledBack:
        written = []
        result.errors.sort(key=lambda e: e["row"])
        result.done = 0
        with transaction.atomic():
            progress.hold()
            if on_write is not None:
                on_write(result)
    return written


class _Writer:
    """Leads and their IMPORT audit rows (each lead's history starts with how it arrived), by COPY (PostgreSQL)
    or multi-row INSERT, ids handed out first (the connection takes no other query during a COPY)."""

    def __init__(self, actor, count: int, audited: list[str]) -> None:
        self.actor, self.actor_id = actor, actor.pk
        self.now = db_now()
        self.snapshot = Snapshot(Lead, audited)
        self.ids = iter(new_ids(Lead, count))

    def _row(self, lead: NewLead, items: list) -> tuple:
        lead.pk = pk = next(self.ids)
        after = self.snapshot(lead)
        items.append((pk, after["name"], None, None, after))  # a name is at most 100: masked, it is the text
        now = self.now
        return (pk, now, now, lead.source, lead.name, lead.name_key, lead.uscc, lead.org_unit_id, lead.industry_id,
                lead.expected_size, lead.grade_hint, lead.contact_name, lead.contact_mobile, lead.contact_title,
                lead.need, lead.owner_id, lead.status, "", self.actor_id)  # fmt: skip

    def _audit(self, items: list) -> Iterator[tuple]:
        return audit_rows(
            actor=self.actor, action=AuditAction.IMPORT, target_type=Lead._meta.label_lower, items=items,
            text_masked=True,
        )  # fmt: skip

    def write_all(self, leads: list[NewLead]) -> None:
        items: list[tuple] = []
        write_rows(Lead, LEAD_COLUMNS_WRITTEN, (self._row(lead, items) for lead in leads))
        write_rows(AuditEvent, AUDIT_FIELDS, self._audit(items))

    def write_chunk(self, ahead: deque, pull: Callable[[], None]) -> list[NewLead]:
        """Up to CHUNK leads from `ahead` (checking more as they are taken), then their audit rows, checking a
        lead ahead for each audit row sent: the server inserts while this process checks."""
        leads: list[NewLead] = []
        items: list[tuple] = []

        def lead_rows() -> Iterator[tuple]:
            while ahead and len(leads) < CHUNK:
                lead = ahead.popleft()
                leads.append(lead)
                yield self._row(lead, items)
                if not ahead:
                    pull()

        def audit() -> Iterator[tuple]:
            for row in self._audit(items):
                yield row
                if len(ahead) < CHUNK:
                    pull()

        write_rows(Lead, LEAD_COLUMNS_WRITTEN, lead_rows())
        write_rows(AuditEvent, AUDIT_FIELDS, audit())
        return leads
