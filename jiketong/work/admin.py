from django.contrib import admin

from .models import VisitStandard


@admin.register(VisitStandard)
class VisitStandardAdmin(admin.ModelAdmin):
    """The visit standard by grade is a rule admins tune (DOMAIN §7); the rest of the work app is written
    through its services only."""

    list_display = ["grade", "visits", "interval_months"]
    list_editable = ["visits", "interval_months"]

    def has_add_permission(self, request) -> bool:
        return False  # one row per grade, seeded by the migration

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
