"""Campaigns (营销活动) and cross-sell (DOMAIN §12 打线, 交叉销售): who a campaign targets, who works which
target, what each contact brought, and the nightly next-best offers per in-service customer.

Built so that the rest of issue 14 can follow: a solution package can become one more `products` row of a
campaign, a scorecard reads `CampaignTarget` per manager and month, and points benefits can be offered
through the same target list.
"""

from decimal import ROUND_HALF_UP

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.org.scope import ScopedQuerySet, customer_scope, record_scope


class Audience(models.TextChoices):
    """Whom a campaign's list is drawn over: the organisations, or their members (打线)."""

    CUSTOMERS = "customers", _("Customers")
    MEMBERS = "members", _("Members of customers")


class MemberRule(models.TextChoices):
    """Which members a member campaign reaches (DOMAIN §12)."""

    OFF_NET = "off_net", _("Members on another operator's network")
    NO_CRBT = "no_crbt", _("Members without 集团彩铃")
    NO_VNET = "no_vnet", _("Members without V网")
    NEW = "new", _("Members who joined this month")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    BUILDING = "building", _("Building the list")
    READY = "ready", _("List ready")
    ACTIVE = "active", pgettext_lazy("campaign status", "Running")
    CLOSED = "closed", pgettext_lazy("campaign status", "Closed")


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A campaign is seen by its owner, by subtree roles above its org unit, and by whoever sees one of
        its targets (a manager sees the campaigns that reach their customers, with their targets only)."""
        targets = CampaignTarget.objects.filter(campaign=OuterRef("pk")).filter(customer_scope(user, "customer__"))
        return self.filter(record_scope(user, org_unit="org_unit", owners=("owner",)) | Q(Exists(targets)))


class Campaign(ConstraintFieldsMixin, TimeStampedModel):
    """A marketing campaign: a goal, products, a period, a budget, an owner and a target list drawn by a
    saved filter (`criteria`) over the owner's customers or their members."""

    name = models.CharField(_("name"), max_length=100)
    goal = models.TextField(_("goal"), blank=True)
    products = models.ManyToManyField("catalog.Product", verbose_name=_("products"), blank=True, related_name="+")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    budget = MoneyField(_("budget (yuan)"), default=0, validators=[MinValueValidator(0)])
    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+")
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices, default=Audience.CUSTOMERS)
    # The saved filter (targeting.CRITERIA): codes and ids only, so it reads the same next month.
    criteria = models.JSONField(_("target filter"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    targets_count = models.PositiveIntegerField(pgettext_lazy("campaign", "targets"), default=0)
    members_count = models.PositiveBigIntegerField(_("members reached by the list"), default=0)
    message = models.TextField(_("message"), blank=True)
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["org_unit", "-starts_on"], name="campaigns_campaign_unit")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="campaigns_campaign_ends_after_start",
                violation_error_message=_("The campaign cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TargetStatus(models.TextChoices):
    """Where a target stands: each recorded contact moves it; converted is final."""

    PENDING = "pending", _("Not contacted yet")
    CONTACTED = "contacted", _("Contacted")
    INTERESTED = "interested", _("Interested")
    DECLINED = "declined", _("Declined")
    CONVERTED = "converted", _("Converted")


RESPONDED = (TargetStatus.INTERESTED, TargetStatus.DECLINED, TargetStatus.CONVERTED)


class CampaignTarget(models.Model):
    """One customer on a campaign's list, with the manager who works it and, for a member campaign, how many
    of its members the campaign reaches (打线). Written in bulk by the list build (INSERT … SELECT)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="targets")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    manager = models.ForeignKey(
        "org.Staff", verbose_name=_("customer manager"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # The customer's unit when the list was built: results per unit stay put when a customer moves.
    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+")
    members = models.PositiveIntegerField(_("members reached"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=TargetStatus.choices, default=TargetStatus.PENDING)
    contacted_at = models.DateTimeField(_("first contacted at"), null=True, blank=True)
    lead = models.ForeignKey(
        "sales.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "deals.Order",
        verbose_name=pgettext_lazy("sales order", "order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revenue = MoneyField(_("monthly revenue gained (yuan)"), default=0)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"],
                name="campaigns_target_once",
                violation_error_message=_("This customer is already on the campaign's list."),
            )
        ]
        indexes = [
            # A manager's own targets in a campaign, and the results per manager.
            models.Index(fields=["campaign", "manager", "status"], name="campaigns_target_manager"),
            models.Index(fields=["campaign", "org_unit"], name="campaigns_target_unit"),
            models.Index(fields=["lead"], name="campaigns_target_lead", condition=Q(lead__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}"


class CampaignResponse(models.Model):
    """One contact with a target and what the customer said: the history behind the target's status."""

    target = models.ForeignKey(
        CampaignTarget, verbose_name=_("target"), on_delete=models.CASCADE, related_name="responses"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=TargetStatus.choices[1:])
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        "org.Staff", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class ResponseQuerySet(ScopedQuerySet):
        customer_path = "target__customer__"

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign response")
        verbose_name_plural = _("campaign responses")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome}"


class CampaignAssignment(models.Model):
    """A manager's share of a campaign: how many targets, and the one task that carries them."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="assignments"
    )
    manager = models.ForeignKey("org.Staff", verbose_name=_("customer manager"), on_delete=models.PROTECT,
                                related_name="+")  # fmt: skip
    targets = models.PositiveIntegerField(pgettext_lazy("campaign", "targets"), default=0)
    task = models.ForeignKey(
        "work.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("campaign assignment")
        verbose_name_plural = _("campaign assignments")
        constraints = [models.UniqueConstraint(fields=["campaign", "manager"], name="campaigns_assignment_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.manager_id}"


class PeerShare(models.Model):
    """How many in-service customers of one industry and size band hold a product (nightly, crosssell.refresh):
    the base of every cross-sell reason. Bounded by industries × bands × products."""

    industry = models.ForeignKey("customers.Industry", verbose_name=_("industry"), on_delete=models.CASCADE,
                                 related_name="+")  # fmt: skip
    size_band = models.CharField(_("size band"), max_length=4)
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="+")  # fmt: skip
    peers = models.PositiveIntegerField(_("customers in the group"))
    holders = models.PositiveIntegerField(_("customers holding the product"))
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4)

    class Meta:
        verbose_name = _("peer share")
        verbose_name_plural = _("peer shares")
        constraints = [
            models.UniqueConstraint(fields=["industry", "size_band", "product"], name="campaigns_peershare_key")
        ]

    def __str__(self) -> str:
        return f"{self.industry_id}/{self.size_band}/{self.product_id}: {self.share}"


class CrossSellOffer(models.Model):
    """A product an in-service customer lacks that its peers (same industry and size band) hold, ranked by how
    many of them hold it (nightly, crosssell.refresh): the 360 page's next best offers read these rows."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="+")  # fmt: skip
    rank = models.PositiveSmallIntegerField(pgettext_lazy("position in a list", "rank"))
    industry = models.ForeignKey("customers.Industry", verbose_name=_("industry"), on_delete=models.CASCADE,
                                 related_name="+")  # fmt: skip
    size_band = models.CharField(_("size band"), max_length=4)
    peers = models.PositiveIntegerField(_("customers in the group"))
    holders = models.PositiveIntegerField(_("customers holding the product"))
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4)
    computed_on = models.DateField(_("computed on"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cross-sell offer")
        verbose_name_plural = _("cross-sell offers")
        ordering = ["customer", "rank"]
        constraints = [
            # Also the 360 panel's index: one customer's offers in rank order.
            models.UniqueConstraint(fields=["customer", "rank"], name="campaigns_offer_key"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.rank} {self.product_id}"

    @property
    def percent(self) -> int:
        return int((self.share * 100).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def reason(self) -> str:
        """ "78% of 教育 customers of this size (200–999 people) hold 校讯通" (industry and product loaded)."""
        from .bands import SIZE_LABELS

        return gettext("%(percent)s%% of %(industry)s customers of this size (%(band)s) hold %(product)s") % {
            "percent": self.percent, "industry": self.industry.name, "product": self.product.name,
            "band": SIZE_LABELS.get(self.size_band, self.size_band),
        }  # fmt: skip
