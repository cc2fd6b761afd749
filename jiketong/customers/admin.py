from django.contrib import admin

from .models import Industry


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "approach", "sort_order"]
    list_editable = ["name", "approach", "sort_order"]
