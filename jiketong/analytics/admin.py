from django.contrib import admin

from .models import GradeScheme


@admin.register(GradeScheme)
class GradeSchemeAdmin(admin.ModelAdmin):
    """The newest scheme is in force: admins add a new one rather than edit history."""

    list_display = ["created_at", "size_weight", "revenue_weight", "influence_weight", "prospects_weight", "a1_from"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False
