"""Admins configure the stages and the lead assignment rules here. Leads and opportunities themselves are
not edited in the admin: they change only through the services, which check and audit every write."""

from django.contrib import admin

from .models import AssignmentRule, Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "name", "probability", "is_won", "is_lost", "active"]
    list_display_links = ["code", "name"]
    list_editable = ["order", "probability", "active"]


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "grade_hints", "min_size", "role", "active"]
    list_display_links = ["name"]
    list_editable = ["order", "active"]
