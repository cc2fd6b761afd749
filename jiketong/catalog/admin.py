from django.contrib import admin

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "billing_unit", "stickiness", "standard_price", "is_active"]
    list_filter = ["category", "billing_unit", "stickiness", "is_active"]
    search_fields = ["code", "name"]
