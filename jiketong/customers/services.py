"""Every write to customers and what they own. UI, API, imports and jobs all come through here.

Each service takes the acting user, validates with the model's rules plus the business rules below,
writes in one transaction and records the audit event in that same transaction. Errors are raised as
ValidationError keyed by field, so forms and the API can both show them next to the field.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import changed, record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.events import emit
from jiketong.core.models import AuditAction
from jiketong.core.notes import stored
from jiketong.core.registry import owner_checks
from jiketong.core.validators import fact_date_errors, merge_errors, normalize_mobile, normalize_uscc
from jiketong.org.models import Role, Staff, can

from . import keypersons
from .models import (
    Affiliation,
    CompetitorPresence,
    Contact,
    ContactDate,
    ContactRelation,
    Customer,
    Grade,
    GradeChange,
    Member,
    Network,
    PaidBy,
    RelationKind,
)
from .search import build_search_text

CUSTOMER_FIELDS = [
    "number",
    "name",
    "short_name",
    "uscc",
    "type",
    "industry",
    "size",
    "address",
    "org_unit",
    "owner",
    "backup_owner",
    "grade",
    "status",
    "service_level",
    "source",
    "cooperation_since",
    "note",
]
CONTACT_FIELDS = [
    "name",
    "title",
    "department",
    "decision_role",
    "is_key_person",
    "is_shareable",
    "mobile",
    "email",
    "birthday",
    "preferences",
    "closeness",
    "notes",
]
MEMBER_FIELDS = ["phone", "department", "joined_on", "left_on", "paid_by", "network", "short_number"]
TREE_FIELDS = ["path", "depth", "numchild", "search_text"]
# Reassigning a portfolio or re-grading is a supervisor's decision (DOMAIN §2).
ASSIGN_ROLES = {Role.SUPERVISOR, Role.ADMIN}


def require_edit(actor) -> None:
    if not can(actor, Role.EDIT_ROLES):
        raise PermissionDenied(_("Your role may view customers but not change them."))


def _full_clean(instance, exclude: list[str] | None = None, errors: dict[str, list[str]] | None = None) -> None:
    """The model's validation together with the service's own rule errors, raised at once (one round)."""
    errors = dict(errors or {})
    try:
        instance.full_clean(exclude=[*(exclude or []), *errors])
    except ValidationError as exc:
        errors = merge_errors(errors, exc)
    if errors:
        raise ValidationError(errors)


def _people_errors(actor, customer: Customer, before: dict | None) -> dict[str, list[str]]:
    """A new owner or backup is active staff; only supervisors and admins move a customer between managers.
    A leaver's customers stay editable until they are reassigned: only giving a customer to a leaver is refused."""
    errors: dict[str, list[str]] = {}
    for name in ("owner", "backup_owner"):
        old = (before or {}).get(name)
        new = getattr(customer, f"{name}_id")
        assigned = before is None or old != new
        person: Staff | None = getattr(customer, name)
        if assigned and person is not None and not person.user.is_active:
            errors[name] = [_("%(name)s has left and cannot be given customers.") % {"name": person.name}]
        if before is not None and old != new and not can(actor, ASSIGN_ROLES):
            errors.setdefault(name, []).append(_("Only a supervisor can change the customer's managers."))
    if before is None and customer.owner_id not in (None, actor.pk) and not can(actor, ASSIGN_ROLES):
        errors.setdefault("owner", []).append(_("Only a supervisor can give a customer to another manager."))
    regraded = before is not None and before.get("grade") != customer.grade
    if customer.owner_id and (before is None or before.get("owner") != customer.owner_id or regraded):
        # The owner's rank may limit the grades they own (职级, the assessment app): on assignment and re-grade.
        field = "grade" if regraded and before.get("owner") == customer.owner_id else "owner"
        for name, messages in owner_checks(customer.owner, [customer.grade], field=field).items():
            errors.setdefault(name, []).extend(messages)
    if customer.owner_id and customer.owner_id == customer.backup_owner_id:
        # The model constraint says the same, but on no field; here it lands next to the backup.
        errors.setdefault("backup_owner", []).append(
            _("The backup manager must be someone other than the customer manager.")
        )
    return errors


def require_scope(actor, customer_id: int | None) -> None:
    """Writes reach only customers the actor may see; any other answers like a missing one (404)."""
    if not Customer.objects.visible_to(actor).filter(pk=customer_id).exists():
        raise Http404(_("No such customer."))


def _check_in_scope(actor, customer: Customer) -> None:
    """A write must leave the record where the actor can still see it (NetBox's restrict-after-save)."""
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise ValidationError(
            {"org_unit": [_("You can only keep customers within your own scope (your org unit or your portfolio).")]}
        )


def _normalise(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The fields as stored, and the errors of those that cannot be (reported with the record's others)."""
    errors: dict[str, list[str]] = {}
    if fields.get("uscc"):
        try:
            fields["uscc"] = normalize_uscc(fields["uscc"])
        except ValidationError as exc:
            errors["uscc"] = exc.messages
            del fields["uscc"]
    elif "uscc" in fields:
        fields["uscc"] = None  # blank is "unknown", and many customers may lack a code
    for name in ("name", "short_name", "address"):
        if isinstance(fields.get(name), str):
            fields[name] = " ".join(fields[name].split())
    if "number" in fields and not fields["number"]:
        fields["number"] = None
    return fields, errors


def _save_unique(callback):
    """Turn a lost race on a unique column into the same message the pre-check would have given."""
    try:
        with transaction.atomic():
            return callback()
    except IntegrityError as exc:
        text = str(exc).lower()
        if "uscc" in text:
            raise ValidationError(
                {"uscc": [_("A customer with this unified social credit code already exists.")]}
            ) from exc
        if "number" in text:
            raise ValidationError({"number": [_("A customer with this customer number already exists.")]}) from exc
        raise


@transaction.atomic
def customer_create(*, actor, parent: Customer | None = None, grade_reason: str = "", **fields) -> Customer:
    """Open a customer's archive. A customer manager who creates one owns it unless told otherwise."""
    require_edit(actor)
    fields, errors = _normalise(fields)
    if not fields.get("owner") and can(actor, Role.PORTFOLIO_ROLES) and not can(actor, ASSIGN_ROLES):
        fields["owner"] = Staff.objects.select_related("user").get(pk=actor.pk)
    customer = Customer(**fields)
    customer.search_text = build_search_text(
        name=customer.name, short_name=customer.short_name, number=customer.number, uscc=customer.uscc
    )
    errors = merge_errors(
        errors,
        _people_errors(actor, customer, before=None),
        fact_date_errors({"cooperation_since": customer.cooperation_since}),
    )
    _full_clean(customer, exclude=TREE_FIELDS, errors=errors)
    if parent is not None:
        customer = _save_unique(lambda: Customer.objects.add_child(parent, instance=customer))
    else:
        customer = _save_unique(lambda: Customer.objects.add_root(instance=customer))
    if not customer.number:
        # BOSS numbers come with imports; a customer opened here gets region prefix + id.
        customer.number = f"{customer.org_unit.code[:4]}{customer.pk:08d}"
        customer.search_text = build_search_text(
            name=customer.name, short_name=customer.short_name, number=customer.number, uscc=customer.uscc
        )
        Customer.objects.filter(pk=customer.pk).update(number=customer.number, search_text=customer.search_text)
    _check_in_scope(actor, customer)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=customer,
        customer_id=customer.pk,
        after=snapshot(customer, CUSTOMER_FIELDS) | {"parent": parent.pk if parent else None},
    )
    GradeChange.objects.create(
        customer=customer,
        old_grade="",
        new_grade=customer.grade,
        changed_by=actor,
        reason=grade_reason or stored(gettext_noop("Initial grade")),
    )
    return customer


UNSET = object()


@transaction.atomic
def customer_update(
    *,
    actor,
    customer: Customer,
    parent: Customer | None | object = UNSET,
    grade_reason: str = "",
    expected_version: int | None = None,
    **fields,
) -> Customer:
    """Change a customer's record. A new grade needs a reason and is kept in the grade history; a new
    owner or backup is audited as a change of ownership. With `expected_version` (the version the caller
    read), a record changed since then is refused with StaleEdit (core.concurrency)."""
    require_edit(actor)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    require_scope(actor, customer.pk)
    check_version(customer, expected_version)
    fields, errors = _normalise(fields)
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    before = snapshot(customer, CUSTOMER_FIELDS)
    for name, value in fields.items():
        setattr(customer, name, value)
    if customer.grade != before["grade"]:
        if not can(actor, ASSIGN_ROLES):
            errors["grade"] = [_("Only a supervisor can re-grade a customer.")]
        elif not grade_reason.strip():
            errors["grade_reason"] = [_("Give the reason for the new grade.")]
    customer.search_text = build_search_text(
        name=customer.name, short_name=customer.short_name, number=customer.number, uscc=customer.uscc
    )
    errors = merge_errors(
        errors,
        _people_errors(actor, customer, before=before),
        fact_date_errors({"cooperation_since": customer.cooperation_since}, before),
    )
    _full_clean(customer, exclude=TREE_FIELDS, errors=errors)
    _save_unique(customer.save)
    if parent is not UNSET:
        _move(actor, customer, parent)
    _check_in_scope(actor, customer)
    old, new = changed(before, snapshot(customer, CUSTOMER_FIELDS))
    if old or new:
        ownership = {"owner", "backup_owner"} & set(new)
        record(
            actor=actor,
            action=AuditAction.OWNER if ownership else AuditAction.UPDATE,
            target=customer,
            customer_id=customer.pk,
            before=old,
            after=new,
        )
    if "status" in new:
        emit("customer.lifecycle_changed", customer_id=customer.pk, actor=actor, from_status=old["status"],
             to_status=new["status"], reason="")  # fmt: skip
    if "org_unit" in new:
        emit("customer.moved", customer_id=customer.pk, actor=actor, from_unit=old["org_unit"], to_unit=new["org_unit"])
    if "grade" in new:
        GradeChange.objects.create(
            customer=customer,
            old_grade=old["grade"],
            new_grade=new["grade"],
            reason=grade_reason.strip(),
            changed_by=actor,
        )
        record(
            actor=actor,
            action=AuditAction.GRADE,
            target=customer,
            customer_id=customer.pk,
            before={"grade": old["grade"]},
            after={"grade": new["grade"]},
            note=grade_reason.strip(),
        )
        keypersons.refresh_customer(customer.pk)  # the gaps list is read biggest grades first
    return customer


@transaction.atomic
def customer_set_status(*, actor, customer: Customer, status: str, reason: str, only_from=None) -> bool:
    """Move a customer along its lifecycle (潜在 → 在网 → 预警 → 离网 …) because something happened elsewhere: an
    order completed, a churn warning began or ended. Called by reactions to events, not by a form (a person changes
    the status through `customer_update`), so the caller's permission was checked where the event arose. With
    `only_from`, a customer in any other status is left alone. Audited with the reason; answers whether it moved."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status == status or (only_from is not None and customer.status not in only_from):
        return False
    before = customer.status
    customer.status = status
    customer.save(update_fields=["status", "updated_at"])
    record(actor=actor, action=AuditAction.STATUS, target=customer, customer_id=customer.pk,
           before={"status": before}, after={"status": status}, note=reason[:500])  # fmt: skip
    emit("customer.lifecycle_changed", customer_id=customer.pk, actor=actor, from_status=before, to_status=status,
         reason=reason[:500])  # fmt: skip
    return True


def _move(actor, customer: Customer, parent: Customer | None) -> None:
    current = Customer.objects.get_parent(customer)
    if (current and current.pk) == (parent and parent.pk):
        return
    if parent is not None and (parent.pk == customer.pk or parent.path.startswith(customer.path)):
        raise ValidationError({"parent": [_("A customer cannot be placed under itself or one of its own units.")]})
    if parent is None:
        Customer.objects.move(customer, Customer.objects.get_last_root_node(), pos="last-sibling")
    else:
        Customer.objects.move(customer, parent, pos="last-child")
    customer.refresh_from_db()
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=customer,
        customer_id=customer.pk,
        before={"parent": current.pk if current else None},
        after={"parent": parent.pk if parent else None},
    )


@transaction.atomic
def customer_change_grade(*, actor, customer: Customer, grade: Grade, reason: str) -> Customer:
    return customer_update(actor=actor, customer=customer, grade=grade, grade_reason=reason)


# --- contacts ------------------------------------------------------------------------------------
def _clean_contact(contact: Contact) -> None:
    if contact.mobile:
        try:
            contact.mobile = normalize_mobile(contact.mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from exc
    contact.name = " ".join((contact.name or "").split())
    contact.full_clean()


@transaction.atomic
def contact_create(*, actor, customer: Customer, dates: list[tuple[str, date]] = (), **fields) -> Contact:
    require_edit(actor)
    require_scope(actor, customer.pk)
    contact = Contact(customer=customer, **fields)
    _clean_contact(contact)
    contact.save()
    for label, when in dates:
        contact.dates.create(label=label, date=when)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=contact,
        customer_id=customer.pk,
        after=snapshot(contact, CONTACT_FIELDS),
    )
    keypersons.refresh_customer(customer.pk)
    return contact


@transaction.atomic
def contact_update(
    *,
    actor,
    contact: Contact,
    dates: list[tuple[str, date]] | None = None,
    expected_version: int | None = None,
    **fields,
) -> Contact:
    """Change a contact; `dates`, when given, replaces its important dates in the same transaction.
    `expected_version`: see customer_update."""
    require_edit(actor)
    require_scope(actor, contact.customer_id)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact, expected_version)
    before = snapshot(contact, CONTACT_FIELDS)
    for name, value in fields.items():
        if name not in CONTACT_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed here.")]})
        setattr(contact, name, value)
    _clean_contact(contact)
    contact.save()
    record_changes(
        actor=actor,
        target=contact,
        customer_id=contact.customer_id,
        before=before,
        after=snapshot(contact, CONTACT_FIELDS),
    )
    if dates is not None:
        contact_set_dates(actor=actor, contact=contact, dates=dates)
    if {"decision_role"} & set(fields):
        keypersons.refresh_customer(contact.customer_id)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact, expected_version: int | None = None) -> None:
    """Delete a contact, e.g. on the person's request (PIPL). The audit keeps that it happened.
    `expected_version`: see customer_update."""
    require_edit(actor)
    require_scope(actor, contact.customer_id)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact, expected_version)
    record(
        actor=actor,
        action=AuditAction.DELETE,
        target=contact,
        customer_id=contact.customer_id,
        before=snapshot(contact, CONTACT_FIELDS),
    )
    contact.delete()
    keypersons.refresh_customer(contact.customer_id)


@transaction.atomic
def contact_mark_left(*, actor, contact: Contact, left_on: date | None, expected_version: int | None = None) -> Contact:
    """The person left the customer (离职) on `left_on`; None undoes a mistaken mark. Audited; the contact
    stays for the history but no longer counts as a known decision maker. `expected_version`: see customer_update."""
    require_edit(actor)
    require_scope(actor, contact.customer_id)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact, expected_version)
    errors = fact_date_errors({"left_on": left_on})
    if errors:
        raise ValidationError(errors)
    before = snapshot(contact, ["left_on"])
    contact.left_on = left_on
    contact.save(update_fields=["left_on", "updated_at"])
    record_changes(
        actor=actor,
        target=contact,
        customer_id=contact.customer_id,
        before=before,
        after=snapshot(contact, ["left_on"]),
    )
    keypersons.refresh_customer(contact.customer_id)
    return contact


def _counterpart_errors(counterpart: Staff | None, customer_id: int) -> list[str]:
    if counterpart is None:
        return []
    if not counterpart.is_active:
        return [_("This person has left; choose someone active.")]
    if not Customer.objects.visible_to(counterpart.user).filter(pk=customer_id).exists():
        return [_("This person cannot see the customer; choose someone who looks after it.")]
    return []


@transaction.atomic
def contact_set_counterpart(
    *, actor, contact: Contact, counterpart: Staff | None, expected_version: int | None = None
) -> Contact:
    """高层对高层: who on our side keeps the relationship with this person; None clears it. The counterpart
    must be an active colleague who can see the customer. Audited."""
    require_edit(actor)
    require_scope(actor, contact.customer_id)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact, expected_version)
    if errors := _counterpart_errors(counterpart, contact.customer_id):
        raise ValidationError({"counterpart": errors})
    before = snapshot(contact, ["counterpart"])
    contact.counterpart = counterpart
    contact.save(update_fields=["counterpart", "updated_at"])
    record_changes(
        actor=actor,
        target=contact,
        customer_id=contact.customer_id,
        before=before,
        after=snapshot(contact, ["counterpart"]),
    )
    return contact


RELATION_FIELDS = ["from_contact", "to_contact", "kind"]


def _reports_to_path(customer_id: int, start: int, goal: int) -> bool:
    """Does `start` reach `goal` by following reports-to links of this customer (one query, walked here)?"""
    bosses: dict[int, list[int]] = {}
    for low, high in ContactRelation.objects.filter(customer_id=customer_id, kind=RelationKind.REPORTS_TO).values_list(
        "from_contact_id", "to_contact_id"
    ):
        bosses.setdefault(low, []).append(high)
    seen, todo = set(), [start]
    while todo:
        person = todo.pop()
        if person == goal:
            return True
        if person not in seen:
            seen.add(person)
            todo.extend(bosses.get(person, ()))
    return False


@transaction.atomic
def contact_relation_add(*, actor, from_contact: Contact, to_contact: Contact, kind: str) -> ContactRelation:
    """Record on the key-person map that `from_contact` reports to, or influences, `to_contact`. Both must be
    current contacts of one customer the actor may change; no self-link, no duplicate, and reports-to never
    closes a cycle (A → B → A). The customer's row is locked so two such links cannot cross. Audited."""
    require_edit(actor)
    require_scope(actor, from_contact.customer_id)
    customer = Customer.objects.select_for_update().get(pk=from_contact.customer_id)
    relation = ContactRelation(customer=customer, from_contact=from_contact, to_contact=to_contact, kind=kind)
    errors: dict[str, list[str]] = {}
    if to_contact.customer_id != from_contact.customer_id:
        errors["to_contact"] = [_("Both persons must be contacts of the same customer.")]
    else:
        for name, person in (("from_contact", from_contact), ("to_contact", to_contact)):
            if person.left_on is not None:
                errors[name] = [_("%(name)s has left the customer.") % {"name": person.name}]
    if (
        not errors
        and kind == RelationKind.REPORTS_TO
        and from_contact.pk != to_contact.pk
        and _reports_to_path(customer.pk, to_contact.pk, from_contact.pk)
    ):
        errors["to_contact"] = [
            _("%(boss)s already reports to %(name)s, directly or through others: this would make a circle.")
            % {"boss": to_contact.name, "name": from_contact.name}
        ]
    if (
        not errors
        and ContactRelation.objects.filter(from_contact=from_contact, to_contact=to_contact, kind=kind).exists()
    ):
        errors["to_contact"] = [_("This relation is already recorded.")]
    try:
        relation.full_clean(exclude=list(errors), validate_unique=False)
    except ValidationError as exc:
        errors = merge_errors(errors, exc)
    if errors:
        raise ValidationError(errors)
    relation.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=relation,
        customer_id=customer.pk,
        after=snapshot(relation, RELATION_FIELDS),
    )
    return relation


@transaction.atomic
def contact_relation_remove(*, actor, relation: ContactRelation) -> None:
    """Take a link off the key-person map. Audited with the link as it was."""
    require_edit(actor)
    require_scope(actor, relation.customer_id)
    record(
        actor=actor,
        action=AuditAction.DELETE,
        target=relation,
        customer_id=relation.customer_id,
        before=snapshot(relation, RELATION_FIELDS),
    )
    relation.delete()


def _require_reveal(actor) -> None:
    if not can(actor, Role.REVEAL_ROLES):
        raise PermissionDenied(_("Your role may not see personal data unmasked."))


@transaction.atomic
def contact_reveal_mobile(*, actor, contact: Contact) -> str:
    """The full mobile of a key person, for a role that needs it; every reveal is logged."""
    _require_reveal(actor)
    require_scope(actor, contact.customer_id)
    record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=contact,
        customer_id=contact.customer_id,
        note=stored(gettext_noop("mobile of contact %(name)s"), name=contact.name),
    )
    return contact.mobile


@transaction.atomic
def member_reveal_phone(*, actor, member: Member) -> str:
    _require_reveal(actor)
    require_scope(actor, member.customer_id)
    record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=member,
        customer_id=member.customer_id,
        note=stored(gettext_noop("member number")),
    )
    return member.phone


# --- members -------------------------------------------------------------------------------------
@dataclass
class BulkResult:
    """What a bulk operation did: how many rows landed, and every rejected row with its reasons."""

    done: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row": n, "phone": ..., "errors": {field: [msg]}}

    @property
    def ok(self) -> bool:
        return not self.errors


def _member_from_row(customer: Customer, row: dict, before: dict | None = None) -> Member:
    """A member from a row, or a ValidationError with every field that is wrong (one round)."""
    member = Member(
        customer=customer,
        phone=row.get("phone", ""),
        department=(row.get("department") or "").strip(),
        joined_on=row.get("joined_on"),
        left_on=row.get("left_on"),
        paid_by=row.get("paid_by") or PaidBy.SELF,
        network=row.get("network") or Network.ON_NET,
        short_number=(row.get("short_number") or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    try:
        member.phone = normalize_mobile(member.phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    try:
        member.full_clean(exclude=["customer", *errors], validate_constraints=False)
    except ValidationError as exc:
        errors = merge_errors(errors, exc)
    if "joined_on" not in errors:
        errors = merge_errors(errors, fact_date_errors({"joined_on": member.joined_on}, before))
    if not errors and member.left_on and member.joined_on and member.left_on < member.joined_on:
        errors["left_on"] = [_("The leave date cannot be before the join date.")]
    if errors:
        raise ValidationError(errors)
    return member


@transaction.atomic
def member_add(*, actor, customer: Customer, **fields) -> Member:
    result = members_bulk_add(actor=actor, customer=customer, rows=[fields], all_or_nothing=True)
    if not result.ok:
        raise ValidationError(result.errors[0]["errors"])
    return Member.objects.filter(customer=customer, phone=normalize_mobile(fields["phone"])).latest("id")


@transaction.atomic
def members_bulk_add(*, actor, customer: Customer, rows: list[dict], all_or_nothing: bool) -> BulkResult:
    """Add many members at once. Every bad row is reported with its reasons; with `all_or_nothing`
    one bad row stops the whole batch, otherwise the good rows land."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    result = BulkResult()
    valid: list[tuple[int, Member]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        try:
            member = _member_from_row(customer, row)
        except ValidationError as exc:
            result.errors.append({"row": number, "phone": row.get("phone", ""), "errors": exc.message_dict})
            continue
        if member.phone in seen:
            result.errors.append(
                {
                    "row": number,
                    "phone": member.phone,
                    "errors": {"phone": [_("This number appears twice in the batch.")]},
                }
            )
            continue
        seen.add(member.phone)
        valid.append((number, member))
    current = set(
        Member.objects.current().filter(customer=customer, phone__in=list(seen)).values_list("phone", flat=True)
    )
    for number, member in valid:
        if member.phone in current:
            result.errors.append(
                {
                    "row": number,
                    "phone": member.phone,
                    "errors": {"phone": [_("This number is already a current member of the group.")]},
                }
            )
    result.errors.sort(key=lambda e: e["row"])
    if result.errors and all_or_nothing:
        return result
    new_members = [member for _number, member in valid if member.phone not in current]
    Member.objects.bulk_create(new_members, batch_size=1000)
    result.done = len(new_members)
    if new_members:
        record(
            actor=actor,
            action=AuditAction.CREATE,
            target=customer,
            customer_id=customer.pk,
            after={"members_added": [m.phone for m in new_members]},
            note=stored(gettext_noop("%(n)d members added"), n=len(new_members)),
        )
    return result


@transaction.atomic
def members_bulk_remove(
    *, actor, customer: Customer, phones: list[str], left_on: date, all_or_nothing: bool = True
) -> BulkResult:
    """Record that these numbers left the group on `left_on` (the history is kept, not deleted)."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    result = BulkResult()
    wanted: dict[str, int] = {}
    for number, raw in enumerate(phones, start=1):
        try:
            wanted[normalize_mobile(raw)] = number
        except ValidationError as exc:
            result.errors.append({"row": number, "phone": raw, "errors": {"phone": exc.messages}})
    members = {
        m.phone: m
        for m in Member.objects.current().select_for_update().filter(customer=customer, phone__in=list(wanted))
    }
    for phone, number in wanted.items():
        member = members.get(phone)
        if member is None:
            result.errors.append(
                {
                    "row": number,
                    "phone": phone,
                    "errors": {"phone": [_("This number is not a current member of the group.")]},
                }
            )
        elif left_on < member.joined_on:
            result.errors.append(
                {
                    "row": number,
                    "phone": phone,
                    "errors": {"left_on": [_("The leave date cannot be before the join date.")]},
                }
            )
            members.pop(phone)
    result.errors.sort(key=lambda e: e["row"])
    if result.errors and all_or_nothing:
        return result
    leaving = list(members.values())
    for member in leaving:
        member.left_on = left_on
    Member.objects.bulk_update(leaving, ["left_on"], batch_size=1000)
    result.done = len(leaving)
    if leaving:
        record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=customer,
            customer_id=customer.pk,
            after={"members_removed": [m.phone for m in leaving], "left_on": left_on.isoformat()},
            note=stored(gettext_noop("%(n)d members left"), n=len(leaving)),
        )
        _emit_left(actor, customer.pk, [m.pk for m in leaving], left_on)
    return result


def _emit_left(actor, customer_id: int, member_ids: list[int], left_on: date) -> None:
    """`member.left` for one customer: the members' ids and the date, never their numbers."""
    emit("member.left", customer_id=customer_id, actor=actor, members=sorted(member_ids), left_on=left_on.isoformat())


@transaction.atomic
def member_update(*, actor, member: Member, **fields) -> Member:
    require_edit(actor)
    require_scope(actor, member.customer_id)
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = snapshot(member, MEMBER_FIELDS)
    row = before | fields
    updated = _member_from_row(member.customer, row, before)
    updated.pk = member.pk
    if (
        Member.objects.current()
        .filter(customer_id=member.customer_id, phone=updated.phone)
        .exclude(pk=member.pk)
        .exists()
        and updated.left_on is None
    ):
        raise ValidationError({"phone": [_("This number is already a current member of the group.")]})
    updated.save()
    record_changes(
        actor=actor,
        target=updated,
        customer_id=member.customer_id,
        before=before,
        after=snapshot(updated, MEMBER_FIELDS),
    )
    if updated.left_on and not member.left_on:
        _emit_left(actor, member.customer_id, [member.pk], updated.left_on)
    return updated


@transaction.atomic
def members_leave_absent_from_snapshot(*, actor, period: date) -> int:
    """BOSS's member snapshot of `period` (its newest) no longer lists numbers the month before listed: those
    current members left the group. Their leave date is the month's first day (never before they joined);
    one audit entry and one `member.left` per customer. Customers without snapshots in both months are left
    alone (no snapshot says nothing), and so are numbers no snapshot ever listed. Returns the members."""
    from django.apps import apps
    from django.db.models import Exists, OuterRef

    snapshots = apps.get_model("billing", "MemberSnapshot").objects
    if snapshots.filter(period__gt=period).exists():
        return 0  # a back-filled month: a later snapshot is the word on who is a member now
    previous = date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)

    def listed(month: date, with_phone: bool = True):
        rows = snapshots.filter(period=month, customer_id=OuterRef("customer_id"))
        return rows.filter(phone=OuterRef("phone")) if with_phone else rows

    leaving: dict[int, list[Member]] = {}
    found = (
        Member.objects.current()
        .filter(Exists(listed(previous)), ~Exists(listed(period)), Exists(listed(period, with_phone=False)))
        .select_related("customer")
        .select_for_update(of=("self",))
        .order_by("customer_id", "pk")
    )
    for member in found:
        member.left_on = max(period, member.joined_on)
        leaving.setdefault(member.customer_id, []).append(member)
    for customer_id, members in leaving.items():
        Member.objects.bulk_update(members, ["left_on"], batch_size=1000)
        record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=members[0].customer,
            customer_id=customer_id,
            after={"members_removed": [m.phone for m in members], "left_on": period.isoformat()},
            note=stored(
                gettext_noop("%(n)d members left (BOSS member snapshot %(period)s)"),
                n=len(members),
                period=f"{period:%Y-%m}",
            ),
        )
        _emit_left(actor, customer_id, [m.pk for m in members], period)
    return sum(len(members) for members in leaving.values())


# --- relations and competitors -------------------------------------------------------------------
@transaction.atomic
def affiliation_create(
    *, actor, customer: Customer, related: Customer, kind: str, direction: str, note: str = ""
) -> Affiliation:
    require_edit(actor)
    require_scope(actor, customer.pk)
    affiliation = Affiliation(customer=customer, related=related, kind=kind, direction=direction, note=note)
    affiliation.full_clean()
    affiliation.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=affiliation,
        customer_id=customer.pk,
        after={"related": related.pk, "kind": kind, "direction": direction, "note": note},
    )
    return affiliation


@transaction.atomic
def affiliation_delete(*, actor, affiliation: Affiliation) -> None:
    require_edit(actor)
    require_scope(actor, affiliation.customer_id)
    record(
        actor=actor,
        action=AuditAction.DELETE,
        target=affiliation,
        customer_id=affiliation.customer_id,
        before={"related": affiliation.related_id, "kind": affiliation.kind},
    )
    affiliation.delete()


COMPETITOR_FIELDS = ["competitor", "products", "contract_end", "threat", "note"]


@transaction.atomic
def competitor_save(
    *, actor, customer: Customer, presence: CompetitorPresence | None = None, **fields
) -> CompetitorPresence:
    require_edit(actor)
    require_scope(actor, customer.pk)
    presence = presence or CompetitorPresence(customer=customer)
    before = snapshot(presence, COMPETITOR_FIELDS) if presence.pk else {}
    for name, value in fields.items():
        setattr(presence, name, value)
    presence.full_clean()
    presence.save()
    after = snapshot(presence, COMPETITOR_FIELDS)
    if record_changes(actor=actor, target=presence, customer_id=customer.pk, before=before, after=after):
        # The defence board follows the archive's rivals (a high threat alerts the owner and supervisor).
        emit("competitor.threat_recorded", customer_id=customer.pk, actor=actor, presence=presence.pk, attack=None,
             competitor=presence.competitor, threat=presence.threat, from_threat=before.get("threat", ""),
             contract_end=after["contract_end"])  # fmt: skip
    return presence


@transaction.atomic
def contact_set_dates(*, actor, contact: Contact, dates: list[tuple[str, date]]) -> None:
    """Replace a contact's important dates (other than the birthday) with `dates`; audited when they change."""
    require_edit(actor)
    require_scope(actor, contact.customer_id)
    before = [(d.label, d.date.isoformat()) for d in contact.dates.all()]
    cleaned: list[ContactDate] = []
    for label, when in dates:
        item = ContactDate(contact=contact, label=" ".join((label or "").split()), date=when)
        item.full_clean(exclude=["contact"])
        cleaned.append(item)
    after = [(d.label, d.date.isoformat()) for d in cleaned]
    if sorted(before) == sorted(after):
        return
    contact.dates.all().delete()
    ContactDate.objects.bulk_create(cleaned)
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=contact,
        customer_id=contact.customer_id,
        before={"dates": [f"{label} {when}" for label, when in before]},
        after={"dates": [f"{label} {when}" for label, when in after]},
    )
