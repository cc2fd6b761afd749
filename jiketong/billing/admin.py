from django.contrib import admin

from .models import CreditRule, ImportRun, PointsRule, RedemptionRule
from .services import (
    CREDIT_RULE_FIELDS,
    POINTS_RULE_FIELDS,
    REDEMPTION_RULE_FIELDS,
    credit_rule_create,
    points_rule_create,
    redemption_rule_create,
)


class _NewRowRuleAdmin(admin.ModelAdmin):
    """Rules are never edited: a new row takes over, so the history read under the old rule keeps its meaning;
    it is saved through its service, so the new rule is audited like any other write."""

    create = None

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = type(self).create(actor=request.user, **form.cleaned_data).pk


@admin.register(PointsRule)
class PointsRuleAdmin(_NewRowRuleAdmin):
    list_display = ["created_at", *POINTS_RULE_FIELDS]
    fields = POINTS_RULE_FIELDS
    create = staticmethod(points_rule_create)


@admin.register(CreditRule)
class CreditRuleAdmin(_NewRowRuleAdmin):
    list_display = ["created_at", *CREDIT_RULE_FIELDS]
    fields = CREDIT_RULE_FIELDS
    create = staticmethod(credit_rule_create)


@admin.register(RedemptionRule)
class RedemptionRuleAdmin(_NewRowRuleAdmin):
    list_display = ["created_at", *REDEMPTION_RULE_FIELDS]
    fields = REDEMPTION_RULE_FIELDS
    create = staticmethod(redemption_rule_create)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "file_name", "kind", "mode", "status", "rows_total", "rows_ok", "rows_bad"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
