from django.urls import path

from . import views

app_name = "sales"

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/duplicates/", views.lead_duplicates, name="lead_duplicates"),
    path("leads/import/", views.lead_import, name="lead_import"),
    path("leads/import/<int:lead_run_pk>/", views.lead_import_run, name="lead_import_run"),
    path("leads/import/<int:lead_run_pk>/errors/", views.lead_import_errors, name="lead_import_errors"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("leads/<int:pk>/disqualify/", views.lead_disqualify, name="lead_disqualify"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:opportunity_pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:opportunity_pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:opportunity_pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:opportunity_pk>/publish/", views.case_publish, name="case_publish"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:case_pk>/", views.case_detail, name="case_detail"),
    path("board/", views.board, name="board"),
    path("forecast/", views.forecast, name="forecast"),
    path("mine/", views.my_pipeline, name="mine"),
]
