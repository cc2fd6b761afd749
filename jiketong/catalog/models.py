"""The product catalog (DOMAIN §5) and what each customer subscribes to."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedModel
from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.org.scope import ScopedQuerySet


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


class SolutionPackage(TimeStampedModel, VersionedModel):
    """An industry solution package (行业解决方案 / 集团信息化套餐): catalog products in set quantities for
    one industry, sold at one monthly package price. The discount it gives is the package price against the
    sum of its products' list prices; quoting it goes through the quotes' discount approval (decision 0206)."""

    code = models.CharField(_("package code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    industry = models.ForeignKey(
        "customers.Industry", verbose_name=_("industry"), on_delete=models.PROTECT, related_name="+"
    )
    price = MoneyField(_("package monthly price (yuan)"), validators=[MinValueValidator(0)])
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("solution package")
        verbose_name_plural = _("solution packages")
        ordering = ["industry__sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def list_total(self) -> Decimal:
        """The sum of its products' list prices today (standard monthly price × quantity); prefetch the items
        with their products (catalog.queries.packages) to read it without a query per package."""
        return sum((item.product.standard_price * item.quantity for item in self.items.all()), Decimal("0.00"))

    @property
    def discount_pct(self) -> Decimal:
        """How far the package price is below the list total, in percent (two places)."""
        total = self.list_total
        if not total:
            return Decimal("0.00")
        return ((1 - self.price / total) * 100).quantize(Decimal("0.01"))


class PackageItem(models.Model):
    """One product of a solution package, with how many of it the package holds."""

    package = models.ForeignKey(
        SolutionPackage, verbose_name=_("solution package"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("package item")
        verbose_name_plural = _("package items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "product"],
                name="catalog_packageitem_once",
                violation_error_message=_("A product appears only once in a package."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


CENT = Decimal("0.01")


def split_package_price(price: Decimal, items: list[tuple[Decimal, int]]) -> list[Decimal] | None:
    """The package price spread over its items, as a unit price for each (list unit price, quantity), in
    proportion to list prices and exact to the cent: Σ unit × quantity == price. Each unit price is at most
    its list price. None when the price is above the list total, or cannot be split to the cent (every
    quantity above one and a remainder none of them divides)."""
    lists = [int((unit * 100).to_integral_value()) for unit, _quantity in items]
    quantities = [quantity for _unit, quantity in items]
    total = sum(u * q for u, q in zip(lists, quantities, strict=True))
    target = int((Decimal(price) * 100).to_integral_value())
    if target > total or target < 0:
        return None
    if total == 0:
        return [Decimal(0).quantize(CENT) for _item in items]
    units = [u * target // total for u in lists]
    left = target - sum(u * q for u, q in zip(units, quantities, strict=True))
    # The cents left over go a cent per unit at a time, round after round, to each line whose quantity
    # still fits (largest quantities first), so no single line carries them all; quantity-one lines take
    # what is left at the end. Fewer rounds than the sum of the quantities.
    order = sorted(range(len(units)), key=lambda i: -quantities[i])
    while left > 0:
        moved = False
        for i in order:
            if quantities[i] <= left and units[i] < lists[i]:
                units[i] += 1
                left -= quantities[i]
                moved = True
        if not moved:
            return None
    return [(Decimal(u) / 100).quantize(CENT) for u in units]
