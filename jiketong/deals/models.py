"""Quotes, contracts and orders (DOMAIN §5–§6): the middle of the closed sales loop.

A quote prices products for a customer; its discount depth decides who must approve it (`DiscountPolicy`).
An approved quote is frozen; changing it means a new version. A contract (possibly from a quote) runs for
a period and is reminded before it ends; a renewal is a new contract linked to the old one. An order hands
products to provisioning (BOSS) and, when completed, becomes the customer's subscriptions.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.catalog.models import ProductCategory
from jiketong.core.concurrency import VersionedModel
from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.org.scope import ScopedQuerySet

PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(0), MaxValueValidator(100)],
}


class ApprovalLevel(models.TextChoices):
    """Who may grant a discount, lowest first. The order matters: a higher level may approve lower ones."""

    MANAGER = "manager", _("Customer manager")
    CITY = "city", _("City supervisor")
    PROVINCE = "province", _("Province supervisor")
    HQ = "hq", _("HQ")


LEVEL_RANK = {ApprovalLevel.MANAGER: 0, ApprovalLevel.CITY: 1, ApprovalLevel.PROVINCE: 2, ApprovalLevel.HQ: 3}


class DiscountPolicy(models.Model):
    """How deep a discount each level may grant, per product category (DOMAIN §5). The row without a
    category is the default for categories that have none; deeper than `province_max` needs HQ."""

    category = models.CharField(
        _("product category"),
        max_length=20,
        choices=ProductCategory.choices,
        blank=True,
        unique=True,
        help_text=_("Empty: the default for every category without a row of its own."),
    )
    manager_max = models.DecimalField(_("customer manager may grant (%)"), default=0, **PERCENT)
    city_max = models.DecimalField(_("city supervisor may grant (%)"), default=10, **PERCENT)
    province_max = models.DecimalField(_("province supervisor may grant (%)"), default=30, **PERCENT)

    class Meta:
        verbose_name = _("discount approval policy")
        verbose_name_plural = _("discount approval policies")
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(
                condition=Q(manager_max__lte=F("city_max")) & Q(city_max__lte=F("province_max")),
                name="deals_discountpolicy_levels_ordered",
                violation_error_message=_("Each level must be allowed at least as much as the level below it."),
            )
        ]

    def __str__(self) -> str:
        return str(self.get_category_display() or _("Default"))

    def level_for(self, discount) -> str:
        """The lowest level allowed to grant this discount."""
        if discount <= self.manager_max:
            return ApprovalLevel.MANAGER
        if discount <= self.city_max:
            return ApprovalLevel.CITY
        if discount <= self.province_max:
            return ApprovalLevel.PROVINCE
        return ApprovalLevel.HQ

    def level_for_price(self, standard, offered) -> str:
        """The lowest level allowed to grant `offered` against `standard`, on the exact prices: a stored
        discount is rounded to 0.01%, so 1,799.99 of 2,000.00 reads 10.00% though it is past 10% off.
        `offered × 100 ≥ standard × (100 − limit)` is that comparison without a division."""
        if not standard:
            return ApprovalLevel.MANAGER
        for level, limit in (
            (ApprovalLevel.MANAGER, self.manager_max),
            (ApprovalLevel.CITY, self.city_max),
            (ApprovalLevel.PROVINCE, self.province_max),
        ):
            if offered * 100 >= standard * (100 - limit):
                return level
        return ApprovalLevel.HQ


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class Quote(TimeStampedModel, VersionedModel):
    """A priced offer to a customer (报价). Versions of one offer share the number; each new version
    points at the one it replaces. Totals are monthly and kept by the services from the lines."""

    number = models.CharField(_("quote number"), max_length=20, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("replaces version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="quotes"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    required_level = models.CharField(
        _("approval needed from"), max_length=10, choices=ApprovalLevel.choices, blank=True
    )
    max_discount_pct = models.DecimalField(_("deepest discount (%)"), default=0, **PERCENT)
    total_standard = MoneyField(_("monthly total at standard prices (yuan)"), default=0)
    total = MoneyField(_("monthly total offered (yuan)"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="deals_quote_customer_status"),
            # The quote list's order: its first page comes off the index at any scope (decision 0606).
            models.Index(fields=["-created_at", "-id"], name="deals_quote_recent"),
            # The approvers' queue: pending quotes by the level they need.
            models.Index(fields=["status", "required_level"], name="deals_quote_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "version"],
                name="deals_quote_number_version",
                violation_error_message=_("This version of the quote already exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.status != QuoteStatus.DRAFT

    @property
    def discount_amount(self):
        return self.total_standard - self.total


class QuoteLineQuerySet(ScopedQuerySet):
    customer_path = "quote__customer__"


class QuoteLine(models.Model):
    """One product on a quote: the standard price copied from the catalog when the line is made, the
    offered price, and the discount derived from both."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    standard_price = MoneyField(_("standard monthly price (yuan)"))
    offered_price = MoneyField(_("offered monthly price (yuan)"), validators=[MinValueValidator(0)])
    discount_pct = models.DecimalField(_("discount (%)"), default=0, **PERCENT)
    package = models.ForeignKey(
        "catalog.SolutionPackage",
        verbose_name=_("solution package"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The package this line came from: its lines share the package price and are approved as one."),
    )

    objects = QuoteLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    @property
    def amount(self):
        return self.offered_price * self.quantity

    @property
    def standard_amount(self):
        return self.standard_price * self.quantity


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class QuoteApprovalQuerySet(ScopedQuerySet):
    customer_path = "quote__customer__"


class QuoteApproval(models.Model):
    """One approval decision on a quote (an automatic one has no approver)."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="approvals")
    level = models.CharField(_("level"), max_length=10, choices=ApprovalLevel.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    automatic = models.BooleanField(_("automatic"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = QuoteApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.get_level_display()})"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("contract status", "Active")  # 生效中, not the customer's 在网
    EXPIRING = "expiring", _("Expiring")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    RENEWED = "renewed", _("Renewed")


# Contracts that are in force (and so can expire, be renewed or be reminded of).
IN_FORCE = (ContractStatus.ACTIVE, ContractStatus.EXPIRING)


class Contract(ConstraintFieldsMixin, TimeStampedModel, VersionedModel):
    """A contract or agreement (合同/协议) with a customer for a period. A renewal is a new contract whose
    `previous` is the one it renews, so the chain of periods stays readable."""

    number = models.CharField(
        _("contract number"),
        max_length=30,
        unique=True,
        error_messages={"unique": _("A contract with this number already exists.")},
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contracts"
    )
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts"
    )
    value = MoneyField(_("contract value (yuan)"), validators=[MinValueValidator(0)])
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("end date"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    renewal_terms = models.TextField(_("renewal terms"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    termination_reason = models.CharField(_("termination reason"), max_length=200, blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("renews contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal",
    )
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("responsible manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["end_on", "id"]
        indexes = [
            # The daily job and agendas: contracts in force by end date.
            models.Index(fields=["status", "end_on"], name="deals_contract_status_end"),
            models.Index(fields=["customer", "status"], name="deals_contract_customer"),
            models.Index(fields=["end_on", "id"], name="deals_contract_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")),
                name="deals_contract_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            )
        ]

    def __str__(self) -> str:
        return self.number


class ContractAttachmentQuerySet(ScopedQuerySet):
    customer_path = "contract__customer__"


class ContractAttachment(models.Model):
    """A scanned or signed document of a contract. Stored under MEDIA_ROOT, served only through a scoped view."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ContractAttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PROVISIONING = "provisioning", _("Provisioning")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class Order(TimeStampedModel):
    """An order (订单/业务受理) handed to provisioning (BOSS). The CRM tracks its state; completion turns
    its lines into the customer's subscriptions."""

    number = models.CharField(_("order number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="orders"
    )
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    external_ref = models.CharField(_("BOSS reference"), max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("sales order", "order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="deals_order_status"),
            models.Index(fields=["customer", "status"], name="deals_order_customer"),
            models.Index(fields=["-created_at", "-id"], name="deals_order_recent"),
        ]

    def __str__(self) -> str:
        return self.number


class LineAction(models.TextChoices):
    NEW = "new", _("New subscription")
    CHANGE = "change", _("Change a subscription")
    REMOVE_MEMBERS = "leave", _("Members leave")  # 成员退出: off a member-level subscription


class OrderLineQuerySet(ScopedQuerySet):
    customer_path = "order__customer__"


class OrderLine(models.Model):
    """One product to provision: a new subscription, or a change to one the customer already has."""

    order = models.ForeignKey(
        Order, verbose_name=pgettext_lazy("sales order", "order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(
        pgettext_lazy("order line", "action"), max_length=8, choices=LineAction.choices, default=LineAction.NEW
    )
    subscription = models.ForeignKey(
        "catalog.Subscription",
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The subscription this line changes, or the one its completion created."),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    contracted_price = MoneyField(_("contracted monthly price (yuan)"), validators=[MinValueValidator(0)])
    discount_pct = models.DecimalField(_("discount (%)"), default=0, **PERCENT)
    members = models.ManyToManyField("customers.Member", verbose_name=_("members"), blank=True, related_name="+")

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class OrderStateChangeQuerySet(ScopedQuerySet):
    customer_path = "order__customer__"


class OrderStateChange(models.Model):
    """The order's state history: each transition, who (or which BOSS update) made it, and why."""

    order = models.ForeignKey(
        Order, verbose_name=pgettext_lazy("sales order", "order"), on_delete=models.CASCADE, related_name="history"
    )
    from_status = models.CharField(
        pgettext_lazy("status change", "from"), max_length=12, choices=OrderStatus.choices, blank=True
    )
    to_status = models.CharField(pgettext_lazy("status change", "to"), max_length=12, choices=OrderStatus.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    external_ref = models.CharField(_("BOSS reference"), max_length=40, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = OrderStateChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("order state change")
        verbose_name_plural = _("order state changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"
