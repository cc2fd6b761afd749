"""The superuser's view of the business calendar and the SLA policies. System administrators keep the holiday and
make-up days and the SLA policies on the calendar page (/service/calendar/), through service.services and audited;
the working hours and the weekend are still set here.

Deadlines already computed keep their values: a change applies to tickets received (or reopened) after it."""

from django.contrib import admin

from .models import BusinessCalendar, CalendarDay, SlaPolicy, WorkingPeriod


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "weekend"]
    inlines = [WorkingPeriodInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["ticket_type", "grade", "response_minutes", "resolution_minutes"]
    list_filter = ["ticket_type"]
