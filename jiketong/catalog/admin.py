from django.contrib import admin

from .models import Product
from .services import PRODUCT_FIELDS, product_save


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "billing_unit", "stickiness", "standard_price", "is_active"]
    list_filter = ["category", "billing_unit", "stickiness", "is_active"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        # Through the service, so price changes are audited like any other write.
        fields = {name: form.cleaned_data[name] for name in PRODUCT_FIELDS if name in form.cleaned_data}
        current = Product.objects.get(pk=obj.pk) if change else None  # obj already holds the new values
        saved = product_save(actor=request.user, product=current, **fields)
        obj.pk = saved.pk
