from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import ApiToken, OrgUnit, Role, Staff


@admin.register(OrgUnit)
class OrgUnitAdmin(TreeAdmin):
    form = movenodeform_factory(OrgUnit)
    list_display = ["name", "code", "level"]
    search_fields = ["name", "code"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "org_unit", "rank", "left_on"]
    list_filter = ["roles", "rank"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["org_unit"]
    filter_horizontal = ["roles"]
    list_select_related = ["user", "org_unit"]


admin.site.register(Role)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at"]
    readonly_fields = ["key_hash", "prefix"]
