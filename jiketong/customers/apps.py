from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class CustomersConfig(AppConfig):
    name = "jiketong.customers"
    verbose_name = _("Group customers")
    # The archive import (customers.imports) is a supervisor's or an administrator's job.
    nav = [
        NavItem(
            _("Archive import"),
            "customers:import",
            "bi-file-earmark-arrow-up",
            section="customers-import",
            roles=frozenset({"supervisor", "admin"}),
            order=15,
        ),  # fmt: skip
        NavItem(
            _("Key-person gaps"),
            "customers:key_person_gaps",
            "bi-person-exclamation",
            section="customers-keypersons",
            roles=frozenset({"supervisor", "admin"}),
            order=16,
        ),
    ]
    # What the archive does when other apps report something (jiketong.core.events).
    reactions = {
        "order.completed": ["jiketong.customers.reactions.order_completed"],
        "churn.level_changed": ["jiketong.customers.reactions.churn_level_changed"],
        "lead.converted": ["jiketong.customers.reactions.lead_converted"],
        "billing.period_replaced": ["jiketong.customers.reactions.billing_period_replaced"],
        "customer.lifecycle_changed": ["jiketong.customers.reactions.lifecycle_changed"],
    }
