from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "jiketong.customers"
    verbose_name = _("Group customers")
    # What the archive does when other apps report something (jiketong.core.events).
    reactions = {
        "order.completed": ["jiketong.customers.reactions.order_completed"],
        "churn.level_changed": ["jiketong.customers.reactions.churn_level_changed"],
        "lead.converted": ["jiketong.customers.reactions.lead_converted"],
        "billing.period_replaced": ["jiketong.customers.reactions.billing_period_replaced"],
    }
