"""A campaign's saved filter (`Campaign.criteria`) as a queryset of customers, set-based so that a list of a
province's million customers is built by INSERT … SELECT, never row by row.

The customer attributes (region, industry, grade, lifecycle status, category, manager) go through the
customer list's own FilterSet, so a campaign selects exactly what the customer list shows for the same
filter. On top: products held or not held (in-service subscriptions, through their (customer, status)
index), the revenue band of the last billed month (billing.CustomerMonth, precomputed at import) and, for
a member campaign, the rule its members must meet; the members a customer brings are counted per
customer in the same SELECT (a correlated count on the members' (customer, left_on) index).
"""

from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from jiketong.billing.models import CustomerMonth
from jiketong.catalog.models import Subscription, SubscriptionStatus
from jiketong.customers.filters import CustomerFilter
from jiketong.customers.models import Customer, LifecycleStatus, Member, Network

from . import bands
from .models import Audience, MemberRule

# The keys a criteria dict may hold; the first group is the customer list's FilterSet.
CUSTOMER_KEYS = ("region", "industry", "grade", "status", "type", "owner")
EXTRA_KEYS = ("holds", "lacks", "revenue_band", "member_rule")
IN_SERVICE = (LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK)
# Member-level products by code: 集团彩铃 is CRBT, the V网 products' codes start with VNET (demo catalog).
MEMBER_PRODUCT_CODES = {MemberRule.NO_CRBT: "CRBT", MemberRule.NO_VNET: "VNET"}


def _holds(product_id) -> Exists:
    return Exists(
        Subscription.objects.filter(customer=OuterRef("pk"), status=SubscriptionStatus.ACTIVE, product_id=product_id)
    )


def qualifying_members(rule: str, today: date | None = None):
    """The current members of `OuterRef("pk")` a member rule reaches."""
    members = Member.objects.filter(customer=OuterRef("pk"), left_on__isnull=True)
    if rule == MemberRule.OFF_NET:
        return members.filter(network=Network.OFF_NET)
    if rule == MemberRule.NEW:
        today = today or timezone.localdate()
        return members.filter(joined_on__gte=today.replace(day=1))
    code = MEMBER_PRODUCT_CODES[rule]
    on = Subscription.objects.filter(
        members=OuterRef("pk"), status=SubscriptionStatus.ACTIVE, product__code__startswith=code
    )
    # Only our own numbers can take a member-level product.
    return members.filter(network=Network.ON_NET).exclude(Exists(on))


def member_count(rule: str, today: date | None = None) -> Coalesce:
    counted = qualifying_members(rule, today).order_by().values("customer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def customers(user, criteria: dict, audience: str, *, today: date | None = None):
    """The customers the criteria select among those `user` sees, annotated `reached` (members reached; 0 for a
    customer campaign). Raises ValueError naming a criterion the customer filter refuses."""
    data = QueryDict(mutable=True)
    for key in CUSTOMER_KEYS:
        if criteria.get(key) not in (None, ""):
            data[key] = str(criteria[key])
    found = CustomerFilter(data, queryset=Customer.objects.visible_to(user), user=user)
    if not found.is_valid():
        raise ValueError(", ".join(sorted(found.errors)))
    queryset = found.qs.order_by()
    if not criteria.get("status"):
        queryset = queryset.filter(status__in=IN_SERVICE)
    if criteria.get("holds"):
        queryset = queryset.filter(_holds(criteria["holds"]))
    if criteria.get("lacks"):
        queryset = queryset.filter(~_holds(criteria["lacks"]))
    if criteria.get("revenue_band"):
        period = bands.last_billed_month()
        months = CustomerMonth.objects.filter(customer=OuterRef("pk"), period=period)
        queryset = queryset.filter(Exists(months.filter(bands.revenue_range(criteria["revenue_band"]))))
    if audience == Audience.MEMBERS:
        rule = criteria.get("member_rule") or MemberRule.OFF_NET
        queryset = queryset.filter(Exists(qualifying_members(rule, today))).annotate(reached=member_count(rule, today))
    else:
        queryset = queryset.annotate(reached=Value(0, output_field=IntegerField()))
    return queryset


def describe(criteria: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of a saved filter, for the campaign page."""
    from django.utils.translation import gettext as _

    from jiketong.catalog.models import Product
    from jiketong.customers.models import CustomerType, Grade, Industry
    from jiketong.org.models import OrgUnit, Staff

    words = []
    if code := criteria.get("region"):
        unit = OrgUnit.objects.filter(code=code).first()
        words.append((_("Region"), unit.name if unit else code))
    if code := criteria.get("industry"):
        industry = Industry.objects.filter(pk=code).first()
        words.append((_("Industry"), industry.name if industry else code))
    if grade := criteria.get("grade"):
        words.append((_("Grade"), dict(Grade.choices).get(grade, grade)))
    status = criteria.get("status")
    words.append((_("Lifecycle status"), str(dict(LifecycleStatus.choices).get(status, status)) if status
                  else _("In service (active or at risk)")))  # fmt: skip
    if kind := criteria.get("type"):
        words.append((_("Customer category"), str(dict(CustomerType.choices).get(kind, kind))))
    if owner := criteria.get("owner"):
        staff = Staff.objects.filter(pk=owner).first()
        words.append((_("Customer manager"), staff.name if staff else str(owner)))
    names = dict(
        Product.objects.filter(pk__in=[criteria.get("holds"), criteria.get("lacks")]).values_list("pk", "name")
    )
    if criteria.get("holds"):
        words.append((_("Holds"), names.get(criteria["holds"], "?")))
    if criteria.get("lacks"):
        words.append((_("Does not hold"), names.get(criteria["lacks"], "?")))
    if band := criteria.get("revenue_band"):
        words.append((_("Revenue band"), str(bands.REVENUE_LABELS.get(band, band))))
    if rule := criteria.get("member_rule"):
        words.append((_("Members"), str(dict(MemberRule.choices).get(rule, rule))))
    return words
