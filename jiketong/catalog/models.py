"""The product catalog (DOMAIN §5) and what each customer subscribes to."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.core.scope import ScopedQuerySet


class ProductCategory(models.TextChoices):
    VOICE = "voice", _("Voice")
    CONNECTIVITY = "connectivity", _("Connectivity")
    MESSAGING = "messaging", _("Messaging and information")
    IT_CLOUD = "it_cloud", _("IT and cloud")
    SOLUTION = "solution", _("Industry solutions")


# Share of a product's revenue that its delivery costs, when the product sets none: the basis of the
# profit estimates in analytics (key-account faces, value tiers). Admins override per product.
DEFAULT_COST_RATES = {
    ProductCategory.VOICE: Decimal("0.40"),
    ProductCategory.CONNECTIVITY: Decimal("0.55"),
    ProductCategory.MESSAGING: Decimal("0.30"),
    ProductCategory.IT_CLOUD: Decimal("0.65"),
    ProductCategory.SOLUTION: Decimal("0.50"),
}
FALLBACK_COST_RATE = Decimal("0.50")


def cost_rate_expression(prefix: str = "") -> Coalesce:
    """The product's cost rate in SQL (through `prefix`, e.g. "product__"): its own, else its category's."""
    by_category = Case(
        *(When(**{f"{prefix}category": category}, then=Value(rate)) for category, rate in DEFAULT_COST_RATES.items()),
        default=Value(FALLBACK_COST_RATE),
        output_field=models.DecimalField(max_digits=4, decimal_places=3),
    )
    return Coalesce(F(f"{prefix}cost_rate"), by_category)


class BillingUnit(models.TextChoices):
    PER_GROUP = "per_group", _("Per group")
    PER_MEMBER = "per_member", _("Per member")


class Stickiness(models.TextChoices):
    """Why a product holds a customer (黏性): the three sticky classes, or none."""

    EMBEDDED = "embedded", _("Embedded in the customer's systems")
    IDENTITY = "identity", _("Number or identity resource")
    MARKET = "market", _("Market-linked")
    NONE = "none", _("Not sticky")


class Product(TimeStampedModel):
    """A group product the operator sells, with its standard monthly price."""

    code = models.CharField(_("product code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    category = models.CharField(_("category"), max_length=20, choices=ProductCategory.choices)
    billing_unit = models.CharField(_("billing unit"), max_length=12, choices=BillingUnit.choices)
    stickiness = models.CharField(_("stickiness"), max_length=12, choices=Stickiness.choices, default=Stickiness.NONE)
    standard_price = MoneyField(_("standard monthly price (yuan)"), validators=[MinValueValidator(0)])
    one_time_fee = MoneyField(_("one-time fee (yuan)"), default=0, validators=[MinValueValidator(0)])
    is_basic_service = models.BooleanField(
        _("basic service"), default=False, help_text=_("Counts towards the 综合业务 category (≥ 2 basic services).")
    )
    cost_rate = models.DecimalField(
        _("cost rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("Share of revenue the product costs to deliver, 0–1; blank: the category's default."),
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_rate__isnull=True) | (Q(cost_rate__gte=0) & Q(cost_rate__lte=1)),
                name="catalog_product_cost_rate_range",
                violation_error_message=_("The cost rate must be between 0 and 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_cost_rate(self) -> Decimal:
        if self.cost_rate is not None:
            return self.cost_rate
        return DEFAULT_COST_RATES.get(self.category, FALLBACK_COST_RATE)


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class SubscriptionQuerySet(ScopedQuerySet):
    def in_service(self):
        return self.filter(status=SubscriptionStatus.ACTIVE)


class Subscription(ConstraintFieldsMixin, TimeStampedModel):
    """A customer's use of a product at a contracted price, optionally for a list of its members."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    members = models.ManyToManyField(
        "customers.Member", verbose_name=_("members"), blank=True, related_name="subscriptions"
    )
    contracted_price = MoneyField(_("contracted monthly price (yuan)"), validators=[MinValueValidator(0)])
    discount_pct = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Percentage off the standard price, 0–100."),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-start_on", "-id"]
        indexes = [models.Index(fields=["customer", "status"], name="catalog_sub_customer_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="catalog_subscription_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(discount_pct__gte=0) & Q(discount_pct__lte=100),
                name="catalog_subscription_discount_range",
                violation_error_message=_("The discount must be between 0 and 100%."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.customer_id}"
