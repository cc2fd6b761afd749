"""Billing data from BOSS (DOMAIN §4, §10): monthly facts per customer and product, member snapshots,
the per-customer month they roll up to, the imports that load them, and loyalty points (DOMAIN §9).

Periods are always the first day of a month. Re-importing a period replaces it, so every table here
keyed by period holds exactly what the latest successful import of that period said.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.concurrency import VersionedModel
from jiketong.core.money import MoneyField
from jiketong.org.scope import ScopedQuerySet


class BillingFact(models.Model):
    """What BOSS billed one customer for one product in one month.

    Tens of millions of rows, loaded in bulk: only the indexes reads need (the foreign keys get none of
    their own; the customer's is the head of (customer, period), and products are never deleted, only
    taken off sale, so nothing looks facts up by product). Nor do the foreign keys get database
    constraints: the import resolves every reference before loading (an unknown customer or product is
    a bad row), and checking them again row by row at commit cost a third of the load time. Deleting a
    customer still deletes its facts (Django cascades)."""

    period = models.DateField(pgettext_lazy("billing", "period"))  # 账期: a BOSS billing month
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="billing_facts",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    revenue = MoneyField(_("revenue (yuan)"), default=0, validators=[MinValueValidator(0)])
    billed_members = models.PositiveIntegerField(_("billed members"), default=0)
    paid_on_time = models.BooleanField(_("paid on time"), default=True, help_text=_("Unticked means arrears."))
    # 回款天数: optional in the BOSS extract; empty when BOSS did not say.
    days_to_pay = models.PositiveSmallIntegerField(_("days to pay"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("billing fact")
        verbose_name_plural = _("billing facts")
        constraints = [
            # Also the index for "everything of one period" (its leading column).
            models.UniqueConstraint(fields=["period", "customer", "product"], name="billing_fact_key"),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="billing_fact_revenue_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "period"], name="billing_fact_customer_period")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}/{self.product_id}"


class MemberSnapshot(models.Model):
    """One member phone number of a customer as BOSS saw it at the end of a month (optional per import).
    Bulk-loaded like BillingFact, and for the same reasons without a database constraint on its key."""

    PERSONAL_FIELDS = ("phone",)

    period = models.DateField(pgettext_lazy("billing", "period"))  # 账期: a BOSS billing month
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="member_snapshots",
        db_index=False,
        db_constraint=False,
    )
    phone = models.CharField(_("phone number"), max_length=11)
    on_net = models.BooleanField(_("on our network"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("member snapshot")
        verbose_name_plural = _("member snapshots")
        constraints = [models.UniqueConstraint(fields=["period", "customer", "phone"], name="billing_member_key")]
        indexes = [models.Index(fields=["customer", "period"], name="billing_member_customer_period")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}"


class CustomerMonth(models.Model):
    """One customer's month, derived from the facts (and member snapshots) on every import of the month.

    What indicators, churn and points read at scale. A customer with no facts in a month has no row.
    - products: products with revenue > 0 or billed members > 0;
    - billed_members: the largest billed_members of any product (one person is often billed on several
      products, e.g. V网 and 彩铃, so a sum would count them twice);
    - members / on_net_members: from the month's snapshots when there are any, else billed_members
      (all on net: BOSS bills only our own numbers);
    - days_to_pay: the largest days to pay of the month's bill lines (empty when BOSS gave none);
    - joined / left: numbers new / gone against the previous month's snapshots when both months have
      them, else the rise / fall of `members` against the previous month's row.

    Facts the indicators read, kept here when the month is (re)built (`rollup.refresh_months`) so that no
    page recomputes them per customer (docs/decisions/0602 for the definitions, 0604 for why here):
    - is_new: billed this month and not the month before (first bills and win-backs);
    - is_mobile_group (移动集团客户): on_net_members ≥ 10;
    - is_integrated (综合业务): ≥ 2 basic services in use (revenue or billed members), ≥ 1 of them with
      revenue on the group's bill;
    - sticky_revenue: revenue of the products with a stickiness class.
    """

    period = models.DateField(pgettext_lazy("billing", "period"))  # 账期: a BOSS billing month
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="billing_months",
        db_index=False,
    )
    revenue = MoneyField(_("revenue (yuan)"), default=0)
    products = models.PositiveSmallIntegerField(_("products"), default=0)
    billed_members = models.PositiveIntegerField(_("billed members"), default=0)
    members = models.PositiveIntegerField(_("members"), default=0)
    on_net_members = models.PositiveIntegerField(_("members on our network"), default=0)
    arrears = models.BooleanField(_("arrears"), default=False)
    # The slowest bill line's days to pay (回款天数); empty when no line of the month carried one.
    days_to_pay = models.PositiveSmallIntegerField(_("days to pay"), null=True, blank=True)
    joined = models.PositiveIntegerField(_("members joined"), default=0)
    left = models.PositiveIntegerField(_("members left"), default=0)
    is_new = models.BooleanField(_("new this month"), default=False)
    is_mobile_group = models.BooleanField(_("mobile group customer"), default=False)
    is_integrated = models.BooleanField(_("integrated-service customer"), default=False)
    sticky_revenue = MoneyField(_("revenue from sticky products (yuan)"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer month")
        verbose_name_plural = _("customer months")
        constraints = [models.UniqueConstraint(fields=["customer", "period"], name="billing_customer_month_key")]
        # Everything of one month (its leading column), and the month's biggest bills first (top-10
        # concentration) without sorting the month.
        indexes = [models.Index(fields=["period", "-revenue"], name="billing_customer_month_top")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}"


class ImportKind(models.TextChoices):
    FACTS = "facts", _("Billing facts")
    MEMBERS = "members", _("Member snapshots")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("All or nothing")
    GOOD_ROWS = "good", _("Load the good rows")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIALLY = "partially", _("Partially loaded")
    # A good-rows import that would replace months with far fewer rows stops here, nothing replaced, until
    # its uploader confirms (it runs again, replacing) or cancels.
    CONFIRM = "confirm", _("Needs confirmation")
    CANCELLED = "cancelled", _("Cancelled")


def heartbeat_timeout() -> timedelta:
    """How long a running import may give no sign of life before it counts as dead."""
    return timedelta(seconds=settings.BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS)


class ImportRun(models.Model):
    """One upload of a BOSS file and what became of it.

    While it runs, the worker touches `heartbeat_at` every batch of rows and between the stages; a run
    whose heartbeat is older than BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS lost its worker and is closed
    by the frequent job (billing.jobs)."""

    kind = models.CharField(_("kind"), max_length=8, choices=ImportKind.choices)
    mode = models.CharField(_("mode"), max_length=4, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(_("stored file"), max_length=500)
    periods = models.JSONField(_("periods"), default=list, blank=True, help_text=_("Months covered, YYYY-MM."))
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_ok = models.PositiveIntegerField(_("good rows"), default=0)
    rows_bad = models.PositiveIntegerField(_("bad rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error_path = models.CharField(_("error report"), max_length=500, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    drop_confirmed = models.BooleanField(
        _("drop confirmed"),
        default=False,
        help_text=_("The uploader confirmed replacing months with far fewer rows than they hold."),
    )

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def is_done(self) -> bool:
        """Nothing will change without someone acting: the page stops polling."""
        return self.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def is_stalled(self) -> bool:
        """Running with no sign of life, or queued with no worker to take it, for longer than the timeout."""
        if self.status == ImportStatus.RUNNING:
            last = self.heartbeat_at or self.started_at
        elif self.status == ImportStatus.QUEUED:
            last = self.created_at
        else:
            return False
        return last is not None and last < timezone.now() - heartbeat_timeout()


class ClubTier(models.TextChoices):
    """Customer club tier by cumulative spend (DOMAIN §8, §9)."""

    REGULAR = "regular", _("Regular")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    DIAMOND = "diamond", _("Diamond")


class PointsRule(models.Model):
    """How points accrue (DOMAIN §9). The newest row is in force; without one the defaults apply."""

    points_per_month = models.PositiveIntegerField(_("points per month in network"), default=1)
    yuan_per_point = MoneyField(_("yuan per point"), default=10, validators=[MinValueValidator(Decimal("0.01"))])
    arrears_forfeits_accrual = models.BooleanField(
        _("arrears forfeit the month's points"), default=True, help_text=_("A month in arrears earns no points.")
    )
    arrears_forfeits_balance = models.BooleanField(
        _("arrears forfeit the balance"), default=True, help_text=_("A month in arrears also resets the balance to 0.")
    )
    silver_from = MoneyField(_("silver tier from (cumulative yuan)"), default=50_000)
    gold_from = MoneyField(_("gold tier from (cumulative yuan)"), default=200_000)
    diamond_from = MoneyField(_("diamond tier from (cumulative yuan)"), default=1_000_000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(silver_from__lte=models.F("gold_from")) & Q(gold_from__lte=models.F("diamond_from")),
                name="billing_points_tiers_ascending",
                violation_error_message=_("Tier thresholds must rise from silver to gold to diamond."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points_per_month} / {self.yuan_per_point}"

    @classmethod
    def current(cls) -> "PointsRule":
        return cls.objects.order_by("-created_at", "-id").first() or cls()


class PointsLedger(models.Model):
    """One customer's points for one month, computed from CustomerMonth (idempotent per period)."""

    period = models.DateField(pgettext_lazy("billing", "period"))  # 账期: a BOSS billing month
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="points",
        db_index=False,
    )
    tenure_points = models.PositiveIntegerField(_("tenure points"), default=0)
    spend_points = models.PositiveIntegerField(_("spend points"), default=0)
    arrears = models.BooleanField(_("arrears"), default=False)
    earned = models.PositiveIntegerField(_("points earned"), default=0)
    balance = models.PositiveIntegerField(_("balance"), default=0)
    cumulative_spend = MoneyField(_("cumulative spend (yuan)"), default=0)
    tier = models.CharField(_("club tier"), max_length=8, choices=ClubTier.choices, default=ClubTier.REGULAR)
    # Points spent on redemptions recorded against this month's balance (billing.redemption).
    redeemed = models.PositiveIntegerField(_("points redeemed"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("points ledger entry")
        verbose_name_plural = _("points ledger")
        constraints = [models.UniqueConstraint(fields=["customer", "period"], name="billing_points_key")]
        indexes = [models.Index(fields=["period"], name="billing_points_period")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}: {self.balance}"


# --- credit grade (信用等级) -----------------------------------------------------------------------
class CreditLevel(models.TextChoices):
    """Best first. The grade is the best level whose three thresholds a customer meets; else C."""

    AAA = "AAA", _("AAA · excellent credit")
    AA = "AA", _("AA · very good credit")
    A = "A", _("A · good credit")
    B = "B", _("B · fair credit")
    C = "C", _("C · poor credit")


CREDIT_LEVELS_WITH_RULES = ("aaa", "aa", "a", "b")  # C is what is left


def _threshold(level: str, what, default: int):
    return models.PositiveSmallIntegerField(format_lazy("{}: {}", level, what), default=default)


def _days(level: str, default: int):
    return _threshold(level, _("average days to pay at most"), default)


def _arrears(level: str, default: int):
    return _threshold(level, _("months in arrears in the window at most"), default)


def _consecutive(level: str, default: int):
    return _threshold(level, _("current consecutive months in arrears at most"), default)


class CreditRule(models.Model):
    """The thresholds of the credit grade (docs/loyalty-points.md, decision 0508). The newest row is in force;
    without one the defaults apply. A rule is never edited: a change is a new row (admin, audited)."""

    window_months = models.PositiveSmallIntegerField(
        _("months looked at"), default=12, validators=[MinValueValidator(1)]
    )
    aaa_max_days = _days("AAA", 30)
    aaa_max_arrears = _arrears("AAA", 0)
    aaa_max_consecutive = _consecutive("AAA", 0)
    aa_max_days = _days("AA", 45)
    aa_max_arrears = _arrears("AA", 1)
    aa_max_consecutive = _consecutive("AA", 0)
    a_max_days = _days("A", 60)
    a_max_arrears = _arrears("A", 2)
    a_max_consecutive = _consecutive("A", 1)
    b_max_days = _days("B", 90)
    b_max_arrears = _arrears("B", 4)
    b_max_consecutive = _consecutive("B", 2)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit rule")
        verbose_name_plural = _("credit rules")

    def __str__(self) -> str:
        return f"{self.window_months}: {self.aaa_max_days}/{self.aa_max_days}/{self.a_max_days}/{self.b_max_days}"

    @classmethod
    def current(cls) -> "CreditRule":
        return cls.objects.order_by("-created_at", "-id").first() or cls()

    def clean(self) -> None:
        """Each level at most as lenient as the one below it, so a better grade is always harder to reach."""
        from django.core.exceptions import ValidationError

        errors = {}
        for better, worse in zip(CREDIT_LEVELS_WITH_RULES, CREDIT_LEVELS_WITH_RULES[1:], strict=False):
            for what in ("days", "arrears", "consecutive"):
                name = f"{better}_max_{what}"
                if getattr(self, name) > getattr(self, f"{worse}_max_{what}"):
                    errors[name] = [_("A better grade cannot allow more than the grade below it.")]
        if errors:
            raise ValidationError(errors)


class CreditGrade(models.Model):
    """A customer's credit grade as the nightly job last computed it (billing.credit), with the figures it
    was decided on. One row per customer billed in the window; replaced whole every night."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="credit_grade",
        primary_key=True,
    )
    grade = models.CharField(_("credit grade"), max_length=3, choices=CreditLevel.choices)
    as_of = models.DateField(_("as of (billing month)"))
    months = models.PositiveSmallIntegerField(_("billed months in the window"), default=0)
    avg_days_to_pay = models.DecimalField(
        _("average days to pay"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    arrears_months = models.PositiveSmallIntegerField(_("months in arrears"), default=0)
    consecutive_arrears = models.PositiveSmallIntegerField(_("consecutive months in arrears"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit grade")
        verbose_name_plural = _("credit grades")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.grade}"


# --- redemption (积分兑换) ------------------------------------------------------------------------
class RedemptionKind(models.TextChoices):
    AMOUNT = "amount", _("Amount off per block of points")
    RATIO = "ratio", _("Share of the bill off per block of points")


class RedemptionRule(models.Model):
    """How points turn into next month's benefit (decision 0509). The newest row is in force; without one the
    defaults apply: every 100 points take 10.00 yuan off next month's bill, at most 500.00 yuan a month."""

    kind = models.CharField(_("benefit kind"), max_length=6, choices=RedemptionKind.choices,
                            default=RedemptionKind.AMOUNT)  # fmt: skip
    points_per_block = models.PositiveIntegerField(
        _("points per block"), default=100, validators=[MinValueValidator(1)]
    )
    yuan_per_block = MoneyField(_("yuan off per block"), default=10, validators=[MinValueValidator(0)])
    percent_per_block = models.DecimalField(
        _("percent of the bill off per block"), max_digits=5, decimal_places=2, default=1,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    cap_per_month = MoneyField(_("at most per month (yuan)"), default=500, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("redemption rule")
        verbose_name_plural = _("redemption rules")

    def __str__(self) -> str:
        return f"{self.kind} {self.points_per_block}"

    @classmethod
    def current(cls) -> "RedemptionRule":
        return cls.objects.order_by("-created_at", "-id").first() or cls()


class Redemption(models.Model):
    """Points a customer turned into a benefit on a later bill: what BOSS applies (the month's export)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="redemptions"
    )
    points = models.PositiveIntegerField(_("points spent"))
    benefit = MoneyField(_("benefit (yuan)"))
    kind = models.CharField(_("benefit kind"), max_length=6, choices=RedemptionKind.choices)
    from_period = models.DateField(_("points of the month"))  # the ledger month whose balance paid
    applied_period = models.DateField(_("applied to the bill of"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
        blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [
            models.Index(fields=["applied_period", "customer"], name="billing_redemption_month"),
            models.Index(fields=["customer", "from_period"], name="billing_redemption_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.points} → {self.benefit}"


# --- club benefits (俱乐部权益) -------------------------------------------------------------------
TIER_RANK = {tier: rank for rank, tier in enumerate(ClubTier.values)}


class BenefitKind(models.TextChoices):
    REPAIR = "repair", _("On-site repair")
    EVENT = "event", _("Club event")
    DISCOUNT = "discount", _("New-business discount")
    GREETING = "greeting", _("Holiday greeting")
    OTHER = "other", pgettext_lazy("benefit kind", "Other")


class ClubBenefit(VersionedModel):
    """A benefit of the club catalogue: from which tier a customer may use it, and how often a year."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=BenefitKind.choices, default=BenefitKind.OTHER)
    min_tier = models.CharField(_("from tier"), max_length=8, choices=ClubTier.choices, default=ClubTier.REGULAR)
    description = models.TextField(_("description"), blank=True)
    yearly_limit = models.PositiveSmallIntegerField(
        _("uses per customer a year"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("club benefit")
        verbose_name_plural = _("club benefits")
        ordering = ["min_tier", "name"]

    def __str__(self) -> str:
        return self.name

    def open_to(self, tier: str) -> bool:
        return TIER_RANK.get(tier, 0) >= TIER_RANK[self.min_tier]


class BenefitUse(models.Model):
    """One use of a club benefit by a customer: who recorded it, when, what."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="benefit_uses"
    )
    benefit = models.ForeignKey(ClubBenefit, verbose_name=_("benefit"), on_delete=models.PROTECT, related_name="uses")
    used_on = models.DateField(_("used on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("benefit use")
        verbose_name_plural = _("benefit uses")
        indexes = [models.Index(fields=["customer", "benefit", "used_on"], name="billing_benefit_use_year")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.benefit_id} {self.used_on}"
