from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("units/", views.unit, name="unit"),
    path("units/export.xlsx", views.unit_export, name="unit_export"),
    path("managers/<int:staff_pk>/", views.manager, name="manager"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/ranks/", views.rank_grades, name="rank_grades"),
    path("months/", views.month_list, name="months"),
    path("months/compute/", views.month_compute, name="compute"),
    path("months/close/", views.month_close, name="close"),
    path("months/reopen/", views.month_reopen, name="reopen"),
]
