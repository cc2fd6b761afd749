"""REST endpoints for group customers, their contacts, members and change history.

Handlers only translate between JSON and the queries/services: every read goes through `queries`
(scoped; out of scope answers 404), every write through `services` (rules, permissions, audit).
Phone numbers and e-mail addresses are always masked in answers; the `reveal` endpoints return one
number in full to the roles allowed to see it, and every reveal is logged.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from jiketong.api.base import (
    ErrorOut,
    Id,
    IfMatch,
    Lookups,
    Page,
    PatchSchema,
    RowVersion,
    csv_download,
    filtered,
    from_attr,
    resolve_ids,
    with_parent_pk,
)
from jiketong.core.concurrency import expected_from_if_match, with_etag
from jiketong.core.masking import mask_audit_values
from jiketong.core.models import AuditEvent
from jiketong.core.notes import readable
from jiketong.core.validators import mask_email, mask_mobile, mask_text, to_halfwidth
from jiketong.org.models import OrgUnit, Staff

from . import keypersons, queries, services
from .models import Contact, Customer, Industry, KeyPersonGap, Member

router = Router(tags=["customers"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- customers -----------------------------------------------------------------------------------
class CustomerOut(Schema):
    id: int
    row_version: RowVersion
    number: str | None
    name: str
    short_name: str
    uscc: str | None
    type: str
    industry: str = from_attr("industry_id", description="Industry code.")
    size: int | None
    address: str
    org_unit: int = from_attr("org_unit_id")
    owner: int | None = from_attr("owner_id", description="Staff id of the customer manager.")
    backup_owner: int | None = from_attr("backup_owner_id")
    grade: str
    status: str
    service_level: str
    source: str
    cooperation_since: date | None
    parent: int | None = from_attr(
        "parent_pk", description="Id of the parent customer in the group hierarchy; null at the top."
    )
    note: str
    created_at: datetime
    updated_at: datetime


class MemberSummaryOut(Schema):
    current: int
    on_net: int
    group_paid: int
    left: int


class CustomerDetailOut(CustomerOut):
    unit_count: int = Field(..., description="Units under this customer in its group (all scopes, counted only).")
    province_count: int = Field(..., description="Provinces the group (this unit and everything under it) spans.")
    member_summary: MemberSummaryOut


class CustomerFilterIn(Schema):
    """The customer list's filters; the same filter set as the HTML list, so both answer alike."""

    search: str | None = Field(None, description="Name, short name, USCC, customer number or pinyin (gzdt).")
    region: str | None = Field(None, description="Org unit code; includes every unit under it.")
    industry: str | None = Field(None, description="Industry code.")
    grade: str | None = Field(None, description="A1, A2, B1, B2, C, D, or A / B for both sub-grades.")
    status: str | None = None
    owner: Id | None = Field(None, description="Staff id of the customer manager.")
    type: str | None = None
    parent: Id | None = Field(None, description="Only the direct units of this customer.")


class CustomerIn(Schema):
    name: str
    type: str
    industry: str = Field(..., description="Industry code.")
    org_unit: int
    number: str | None = None
    short_name: str = ""
    uscc: str | None = Field(None, description="统一社会信用代码, checked per GB 32100-2015.")
    size: int | None = None
    address: str = ""
    owner: int | None = Field(None, description="Staff id; a customer manager creating a customer owns it.")
    backup_owner: int | None = None
    grade: str = "D"
    status: str = "prospect"
    service_level: str = "standard"
    source: str = ""
    cooperation_since: date | None = None
    note: str = ""
    parent: int | None = Field(None, description="Id of a visible customer to place this one under.")
    grade_reason: str = ""


class CustomerPatch(PatchSchema):
    nullable = frozenset({"backup_owner", "cooperation_since", "number", "owner", "parent", "size", "uscc"})

    name: str | None = None
    type: str | None = None
    industry: str | None = None
    org_unit: int | None = None
    number: str | None = None
    short_name: str | None = None
    uscc: str | None = None
    size: int | None = None
    address: str | None = None
    owner: int | None = None
    backup_owner: int | None = None
    grade: str | None = None
    status: str | None = None
    service_level: str | None = None
    source: str | None = None
    cooperation_since: date | None = None
    note: str | None = None
    parent: int | None = Field(None, description="Move under this visible customer; null makes it a top-level group.")
    grade_reason: str = Field("", description="Required when `grade` changes.")


def _related(user, data: dict[str, Any]) -> dict[str, Any]:
    """Swap the ids in a request body for the records the services take. An id the user may not see is
    answered like one that does not exist."""
    lookups: Lookups = {
        "industry": (Industry.objects.all(), _("There is no industry with this code.")),
        "org_unit": (OrgUnit.objects.all(), _("There is no org unit with this id.")),
        "owner": (Staff.objects.visible_to(user).select_related("user"), _("There is no staff member with this id.")),
        "backup_owner": (
            Staff.objects.visible_to(user).select_related("user"),
            _("There is no staff member with this id."),
        ),
        "parent": (queries.customers_visible(user), _("There is no customer with this id.")),
    }
    return resolve_ids(data, lookups)


def _detail(user, customer_id: Id) -> Customer:
    customer = queries.customer_get(user, customer_id)
    customer.parent_pk = (
        Customer._base_manager.filter(path=customer.path[: -Customer.steplen]).values_list("pk", flat=True).first()
        if customer.depth > 1
        else None
    )
    hierarchy = queries.customer_hierarchy(user, customer, child_limit=0)
    customer.unit_count = hierarchy.unit_count
    customer.province_count = hierarchy.province_count
    customer.member_summary = queries.member_summary(customer)
    return customer


@router.get("/customers", response={200: list[CustomerOut], 400: ErrorOut}, summary="List customers")
@paginate(Page)
def customer_list(request, filters: Query[CustomerFilterIn]):
    """The customers the caller may see, by name. Invalid filter values answer 400 naming the filter."""
    customers = filtered(queries.customer_list, request.user, filters)
    return with_parent_pk(customers, Customer.steplen)


@router.post("/customers", response={201: CustomerDetailOut, **ERRORS}, summary="Create a customer")
def customer_create(request, payload: CustomerIn):
    data = _related(request.user, payload.model_dump())
    customer = services.customer_create(actor=request.user, **data)
    return Status(201, _detail(request.user, customer.pk))


@router.get("/customers/{customer_id}", response={200: CustomerDetailOut, **ERRORS}, summary="Get a customer")
def customer_get(request, response: HttpResponse, customer_id: Id):
    """The record with its group roll-up counts and member summary; its ETag names its version."""
    return with_etag(response, _detail(request.user, customer_id))


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerDetailOut, **ERRORS},
    summary="Change a customer",
    description=(
        "Send only the fields to change. A new grade needs `grade_reason` and lands in the grade history. "
        "Customers are never deleted: archive one by setting `status` (e.g. churned)."
    ),
)
def customer_patch(request, response: HttpResponse, customer_id: Id, payload: CustomerPatch, if_match: IfMatch = None):
    customer = queries.customer_get(request.user, customer_id)
    data = _related(request.user, payload.model_dump(exclude_unset=True))
    expected = expected_from_if_match(if_match)
    services.customer_update(actor=request.user, customer=customer, expected_version=expected, **data)
    return with_etag(response, _detail(request.user, customer_id))


# --- history -------------------------------------------------------------------------------------
class HistoryOut(Schema):
    id: int
    at: datetime
    actor: str | None = Field(..., description="Username of who did it; null for the system.")
    action: str
    target_type: str
    target_id: int | None
    target_repr: str
    before: dict[str, Any] | None = Field(..., description="Changed fields' old values; personal data masked.")
    after: dict[str, Any] | None
    note: str

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_target_repr(obj: AuditEvent) -> str:
        return mask_text(obj.target_repr)

    @staticmethod
    def resolve_note(obj: AuditEvent) -> str:
        return mask_text(readable(obj.note))

    @staticmethod
    def resolve_before(obj: AuditEvent) -> dict | None:
        return mask_audit_values(obj.target_type, obj.before)

    @staticmethod
    def resolve_after(obj: AuditEvent) -> dict | None:
        return mask_audit_values(obj.target_type, obj.after)


class HistoryFilter(Schema):
    action: str | None = Field(None, description="create, update, delete, grade, owner, reveal, …")
    search: str | None = Field(None, description="Part of the record's name or the note.")


@router.get("/customers/{customer_id}/history", response={200: list[HistoryOut], **ERRORS}, summary="Change history")
@paginate(Page)
def customer_history(request, customer_id: Id, filters: Query[HistoryFilter]):
    """Audit events about the customer and everything it owns, newest first."""
    events = queries.customer_history(request.user, customer_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.search:
        text = filters.search.strip()
        events = events.filter(Q(target_repr__icontains=text) | Q(note__icontains=text))
    return events


# --- contacts ------------------------------------------------------------------------------------
class ContactDateSchema(Schema):
    label: str
    date: date


class ContactOut(Schema):
    id: int
    row_version: RowVersion
    name: str
    title: str
    department: str
    decision_role: str
    is_key_person: bool
    mobile: str = Field(..., description="Always masked (138****1234); POST …/reveal for the full number.")
    email: str = Field(..., description="Masked (z***@example.com).")
    birthday: date | None
    preferences: str
    closeness: int | None
    notes: str
    dates: list[ContactDateSchema]
    left_on: date | None = Field(None, description="The day the person left the customer (离职); null while current.")
    counterpart: int | None = from_attr(
        "counterpart_id",
        None,
        description="Our staff member (id) who keeps the relationship with this person (高层对高层).",
    )
    counterpart_name: str = ""

    @staticmethod
    def resolve_counterpart_name(obj: Contact) -> str:
        return obj.counterpart.name if obj.counterpart_id else ""

    @staticmethod
    def resolve_mobile(obj: Contact) -> str:
        return mask_mobile(obj.mobile)

    @staticmethod
    def resolve_email(obj: Contact) -> str:
        return mask_email(obj.email)

    @staticmethod
    def resolve_dates(obj: Contact) -> list[dict]:
        return [{"label": d.label, "date": d.date} for d in obj.dates.all()]


class ContactIn(Schema):
    name: str
    title: str = ""
    department: str = ""
    decision_role: str = ""
    is_key_person: bool = False
    mobile: str = Field("", description="Mainland mobile; +86, full-width digits, spaces and dashes are accepted.")
    email: str = ""
    birthday: date | None = None
    preferences: str = ""
    closeness: int | None = Field(None, description="1–5.")
    notes: str = ""
    dates: list[ContactDateSchema] = Field([], description="Important dates other than the birthday.")


class ContactPatch(PatchSchema):
    nullable = frozenset({"birthday", "closeness"})

    name: str | None = None
    title: str | None = None
    department: str | None = None
    decision_role: str | None = None
    is_key_person: bool | None = None
    mobile: str | None = None
    email: str | None = None
    birthday: date | None = None
    preferences: str | None = None
    closeness: int | None = None
    notes: str | None = None
    dates: list[ContactDateSchema] | None = Field(None, description="Replaces all important dates when sent.")


class MobileOut(Schema):
    mobile: str


class ListSearch(Schema):
    search: str | None = None


def _contact(user, customer_id: Id, contact_id: Id) -> Contact:
    return get_object_or_404(queries.contacts_of(user, customer_id), pk=contact_id)


@router.get("/customers/{customer_id}/contacts", response={200: list[ContactOut], **ERRORS}, summary="List contacts")
@paginate(Page)
def contact_list(request, customer_id: Id, filters: Query[ListSearch]):
    queries.customer_get(request.user, customer_id)
    contacts = queries.contacts_of(request.user, customer_id)
    if filters.search:
        contacts = contacts.filter(name__icontains=filters.search.strip())
    return contacts


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def contact_create(request, customer_id: Id, payload: ContactIn):
    customer = queries.customer_get(request.user, customer_id)
    data = payload.model_dump()
    dates = [(d["label"], d["date"]) for d in data.pop("dates")]
    contact = services.contact_create(actor=request.user, customer=customer, dates=dates, **data)
    return Status(201, _contact(request.user, customer_id, contact.pk))


@router.get(
    "/customers/{customer_id}/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Get a contact"
)
def contact_get(request, response: HttpResponse, customer_id: Id, contact_id: Id):
    return with_etag(response, _contact(request.user, customer_id, contact_id))


@router.patch(
    "/customers/{customer_id}/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact"
)
def contact_patch(
    request, response: HttpResponse, customer_id: Id, contact_id: Id, payload: ContactPatch, if_match: IfMatch = None
):
    contact = _contact(request.user, customer_id, contact_id)
    data = payload.model_dump(exclude_unset=True)
    if data.get("dates") is not None:
        data["dates"] = [(d["label"], d["date"]) for d in data["dates"]]
    expected = expected_from_if_match(if_match)
    services.contact_update(actor=request.user, contact=contact, expected_version=expected, **data)
    return with_etag(response, _contact(request.user, customer_id, contact_id))


@router.delete(
    "/customers/{customer_id}/contacts/{contact_id}",
    response={204: None, **ERRORS},
    summary="Delete a contact",
    description="Erases the person's record, e.g. on their request under PIPL; the audit keeps that it happened.",
)
def contact_delete(request, customer_id: Id, contact_id: Id, if_match: IfMatch = None):
    contact = _contact(request.user, customer_id, contact_id)
    services.contact_delete(actor=request.user, contact=contact, expected_version=expected_from_if_match(if_match))
    return Status(204, None)


@router.post(
    "/customers/{customer_id}/contacts/{contact_id}/reveal",
    response={200: MobileOut, **ERRORS},
    summary="Reveal a contact's mobile",
    description="Customer managers, inside sales and supervisors only; every reveal is logged.",
)
def contact_reveal(request, customer_id: Id, contact_id: Id):
    contact = _contact(request.user, customer_id, contact_id)
    return {"mobile": services.contact_reveal_mobile(actor=request.user, contact=contact)}


class LeftIn(Schema):
    left_on: date | None = Field(..., description="The day the person left the customer; null undoes the mark.")


@router.post(
    "/customers/{customer_id}/contacts/{contact_id}/left",
    response={200: ContactOut, **ERRORS},
    summary="Mark a contact as having left the customer",
    description="The person stays in the history, greyed on the key-person map, and no longer counts as a known "
    "decision maker. A day still to come is refused (400 on `left_on`).",
)
def contact_left(request, customer_id: Id, contact_id: Id, payload: LeftIn, if_match: IfMatch = None):
    contact = _contact(request.user, customer_id, contact_id)
    services.contact_mark_left(
        actor=request.user, contact=contact, left_on=payload.left_on, expected_version=expected_from_if_match(if_match)
    )
    return _contact(request.user, customer_id, contact_id)


class CounterpartIn(Schema):
    counterpart: int | None = Field(..., description="A staff id; null clears it.")


@router.put(
    "/customers/{customer_id}/contacts/{contact_id}/counterpart",
    response={200: ContactOut, **ERRORS},
    summary="Set our counterpart for a contact",
    description="高层对高层: the colleague who keeps the relationship. They must be active and able to see the "
    "customer (400 on `counterpart` otherwise, as for an id the caller may not pick).",
)
def contact_counterpart(request, customer_id: Id, contact_id: Id, payload: CounterpartIn, if_match: IfMatch = None):
    contact = _contact(request.user, customer_id, contact_id)
    staff = Staff.objects.visible_to(request.user).select_related("user")
    counterpart = resolve_ids(payload.model_dump(), {"counterpart": (staff, _("No such person."))})
    services.contact_set_counterpart(
        actor=request.user, contact=contact, **counterpart, expected_version=expected_from_if_match(if_match)
    )
    return _contact(request.user, customer_id, contact_id)


# --- key-person map ------------------------------------------------------------------------------
class RelationOut(Schema):
    id: int
    from_contact: int = from_attr(
        "from_contact_id", description="The contact who reports to, or influences, `to_contact`."
    )
    to_contact: int = from_attr("to_contact_id")
    kind: Literal["reports_to", "influences"]
    from_name: str = from_attr("from_contact.name")
    to_name: str = from_attr("to_contact.name")


class RelationIn(Schema):
    from_contact: int
    to_contact: int
    kind: Literal["reports_to", "influences"]


@router.get(
    "/customers/{customer_id}/contact-relations",
    response={200: list[RelationOut], **ERRORS},
    summary="List the relations between a customer's contacts",
)
@paginate(Page)
def relation_list(request, customer_id: Id):
    queries.customer_get(request.user, customer_id)
    return queries.relations_of(request.user, customer_id)


@router.post(
    "/customers/{customer_id}/contact-relations",
    response={201: RelationOut, **ERRORS},
    summary="Relate two contacts",
    description="Both must be current contacts of this customer; no self-link, no duplicate, and reports-to never "
    "closes a circle (400 on `to_contact`).",
)
def relation_create(request, customer_id: Id, payload: RelationIn):
    queries.customer_get(request.user, customer_id)
    contacts = queries.contacts_of(request.user, customer_id)
    message = _("This customer has no such contact.")
    ends = resolve_ids(
        payload.model_dump(include={"from_contact", "to_contact"}),
        {"from_contact": (contacts, message), "to_contact": (contacts, message)},
    )
    relation = services.contact_relation_add(actor=request.user, **ends, kind=payload.kind)
    return Status(201, queries.relations_of(request.user, customer_id).get(pk=relation.pk))


@router.delete(
    "/customers/{customer_id}/contact-relations/{relation_id}",
    response={204: None, **ERRORS},
    summary="Remove a relation between contacts",
)
def relation_delete(request, customer_id: Id, relation_id: Id):
    relation = get_object_or_404(queries.relations_of(request.user, customer_id), pk=relation_id)
    services.contact_relation_remove(actor=request.user, relation=relation)
    return Status(204, None)


class MapNodeOut(Schema):
    id: str
    name: str
    title: str
    role: str
    decider: bool
    key_person: bool
    left: bool
    counterpart: str
    last_met: str = Field(..., description="YYYY-MM-DD of the last face-to-face activity with them, or empty.")
    unmet: bool = Field(..., description="A current decision maker nobody met in the configured days (90).")


class MapLinkOut(Schema):
    source: str
    target: str
    kind: str
    label: str


class KeyPersonMapOut(Schema):
    nodes: list[MapNodeOut]
    links: list[MapLinkOut]
    labels: dict[str, str]
    more: bool = Field(..., description="The customer has more contacts than the map draws.")
    has_decider: bool


@router.get(
    "/customers/{customer_id}/key-person-map",
    response={200: KeyPersonMapOut, **ERRORS},
    summary="The key-person map",
    description="What the 360 page's chart draws: persons by name, title and role (no mobile, e-mail or other "
    "personal data), their relations, our counterparts and when each was last met.",
)
def key_person_map(request, customer_id: Id):
    customer = queries.customer_get(request.user, customer_id)
    keymap = queries.key_person_map(request.user, customer)
    return {**keypersons.map_data(keymap), "has_decider": keymap.has_decider}


class GapOut(Schema):
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    grade: str
    kind: Literal["no_decider", "unmet_decider"]
    contact: int | None = from_attr("contact_id")
    contact_name: str
    last_met_at: datetime | None
    computed_on: date

    @staticmethod
    def resolve_contact_name(obj: KeyPersonGap) -> str:
        return obj.contact.name if obj.contact_id else ""


class GapFilter(Schema):
    kind: Literal["no_decider", "unmet_decider"] = "no_decider"


@router.get(
    "/key-person-gaps",
    response={200: list[GapOut], **ERRORS},
    summary="Customers without a known decision maker, or decision makers not met in 90 days",
    description="From the facts kept each night and when a customer's contacts change (decision 0020), in the "
    "caller's scope, biggest grades first.",
)
@paginate(Page)
def key_person_gaps(request, filters: Query[GapFilter]):
    return queries.key_person_gaps(request.user, filters.kind)


# --- members -------------------------------------------------------------------------------------
class MemberOut(Schema):
    id: int
    phone: str = Field(..., description="Always masked (138****1234); POST …/reveal for the full number.")
    department: str
    joined_on: date
    left_on: date | None
    paid_by: str
    network: str
    short_number: str

    @staticmethod
    def resolve_phone(obj: Member) -> str:
        return mask_mobile(obj.phone)


class MemberIn(Schema):
    phone: str = Field(..., description="Mainland mobile; +86, full-width digits, spaces and dashes are accepted.")
    joined_on: date
    left_on: date | None = None
    department: str = ""
    paid_by: str = Field("self", description="group or self.")
    network: str = Field("on_net", description="on_net or off_net.")
    short_number: str = ""


class MemberPatch(PatchSchema):
    nullable = frozenset({"left_on"})

    phone: str | None = None
    joined_on: date | None = None
    left_on: date | None = None
    department: str | None = None
    paid_by: str | None = None
    network: str | None = None
    short_number: str | None = None


class MemberFilter(Schema):
    current: bool | None = Field(None, description="true: current members only; false: members who left.")
    search: str | None = Field(None, description="Trailing digits of the phone number (or the whole number).")


class RowError(Schema):
    row: int = Field(..., description="1-based position in the request.")
    phone: str
    errors: dict[str, list[str]]


class BulkAddIn(Schema):
    rows: list[MemberIn]
    all_or_nothing: bool = Field(True, description="true: one bad row rejects the batch; false: good rows land.")


class BulkAddOut(Schema):
    detail: str = ""
    added: int
    errors: list[RowError]


class BulkRemoveIn(Schema):
    phones: list[str]
    left_on: date
    all_or_nothing: bool = True


class BulkRemoveOut(Schema):
    detail: str = ""
    removed: int
    errors: list[RowError]


class PhoneOut(Schema):
    phone: str


def _member(user, customer_id: Id, member_id: Id) -> Member:
    return get_object_or_404(queries.members_of(user, customer_id), pk=member_id)


def _phone_tail(search: str) -> str:
    return "".join(ch for ch in to_halfwidth(search) if ch.isdigit())


@router.get("/customers/{customer_id}/members", response={200: list[MemberOut], **ERRORS}, summary="List members")
@paginate(Page)
def member_list(request, customer_id: Id, filters: Query[MemberFilter]) -> QuerySet[Member]:
    queries.customer_get(request.user, customer_id)
    members = queries.members_of(request.user, customer_id, current_only=filters.current is True)
    if filters.current is False:
        members = members.filter(left_on__isnull=False)
    if filters.search:
        tail = _phone_tail(filters.search)
        members = members.filter(phone__endswith=tail) if tail else members.none()
    return members


@router.post("/customers/{customer_id}/members", response={201: MemberOut, **ERRORS}, summary="Add a member")
def member_create(request, customer_id: Id, payload: MemberIn):
    customer = queries.customer_get(request.user, customer_id)
    member = services.member_add(actor=request.user, customer=customer, **payload.model_dump())
    return Status(201, member)


@router.post(
    "/customers/{customer_id}/members/bulk-add",
    response={200: BulkAddOut, 400: BulkAddOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Add many members",
    description=(
        "Every rejected row comes back with its reasons. With `all_or_nothing` (the default) any bad row "
        "rejects the batch with 400 and nothing is added; otherwise the good rows land and the answer is 200."
    ),
)
def member_bulk_add(request, customer_id: Id, payload: BulkAddIn):
    customer = queries.customer_get(request.user, customer_id)
    result = services.members_bulk_add(
        actor=request.user,
        customer=customer,
        rows=[row.model_dump() for row in payload.rows],
        all_or_nothing=payload.all_or_nothing,
    )
    if result.errors and payload.all_or_nothing:
        return Status(
            400, {"detail": _("No member was added: fix the rows listed."), "added": 0, "errors": result.errors}
        )
    return Status(200, {"added": result.done, "errors": result.errors})


@router.post(
    "/customers/{customer_id}/members/bulk-remove",
    response={200: BulkRemoveOut, 400: BulkRemoveOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Record that members left",
    description="Members are never deleted: their `left_on` is set, so the history stays. Same rules as bulk-add.",
)
def member_bulk_remove(request, customer_id: Id, payload: BulkRemoveIn):
    customer = queries.customer_get(request.user, customer_id)
    result = services.members_bulk_remove(
        actor=request.user,
        customer=customer,
        phones=payload.phones,
        left_on=payload.left_on,
        all_or_nothing=payload.all_or_nothing,
    )
    if result.errors and payload.all_or_nothing:
        return Status(
            400, {"detail": _("No member was removed: fix the rows listed."), "removed": 0, "errors": result.errors}
        )
    return Status(200, {"removed": result.done, "errors": result.errors})


@router.get("/customers/{customer_id}/members/{member_id}", response={200: MemberOut, **ERRORS}, summary="Get a member")
def member_get(request, customer_id: Id, member_id: Id):
    return _member(request.user, customer_id, member_id)


@router.patch(
    "/customers/{customer_id}/members/{member_id}", response={200: MemberOut, **ERRORS}, summary="Change a member"
)
def member_patch(request, customer_id: Id, member_id: Id, payload: MemberPatch):
    member = _member(request.user, customer_id, member_id)
    return services.member_update(actor=request.user, member=member, **payload.model_dump(exclude_unset=True))


@router.post(
    "/customers/{customer_id}/members/{member_id}/reveal",
    response={200: PhoneOut, **ERRORS},
    summary="Reveal a member's number",
    description="Customer managers, inside sales and supervisors only; every reveal is logged.",
)
def member_reveal(request, customer_id: Id, member_id: Id):
    member = _member(request.user, customer_id, member_id)
    return {"phone": services.member_reveal_phone(actor=request.user, member=member)}


# --- archive import (customers.imports; decision 0018) ---------------------------------------------------
class ArchiveImportOut(Schema):
    id: int
    status: str = Field(..., description="queued, running, succeeded, partially or failed.")
    file_name: str
    mode: str
    match: str
    action: str
    allow_same_name: bool
    rows_total: int
    rows_ok: int
    rows_bad: int
    progress: int = Field(..., description="0–100.")
    counts: dict[str, int] = Field(..., description="created, updated, unchanged, contacts, members.")
    message: str
    error_report: str | None = Field(..., description="URL of the CSV of the bad rows, when there are any.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_error_report(obj) -> str | None:
        return f"/api/v1/archive/imports/{obj.pk}/errors" if obj.error_path else None


@router.post(
    "/archive/imports",
    response={202: ArchiveImportOut, **ERRORS},
    summary="Import customers, key persons and members",
    description=(
        "Multipart upload: `file` (.xlsx, or .csv in UTF-8 or GBK: a survey sheet or a BOSS customer master, "
        "Chinese or English headings, see docs/customers.md), `match` (uscc or number: how rows find customers), "
        "`action` (upsert, create or update), `mode` (all: nothing lands while a row is wrong; good: the good rows "
        "land), `allow_same_name`. Small files are imported before the answer, large ones by the task worker: "
        "follow the run with GET. Supervisors and administrators; rows land in their own subtree only."
    ),
)
def archive_import_create(
    request,
    file: File[UploadedFile],
    match: Form[Literal["uscc", "number"]] = "uscc",
    action: Form[Literal["upsert", "create", "update"]] = "upsert",
    mode: Form[Literal["all", "good"]] = "all",
    allow_same_name: Form[bool] = False,
):
    from . import imports

    run = imports.archive_import_start(
        actor=request.user, upload=file, mode=mode, match=match, action=action, allow_same_name=allow_same_name
    )
    return Status(202, run)


@router.get(
    "/archive/imports/{archive_run_id}", response={200: ArchiveImportOut, **ERRORS}, summary="An archive import"
)
def archive_import_get(request, archive_run_id: Id):
    from . import imports

    imports.require_import(request.user)
    return imports.import_run_get(request.user, archive_run_id)


@router.get(
    "/archive/imports/{archive_run_id}/errors",
    response={200: None, **ERRORS},
    summary="An archive import's error report",
    description="CSV (UTF-8 with BOM): sheet, row number, key, name, column and problem, one line per problem.",
)
def archive_import_errors(request, archive_run_id: Id):
    from . import imports

    imports.require_import(request.user)
    run, path = imports.error_report(request.user, archive_run_id)
    return csv_download(path, f"archive-import-{run.pk}-errors.csv")
