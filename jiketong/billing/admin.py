from django.contrib import admin

from .models import ImportRun, PointsRule
from .services import POINTS_RULE_FIELDS, points_rule_create


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    """A rule is never edited: a new row takes over, so the ledger's history keeps its meaning."""

    list_display = ["created_at", *POINTS_RULE_FIELDS]
    fields = POINTS_RULE_FIELDS

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        # Through the service, so the new rule is audited like any other write.
        obj.pk = points_rule_create(actor=request.user, **form.cleaned_data).pk


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "file_name", "kind", "mode", "status", "rows_total", "rows_ok", "rows_bad"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
