"""The key-person map's facts (decision 0020): who is a known decision maker, when someone last met them, and
the kept list of gaps a supervisor reads (customers.KeyPersonGap).

Definitions, one place for the 360 page, the nightly rebuild and the per-customer refresh:
- a **known decision maker** is a contact whose decision role is 决策者 and who has not left the customer;
- someone **met** a contact when a face-to-face activity (visit, meeting, event of the work app) lists the
  contact among those present; calls, e-mails and greetings are not meetings;
- a decision maker is **not met** when nobody met them in the last `unmet_days()` days (90 by default,
  setting `KEYPERSON_UNMET_DAYS`); one never met counts too.
Customers that left us (离网) are not listed: there is nobody to win over there any more.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    DateField,
    DateTimeField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Contact, Customer, DecisionRole, GapKind, KeyPersonGap, LifecycleStatus

MET_KINDS = ("visit", "meeting", "event")  # work.ActivityKind values that are face to face


def unmet_days() -> int:
    return int(getattr(settings, "KEYPERSON_UNMET_DAYS", 90))


def unmet_since(today: date) -> datetime:
    """The moment from which a meeting counts: midnight (Asia/Shanghai) `unmet_days()` days before `today`."""
    return timezone.make_aware(datetime.combine(today - timedelta(days=unmet_days()), time.min))


def last_met() -> Subquery:
    """Per contact (the outer query's row): when a face-to-face activity last had them present."""
    through = Contact._meta.get_field("activities").through
    return Subquery(
        through.objects.filter(contact_id=OuterRef("pk"), activity__kind__in=MET_KINDS)
        .order_by()
        .values("contact_id")
        .annotate(at=Max("activity__happened_at"))
        .values("at"),
        output_field=DateTimeField(),
    )


def known_decider() -> Q:
    """A contact that counts as a known decision maker (see the module docstring)."""
    return Q(decision_role=DecisionRole.DECIDER, left_on__isnull=True)


def _insert(queryset, columns: list[str]) -> None:
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(KeyPersonGap._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)


COLUMNS = ["customer_id", "contact_id", "kind", "grade", "last_met_at", "computed_on"]


@transaction.atomic
def refresh(today: date, *, customer_id: int | None = None, customer_ids: "list[int] | QuerySet | None" = None) -> int:
    """Rebuild the gaps as of `today`: all of them (the nightly job), one customer's (after its contacts
    changed) or a batch's (an archive import: `customer_ids` may be a query of ids). Two INSERT … SELECT, no
    row through Python. Returns the number of gaps kept (of those customers)."""
    gaps = KeyPersonGap.objects.all()
    customers = Customer.objects.exclude(status=LifecycleStatus.CHURNED)
    if customer_id is not None:
        customer_ids = [customer_id]
    if customer_ids is not None:
        gaps = gaps.filter(customer_id__in=customer_ids)
        customers = customers.filter(pk__in=customer_ids)
    gaps.delete()
    stamp = Value(today, output_field=DateField())
    deciders = Contact.objects.filter(known_decider(), customer_id=OuterRef("pk"))
    _insert(
        customers.filter(~Exists(deciders))
        .order_by()
        .annotate(
            g_contact=Value(None, output_field=IntegerField()),
            g_kind=Value(GapKind.NO_DECIDER.value),
            g_met=Value(None, output_field=DateTimeField()),
            g_on=stamp,
        )
        .values_list("pk", "g_contact", "g_kind", "grade", "g_met", "g_on"),
        COLUMNS,
    )
    unmet = (
        Contact.objects.filter(known_decider(), customer__in=customers)
        .annotate(met=last_met())
        .filter(Q(met__isnull=True) | Q(met__lt=unmet_since(today)))
        .order_by()
        .annotate(g_kind=Value(GapKind.UNMET_DECIDER.value), g_on=stamp)
        .values_list("customer_id", "pk", "g_kind", "customer__grade", "met", "g_on")
    )
    _insert(unmet, COLUMNS)
    kept = KeyPersonGap.objects.all()
    return (kept if customer_ids is None else kept.filter(customer_id__in=customer_ids)).count()


def refresh_customer(customer_id: int) -> None:
    """After a contact of this customer changed: its gaps as of today, in the writing transaction."""
    refresh(timezone.localdate(), customer_id=customer_id)


def map_data(keymap) -> dict:
    """What the 360 page's chart (static/js/keyperson-map.js) and the API read: persons by name, title and role,
    whether they left, our counterpart and when they were last met. No mobile, e-mail, birthday or other
    personal data: the map is looked at over shoulders and leaves the page in the API."""
    nodes = [
        {
            "id": str(contact.pk),
            "name": contact.name,
            "title": contact.title,
            "role": contact.get_decision_role_display() if contact.decision_role else "",
            "decider": contact.decision_role == DecisionRole.DECIDER,
            "key_person": contact.is_key_person,
            "left": contact.left_on is not None,
            "counterpart": contact.counterpart.name if contact.counterpart_id else "",
            "last_met": timezone.localdate(contact.last_met).isoformat() if contact.last_met else "",
            "unmet": contact.unmet,
        }
        for contact in keymap.contacts
    ]
    links = [
        {
            "source": str(relation.from_contact_id),
            "target": str(relation.to_contact_id),
            "kind": relation.kind,
            "label": relation.get_kind_display(),
        }
        for relation in keymap.relations
    ]
    labels = {
        "counterpart": str(_("our counterpart")),
        "last_met": str(_("last met")),
        "never_met": str(_("never met")),
        "left": str(_("has left the customer")),
        "decider": str(DecisionRole.DECIDER.label),
        "others": str(_("other contacts")),
        "unmet": str(_("not met in %(days)s days") % {"days": unmet_days()}),
    }
    return {"nodes": nodes, "links": links, "labels": labels, "more": keymap.more}
