"""Every read of customers and what they own, scoped to the user. Views and the API call these."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jiketong.core.models import AuditEvent
from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit

from . import keypersons
from .filters import CustomerFilter
from .models import (
    Affiliation,
    CompetitorPresence,
    Contact,
    ContactRelation,
    Customer,
    DecisionRole,
    GapKind,
    GradeChange,
    KeyPersonGap,
    Member,
    Network,
    PaidBy,
)

LIST_RELATED = ["industry", "org_unit", "owner", "backup_owner"]


def customers_visible(user) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user)


def customer_list(user, params=None) -> tuple[CustomerFilter, QuerySet[Customer]]:
    """The filtered, scoped list. Returns the filter (for its form and errors) and the queryset."""
    queryset = customers_visible(user).select_related(*LIST_RELATED).order_by("name", "id")
    customer_filter = CustomerFilter(params or None, queryset=queryset, user=user)
    return customer_filter, customer_filter.qs


def customer_get(user, pk: int, *, for_update: bool = False) -> Customer:
    """One customer the user may see, or 404 (the same answer as a customer that does not exist)."""
    queryset = customers_visible(user).select_related(*LIST_RELATED, "owner__user", "backup_owner__user")
    return get_object_or_404(queryset, pk=pk)


@dataclass
class Hierarchy:
    """A customer's place in its group: parent, visible child units, and roll-up counts of the whole
    subtree (counts only; units outside the user's scope are counted, never named)."""

    parent: Customer | None
    parent_hidden: bool
    children: list[Customer]
    unit_count: int
    province_count: int
    hidden_children: int


def customer_hierarchy(user, customer: Customer, child_limit: int = 50) -> Hierarchy:
    parent = None
    parent_hidden = False
    if customer.depth > 1:
        parent_path = customer.path[: (customer.depth - 1) * Customer.steplen]
        parent = customers_visible(user).filter(path=parent_path).first()
        parent_hidden = parent is None
    units = Customer.objects.filter(subtree(customer.path), depth__gt=customer.depth)
    province_len = OrgUnit.steplen * 2
    rollup = units.aggregate(
        units=Count("pk"),
        children=Count("pk", filter=Q(depth=customer.depth + 1)),
    )
    # Provinces of the whole group (this unit and every unit under it), for the cross-province flag.
    provinces = Customer.objects.filter(subtree(customer.path)).values_list("org_unit__path", flat=True).distinct()
    province_count = len({path[:province_len] for path in provinces[:10000]})
    children = list(
        customers_visible(user)
        .filter(subtree(customer.path), depth=customer.depth + 1)
        .select_related("org_unit")
        .order_by("name")[:child_limit]
    )
    return Hierarchy(
        parent=parent,
        parent_hidden=parent_hidden,
        children=children,
        unit_count=rollup["units"],
        province_count=province_count,
        hidden_children=max(0, rollup["children"] - _visible_children_count(user, customer)),
    )


def _visible_children_count(user, customer: Customer) -> int:
    return customers_visible(user).filter(subtree(customer.path), depth=customer.depth + 1).count()


@dataclass
class MemberSummary:
    current: int
    on_net: int
    group_paid: int
    left: int


def member_summary(customer: Customer) -> MemberSummary:
    counts = Member.objects.filter(customer=customer).aggregate(
        current=Count("pk", filter=Q(left_on__isnull=True)),
        on_net=Count("pk", filter=Q(left_on__isnull=True, network=Network.ON_NET)),
        group_paid=Count("pk", filter=Q(left_on__isnull=True, paid_by=PaidBy.GROUP)),
        left=Count("pk", filter=Q(left_on__isnull=False)),
    )
    return MemberSummary(**counts)


def members_of(user, customer_pk: int, *, current_only: bool = False) -> QuerySet[Member]:
    queryset = Member.objects.visible_to(user).filter(customer_id=customer_pk)
    return queryset.current() if current_only else queryset


def contacts_of(user, customer_pk: int) -> QuerySet[Contact]:
    """A customer's contacts, those who left last (greyed)."""
    return (
        Contact.objects.visible_to(user)
        .filter(customer_id=customer_pk)
        .select_related("counterpart")
        .prefetch_related("dates")
        .order_by(F("left_on").asc(nulls_first=True), "-is_key_person", "name", "id")
    )


# --- the key-person map (decision 0020) ---------------------------------------------------------------
MAP_LIMIT = 100  # persons drawn on one map; a customer with more shows its deciders and key persons first
MAP_RELATIONS_LIMIT = 400


@dataclass
class KeyPersonMap:
    contacts: list[Contact]  # each with `last_met` (datetime or None) and `unmet` (a current decider not met)
    relations: list[ContactRelation]
    more: bool  # more contacts than the map draws
    since: datetime  # meetings count from here on

    @property
    def days(self) -> int:
        return keypersons.unmet_days()

    @property
    def has_decider(self) -> bool:
        return any(c.decision_role == DecisionRole.DECIDER and c.left_on is None for c in self.contacts)

    @property
    def unmet(self) -> list[Contact]:
        return [c for c in self.contacts if c.unmet]


def key_person_map(user, customer: Customer, today: date | None = None) -> KeyPersonMap:
    """The 360 page's map, live: current decision makers first, then key persons, those who left last; when
    each was last met (keypersons.last_met); the relations among the persons drawn. Two queries."""
    since = keypersons.unmet_since(today or timezone.localdate())
    rank = Case(
        When(keypersons.known_decider(), then=Value(0)),
        When(left_on__isnull=True, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    rows = list(
        Contact.objects.visible_to(user)
        .filter(customer_id=customer.pk)
        .select_related("counterpart")
        .annotate(last_met=keypersons.last_met(), map_rank=rank)
        .order_by("map_rank", "-is_key_person", "name", "id")[: MAP_LIMIT + 1]
    )
    contacts = rows[:MAP_LIMIT]
    for contact in contacts:
        contact.unmet = contact.map_rank == 0 and (contact.last_met is None or contact.last_met < since)
    ids = [c.pk for c in contacts]
    relations = list(
        ContactRelation.objects.visible_to(user)
        .filter(customer_id=customer.pk, from_contact_id__in=ids, to_contact_id__in=ids)
        .order_by("kind", "id")[:MAP_RELATIONS_LIMIT]
    )
    by_id = {c.pk: c for c in contacts}
    for relation in relations:  # named on the page without a query each
        relation.from_contact, relation.to_contact = by_id[relation.from_contact_id], by_id[relation.to_contact_id]
    return KeyPersonMap(contacts=contacts, relations=relations, more=len(rows) > MAP_LIMIT, since=since)


def relations_of(user, customer_pk: int) -> QuerySet[ContactRelation]:
    return (
        ContactRelation.objects.visible_to(user)
        .filter(customer_id=customer_pk)
        .select_related("from_contact", "to_contact")
        .order_by("kind", "id")
    )


def relation_get(user, pk: int) -> ContactRelation:
    return get_object_or_404(ContactRelation.objects.visible_to(user).select_related("customer"), pk=pk)


def key_person_gaps(user, kind: str) -> QuerySet[KeyPersonGap]:
    """The kept gaps of one kind in the user's scope, biggest customers first (off the (kind, grade,
    customer) index: a page reads its rows and stops)."""
    if kind not in GapKind.values:
        kind = GapKind.NO_DECIDER
    return (
        KeyPersonGap.objects.visible_to(user)
        .filter(kind=kind)
        .select_related("customer__owner", "customer__org_unit", "contact__counterpart")
        .order_by("grade", "customer_id", "id")
    )


def grade_history(user, customer_pk: int) -> QuerySet[GradeChange]:
    return GradeChange.objects.visible_to(user).filter(customer_id=customer_pk).select_related("changed_by")


def customer_history(user, customer_pk: int) -> QuerySet[AuditEvent]:
    """Audit events about the customer and everything it owns, newest first. The customer itself is
    checked for scope first: the events table has no foreign key to scope through."""
    customer_get(user, customer_pk)
    return AuditEvent.objects.filter(customer_id=customer_pk).select_related("actor").order_by("-at", "-id")


# --- added for the HTML UI --------------------------------------------------------------------------
def grade_status_counts(user) -> list[dict]:
    """Visible customers counted by grade and status: one GROUP BY, whatever the portfolio size."""
    return list(customers_visible(user).order_by().values("grade", "status").annotate(n=Count("pk")).order_by("grade"))


def customer_by_number(user, number: str) -> Customer | None:
    """A visible customer by its customer number (forms take a number, not a 1M-row select)."""
    number = (number or "").strip()
    if not number:
        return None
    return customers_visible(user).filter(number=number).first()


def contact_get(user, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.visible_to(user).select_related("customer"), pk=pk)


def member_get(user, pk: int) -> Member:
    return get_object_or_404(Member.objects.visible_to(user).select_related("customer"), pk=pk)


def competitors_of(user, customer_pk: int) -> QuerySet[CompetitorPresence]:
    return CompetitorPresence.objects.visible_to(user).filter(customer_id=customer_pk)


def competitor_get(user, pk: int) -> CompetitorPresence:
    return get_object_or_404(CompetitorPresence.objects.visible_to(user).select_related("customer"), pk=pk)


def affiliations_of(user, customer_pk: int) -> QuerySet[Affiliation]:
    """The customer's recorded relations; `related_visible` says whether the user may see (and be told
    the name of) the other party."""
    visible = customers_visible(user).filter(pk=OuterRef("related_id"))
    return (
        Affiliation.objects.visible_to(user)
        .filter(customer_id=customer_pk)
        .select_related("related")
        .annotate(related_visible=Exists(visible))
        .order_by("kind", "id")
    )


def affiliation_get(user, pk: int) -> Affiliation:
    return get_object_or_404(Affiliation.objects.visible_to(user).select_related("customer"), pk=pk)


def audit_events(user) -> QuerySet[AuditEvent]:
    """The audit trail as far as the user's scope reaches. HQ, admins and superusers see everything; others see
    events about visible customers, events about a record with no customer that its own `visible_to` shows
    them (a lead, a colleague: the apps' `audit_scoped` models), and other customer-less events (exports,
    imports, targets) done by someone in their subtree or by the system."""
    from jiketong.core.registry import audit_scoped_models
    from jiketong.org.scope import EVERYTHING, customer_scope, record_scope

    events = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    if customer_scope(user) == EVERYTHING:
        return events
    scoped = audit_scoped_models()
    by_record = Q()
    for model in scoped:
        by_record |= Q(target_type=model._meta.label_lower, target_id__in=model.objects.visible_to(user).values("pk"))
    # An export names the model it took (target_type "sales.lead") but no record: it goes by who took it.
    by_actor = (Q(target_id__isnull=True) | ~Q(target_type__in=[model._meta.label_lower for model in scoped])) & (
        Q(actor__isnull=True) | record_scope(user, org_unit="actor__staff__org_unit", owners=())
    )
    return events.filter(
        Q(customer_id__in=customers_visible(user).values("pk")) | Q(customer_id__isnull=True) & (by_record | by_actor)
    )
