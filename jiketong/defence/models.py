"""保网 defence and retention (DOMAIN §4, §10, §12): threatened customers, defence plans and retention cases
with their countermeasures and outcomes, the competitors' actions observed, and churned customers to win back."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.customers.models import Competitor, ThreatLevel
from jiketong.customers.unitcopy import UnitCopyMixin, UnitCopyQuerySet
from jiketong.org.scope import EVERYTHING, ScopedQuerySet, record_scope


class Threat(UnitCopyMixin, models.Model):
    """A threatened customer's row on the board (docs/defence.md): the facts the board shows, kept by
    `services.threats_refresh` when a rival is recorded, a rival's contract end comes near and at night, so
    the board is one indexed, paged read whatever the size of the scope (decision 0801)."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="threat"
    )
    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=_("A copy of the customer's org unit, for the scope (decision 0803)."),
    )
    level = models.CharField(_("threat level"), max_length=8, choices=ThreatLevel.choices)
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices)
    offer = models.CharField(_("what they offer"), max_length=200, blank=True)
    competitors = models.PositiveSmallIntegerField(_("competitors present"), default=1)
    their_contract_end = models.DateField(_("their contract ends"), null=True, blank=True)
    our_contract_end = models.DateField(_("our contract ends"), null=True, blank=True)
    revenue = MoneyField(_("monthly revenue at stake (yuan)"), default=0)
    members = models.PositiveIntegerField(_("members at stake"), default=0)
    last_visit = models.DateField(_("our last visit"), null=True, blank=True)
    value_at_risk = MoneyField(_("value at risk (yuan a year)"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    objects = UnitCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("threatened customer")
        verbose_name_plural = _("threatened customers")
        indexes = [
            # The board: highest value at risk first, optionally one threat level.
            models.Index(fields=["-value_at_risk", "id"], name="defence_threat_rank"),
            models.Index(fields=["level", "-value_at_risk", "id"], name="defence_threat_level_rank"),
            # A subtree's count and a unit's board: the copy of the customer's unit first (decision 0803).
            models.Index(fields=["org_unit", "-value_at_risk", "id"], name="defence_threat_unit_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.level}"


class PlanKind(models.TextChoices):
    DEFENCE = "defence", _("Defence plan (保网)")
    RETENTION = "retention", _("Retention case (挽留)")


class PlanStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("defence plan", "Open")
    CLOSED = "closed", pgettext_lazy("defence plan", "Closed")


class Outcome(models.TextChoices):
    """How a defence plan or a retention case ended: the customer and its revenue kept, kept in part, or lost."""

    KEPT = "kept", _("Kept (保住)")
    PARTLY = "partly", _("Partly lost (部分流失)")
    LOST = "lost", _("Lost (流失)")


RETAINED = (Outcome.KEPT, Outcome.PARTLY)  # the customer is still ours


class Plan(ConstraintFieldsMixin, TimeStampedModel):
    """A defence plan against a competitor (保网) or a retention case opened from a churn warning (挽留):
    countermeasures with owners and due dates, then an outcome with the revenue kept or lost."""

    CONSTRAINT_FIELDS = {"defence_plan_one_open": "kind", "defence_plan_closed_has_outcome": "outcome"}

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="defence_plans"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PlanKind.choices, default=PlanKind.DEFENCE)
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices, blank=True)
    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due on"))
    goal = models.TextField(_("goal"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    # The one-click retention task (churn) this case carries on, if it came from a warning.
    task = models.OneToOneField(
        "work.Task",
        verbose_name=_("retention task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retention_case",
    )
    revenue_at_stake = MoneyField(_("monthly revenue at stake (yuan)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    lost_to = models.CharField(_("lost to"), max_length=16, choices=Competitor.choices, blank=True)
    lost_product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product lost"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revenue_kept = MoneyField(_("monthly revenue kept (yuan)"), default=0)
    revenue_lost = MoneyField(_("monthly revenue lost (yuan)"), default=0)
    outcome_note = models.TextField(_("how it ended"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("defence plan")
        verbose_name_plural = _("defence plans")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Outcome figures and reports: plans closed in a range of days.
            models.Index(fields=["status", "closed_on"], name="defence_plan_closed"),
            models.Index(fields=["customer", "status"], name="defence_plan_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=Q(status="open"),
                name="defence_plan_one_open",
                violation_error_message=_("This customer already has an open plan of this kind."),
            ),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(outcome=""),
                name="defence_plan_closed_has_outcome",
                violation_error_message=_("A closed plan needs an outcome."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CountermeasureKind(models.TextChoices):
    PRICE = "price", _("Price")
    BUNDLE = "bundle", _("Product bundle")
    SERVICE = "service", _("Service")
    RELATIONSHIP = "relationship", _("Relationship")
    EXECUTIVE_VISIT = "executive_visit", _("Executive visit")


class CountermeasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", pgettext_lazy("countermeasure", "Done")
    DROPPED = "dropped", _("Dropped")


class CountermeasureQuerySet(ScopedQuerySet):
    customer_path = "plan__customer__"


class Countermeasure(models.Model):
    """One step of a plan: a price, a bundle, a service, the relationship or an executive visit, with an owner
    and a due date."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="countermeasures")
    kind = models.CharField(_("countermeasure"), max_length=16, choices=CountermeasureKind.choices)
    description = models.CharField(_("description"), max_length=200)
    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=8, choices=CountermeasureStatus.choices, default=CountermeasureStatus.PLANNED
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)

    objects = CountermeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("countermeasure")
        verbose_name_plural = _("countermeasures")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class AttackKind(models.TextChoices):
    OFFER = "offer", _("Offer")
    VISIT = "visit", _("Visit to the customer")
    PRICE = "price", _("Price cut")
    POACHING = "poaching", _("Poaching members")
    OTHER = "other", _("Other")


class Attack(models.Model):
    """A competitor's action observed at a customer (the attack log): who saw it, when, how dangerous."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="attacks"
    )
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices)
    kind = models.CharField(pgettext_lazy("competitor action", "action"), max_length=10, choices=AttackKind.choices)
    description = models.CharField(_("what they did or offer"), max_length=200)
    threat = models.CharField(_("threat level"), max_length=8, choices=ThreatLevel.choices, default=ThreatLevel.MEDIUM)
    members_targeted = models.PositiveIntegerField(_("members approached"), null=True, blank=True)
    observed_on = models.DateField(_("observed on"))
    observed_by = models.ForeignKey(
        "org.Staff", verbose_name=_("observed by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor action")
        verbose_name_plural = _("attack log")
        ordering = ["-observed_on", "-id"]
        indexes = [models.Index(fields=["customer", "-observed_on"], name="defence_attack_customer")]

    def __str__(self) -> str:
        return f"{self.get_competitor_display()}: {self.get_kind_display()}"


class WinBack(models.Model):
    """A churned customer (离网) to win back: when it left, what it last bought, to whom; `won_back_on` once an
    order puts it back in service (the archive's 离网 → 在网)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="win_backs"
    )
    churned_on = models.DateField(_("churned on"))
    last_products = models.CharField(_("last products"), max_length=300, blank=True)
    last_revenue = MoneyField(_("last monthly revenue (yuan)"), default=0)
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices, blank=True)
    won_back_on = models.DateField(_("won back on"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer to win back")
        verbose_name_plural = _("customers to win back")
        indexes = [models.Index(fields=["won_back_on", "-churned_on", "id"], name="defence_winback_list")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(won_back_on__isnull=True),
                name="defence_winback_one_open",
                violation_error_message=_("This customer is already on the win-back list."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.churned_on}"


class RiskSetKind(models.TextChoices):
    GROUP = "group", _("Group and its units")
    AFFILIATED = "affiliated", _("Affiliated set")


class ChainCode(models.TextChoices):
    """What on one unit flags the head and the siblings (连锁联动)."""

    CHURN = "churn", _("Churn warning")
    THREAT = "threat", _("High competitor threat")
    ARREARS = "arrears", _("Arrears")


class GroupRiskQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The sets of which the user sees at least one unit: the totals count every unit, the pages name only
        the units the user sees (docs/defence.md, "One group, one risk")."""
        scope = record_scope(user, org_unit="org_unit", owners=("customer__owner", "customer__backup_owner"))
        if scope == EVERYTHING:
            return self.all()
        # Per set, is one of its units in scope: off the (risk, org unit) index, so a capped count or a page stops
        # after the rows it needs instead of first collecting every unit of the province (decision 0803).
        return self.filter(Exists(GroupRiskUnit.objects.filter(scope, risk_id=OuterRef("pk"))))


class GroupRisk(models.Model):
    """One group (a head and all its units, in any province) or one affiliated set (关联关系) seen as one risk:
    its facts summed over every unit, kept by `grouprisk.refresh` at night and for the sets an event concerns,
    so the group risk view reads a page of these rows (decision 0802). `chain` holds codes and unit ids only
    ([{"code": "churn", "unit": 12}]): units are named when shown, and only to readers who see them."""

    kind = models.CharField(_("kind"), max_length=10, choices=RiskSetKind.choices)
    head = models.ForeignKey(
        "customers.Customer", verbose_name=_("group head"), on_delete=models.CASCADE, related_name="+"
    )
    units = models.PositiveIntegerField(_("units"), default=0)
    revenue = MoneyField(_("monthly revenue (yuan)"), default=0)
    revenue_before = MoneyField(_("monthly revenue 3 months before (yuan)"), default=0)
    revenue_change_pct = models.DecimalField(
        _("revenue change over 3 months (%)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    trend = models.JSONField(_("revenue of the last 12 months"), default=list)  # [["2026-10", "1234.00"], ...]
    members = models.PositiveIntegerField(_("members"), default=0)
    members_before = models.PositiveIntegerField(_("members 3 months before"), default=0)
    arrears_units = models.PositiveIntegerField(_("units in arrears"), default=0)
    arrears_revenue = MoneyField(_("monthly revenue of the units in arrears (yuan)"), default=0)
    open_complaints = models.PositiveIntegerField(_("open complaints"), default=0)
    contracts_expiring = models.PositiveIntegerField(_("contracts expiring within 90 days"), default=0)
    next_contract_end = models.DateField(_("next contract end"), null=True, blank=True)
    churn_max = models.PositiveSmallIntegerField(_("highest churn score"), null=True, blank=True)
    churn_units = models.PositiveIntegerField(_("units with a churn warning"), default=0)
    churn_revenue = MoneyField(_("monthly revenue of the warned units (yuan)"), default=0)
    competitor_units = models.PositiveIntegerField(_("units with a competitor"), default=0)
    competitor_high_units = models.PositiveIntegerField(_("units under a high threat"), default=0)
    chain = models.JSONField(_("chained warnings"), default=list)
    risk_chain = models.BooleanField(_("chained warning (连锁联动)"), default=False)
    value_at_risk = MoneyField(_("value at risk (yuan a year)"), default=0)
    risk_revenue = models.BooleanField(_("revenue decline"), default=False)
    risk_arrears = models.BooleanField(_("arrears"), default=False)
    risk_churn = models.BooleanField(_("churn risk"), default=False)
    risk_competitor = models.BooleanField(_("competitor"), default=False)
    risk_complaints = models.BooleanField(_("complaints"), default=False)
    risk_contracts = models.BooleanField(_("contracts expiring"), default=False)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    objects = GroupRiskQuerySet.as_manager()

    class Meta:
        verbose_name = _("group risk")
        verbose_name_plural = _("group risks")
        indexes = [models.Index(fields=["-value_at_risk", "id"], name="defence_grouprisk_rank")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "head"],
                name="defence_grouprisk_one_per_head",
                violation_error_message=_("This set is already rolled up."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.head_id}"


class GroupRiskUnit(UnitCopyMixin, models.Model):
    """A unit of a rolled-up set: how a customer's 360 page finds its group and affiliated set, and how the view
    is scoped (through a copy of the unit's org unit for subtree readers, decision 0803, and the customer's owners
    for a portfolio)."""

    risk = models.ForeignKey(GroupRisk, verbose_name=_("group risk"), on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=_("A copy of the customer's org unit, for the scope (decision 0803)."),
    )

    objects = UnitCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit of a group risk")
        verbose_name_plural = _("units of group risks")
        indexes = [
            models.Index(fields=["customer"], name="defence_grouprisk_unit_cust"),
            models.Index(fields=["risk", "org_unit"], name="defence_grouprisk_unit_org"),
        ]
        constraints = [models.UniqueConstraint(fields=["risk", "customer"], name="defence_grouprisk_unit_unique")]

    def __str__(self) -> str:
        return f"{self.risk_id}: {self.customer_id}"
