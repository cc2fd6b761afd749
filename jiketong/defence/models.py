"""保网 defence and retention (DOMAIN §4, §10, §12): threatened customers, defence plans and retention cases
with their countermeasures and outcomes, the competitors' actions observed, and churned customers to win back."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.core.scope import ScopedQuerySet
from jiketong.customers.models import Competitor, ThreatLevel


class Threat(models.Model):
    """A threatened customer's row on the board (docs/defence.md): the facts the board shows, kept by
    `services.threats_refresh` when a rival is recorded, a rival's contract end comes near and at night, so
    the board is one indexed, paged read whatever the size of the scope (decision 0801)."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="threat"
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

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("threatened customer")
        verbose_name_plural = _("threatened customers")
        indexes = [
            # The board: highest value at risk first, optionally one threat level.
            models.Index(fields=["-value_at_risk", "id"], name="defence_threat_rank"),
            models.Index(fields=["level", "-value_at_risk", "id"], name="defence_threat_level_rank"),
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
