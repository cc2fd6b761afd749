from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.xlsx", views.dashboard_export, name="dashboard_export"),
    path("indicators/", views.indicator_table, name="indicators"),
    path("indicators.xlsx", views.indicator_export, name="indicator_export"),
    path("drill/", views.drill, name="drill"),
    path("drill.xlsx", views.drill_export, name="drill_export"),
    path("segments/", views.segment_list, name="segments"),
    path("segments.xlsx", views.segment_export, name="segment_export"),
    path("segments/prepare/", views.segments_prepare, name="segments_prepare"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("targets/", views.target_list, name="target_list"),
    path("targets/new/", views.target_create, name="target_create"),
    path("targets/<int:pk>/", views.target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("targets/import/", views.target_import, name="target_import"),
    path("targets/template.xlsx", views.target_template, name="target_template"),
    path("grade-proposals/", views.proposal_list, name="proposal_list"),
    path("grade-proposals/run/", views.proposal_run, name="proposal_run"),
    path("grade-proposals/<int:pk>/decide/", views.proposal_decide, name="proposal_decide"),
]
