from django.contrib import admin

from .models import DiscountPolicy


@admin.register(DiscountPolicy)
class DiscountPolicyAdmin(admin.ModelAdmin):
    """The approval limits are configuration (DOMAIN §5: configurable); quotes and contracts change only
    through the app, where the services audit them."""

    list_display = ["__str__", "manager_max", "city_max", "province_max"]
