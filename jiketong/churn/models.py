"""Churn early warning (DOMAIN §10 流失预警): the nightly score per customer and the models behind it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.customers.unitcopy import UnitCopyMixin, UnitCopyQuerySet
from jiketong.org.scope import ScopedQuerySet, customer_scope


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Reason(models.TextChoices):
    """The reasons a customer may leave (DOMAIN §10). Each has a bit in `ChurnScore.flags`."""

    REVENUE_DOWN = "revenue_down", _("Revenue falling")
    MEMBERS_LEAVING = "members_leaving", _("Members leaving")
    CONTRACT_EXPIRING = "contract_expiring", _("Contract expiring")
    COMPLAINTS = "complaints", _("Open complaints")
    NO_VISIT = "no_visit", _("No recent visit")
    COMPETITOR = "competitor", _("Competitor present")
    ARREARS = "arrears", _("Arrears")
    LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction")

    @property
    def bit(self) -> int:
        return 1 << list(Reason).index(self)


class Scorer(models.TextChoices):
    RULES = "rules", _("Rule baseline")
    LOGISTIC = "logistic", _("Logistic regression")
    BOOSTING = "boosting", _("Gradient boosting")


class ChurnModel(models.Model):
    """One training run: what each scorer achieved on the later months it never saw, and which won.

    The latest row is the one the nightly scoring uses; a fitted model's pipeline lives in `artifact`
    (a joblib file under VAR_DIR), the rule baseline needs none."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    trained_at = models.DateTimeField(_("trained at"))
    winner = models.CharField(_("scorer in use"), max_length=10, choices=Scorer.choices)
    metrics = models.JSONField(_("metrics"), default=dict)
    artifact = models.CharField(_("model file"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("churn model")
        verbose_name_plural = _("churn models")
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return self.version


class ChurnScoreQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """A customer manager's scores through the portfolio's ids (a semi-join on the owner and backup indexes,
        then the portfolio's few thousand rows sorted): walking the score index and dropping every score
        outside the portfolio read a share of the whole table that grew with it (decision 0605)."""
        from jiketong.customers.models import Customer

        if self.portfolio_only(user):
            return self.filter(customer__in=Customer.objects.filter(customer_scope(user)).values("pk"))
        return super().visible_to(user)

    @staticmethod
    def portfolio_only(user) -> bool:
        """A customer manager (portfolio roles, no subtree or admin role): their scope is a few thousand rows."""
        from jiketong.org.models import Role, staff_of

        staff = staff_of(user)
        roles = staff.role_codes if staff is not None and staff.is_active and not user.is_superuser else set()
        return bool(roles & Role.PORTFOLIO_ROLES and not roles & (Role.SUBTREE_ROLES | {Role.ADMIN}))


class ChurnScore(models.Model):
    """A customer's latest churn score (the nightly job replaces the whole set in one transaction).

    `reasons` holds codes and numbers only (e.g. {"code": "revenue_down", "pct": -35}); they are put
    into words when shown, so the language switch works on stored scores. `flags` has one bit per
    triggered reason (Reason.bit) so the list can filter by reason on SQLite and PostgreSQL alike."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="churn_score"
    )
    scored_on = models.DateField(_("scored on"))
    score = models.PositiveSmallIntegerField(_("risk score"))
    risk = models.CharField(_("risk level"), max_length=6, choices=RiskLevel.choices)
    reasons = models.JSONField(_("top reasons"), default=list)
    flags = models.PositiveIntegerField(_("reason flags"), default=0)
    model_version = models.CharField(_("model version"), max_length=20)

    objects = ChurnScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("churn score")
        verbose_name_plural = _("churn scores")
        indexes = [
            # The warning list: highest scores first, optionally one risk level.
            models.Index(fields=["-score", "id"], name="churn_score_rank"),
            models.Index(fields=["risk", "-score", "id"], name="churn_score_risk_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.score}"


class AlertKind(models.TextChoices):
    """The sudden events the nightly detector looks for (DOMAIN §12: alerts, not just score changes)."""

    MEMBERS_DOWN = "members_down", _("Members down sharply")
    REVENUE_DOWN = "revenue_down", _("Revenue down sharply")
    ARREARS_BEGAN = "arrears_began", _("Arrears began")
    KEY_PERSON_LEFT = "key_person_left", _("Key person left")
    COMPLAINT_SURGE = "complaint_surge", _("Complaint surge")
    COMPETITOR_THREAT = "competitor_threat", _("High competitor threat")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("risk alert", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class RiskAlert(UnitCopyMixin, models.Model):
    """One sudden event at a customer found by the nightly detector (风险提醒, decision 0705): raised once per
    (kind, customer, key) — the key is the billing month, the source row (a contact, a competitor record) or the
    month of a complaint surge — with its reason as a stored message and its values (core.notes), routed to the
    customer's manager and nearest supervisor, then acknowledged and resolved by people."""

    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="risk_alerts"
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
    key = models.CharField(_("what it is about"), max_length=40)
    occurred_on = models.DateField(_("happened on"))
    raised_on = models.DateField(_("raised on"))
    reason = models.CharField(_("reason"), max_length=500)
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("customer manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    supervisor = models.ForeignKey(
        "org.Staff", verbose_name=_("supervisor"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.CharField(_("resolution note"), max_length=500, blank=True)
    # The retention task opened from the alert (churn's one-click flow; defence carries it on as a case).
    task = models.ForeignKey(
        "work.Task", verbose_name=_("retention task"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    objects = UnitCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("risk alert")
        verbose_name_plural = _("risk alerts")
        ordering = ["-raised_on", "-id"]
        indexes = [
            # The inbox: newest first, optionally one status (then one kind).
            models.Index(fields=["-raised_on", "-id"], name="churn_alert_recent"),
            models.Index(fields=["status", "-raised_on", "-id"], name="churn_alert_status_recent"),
            # A subtree reader's inbox and its capped count read the alert's own unit copy (decision 0706).
            models.Index(fields=["org_unit", "status", "-raised_on", "-id"], name="churn_alert_unit_status"),
            # The complaint surge's "none raised for the customer in the last 30 days".
            models.Index(fields=["kind", "raised_on"], name="churn_alert_kind_raised"),
        ]
        constraints = [
            # Key before customer: the detector asks "which customers already have (kind, this month)?".
            models.UniqueConstraint(fields=["kind", "key", "customer"], name="churn_riskalert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer_id}"
