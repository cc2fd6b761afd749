from django.urls import path

from . import views

app_name = "defence"

urlpatterns = [
    path("", views.board, name="board"),
    path("export.xlsx", views.board_export, name="export"),
    path("customers/<int:customer_pk>/", views.customer_page, name="customer"),
    path("customers/<int:customer_pk>/attacks/new/", views.attack_create, name="attack_create"),
    path("customers/<int:customer_pk>/plans/new/", views.plan_create, name="plan_create"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/countermeasures/new/", views.countermeasure_create, name="countermeasure_create"),
    path("plans/<int:pk>/close/", views.plan_close, name="plan_close"),
    path("countermeasures/<int:countermeasure_pk>/status/", views.countermeasure_status, name="countermeasure_status"),
    path("win-back/", views.winback_list, name="winback"),
    path("reports/", views.report, name="report"),
    path("groups/", views.group_list, name="groups"),
    path("groups/export.xlsx", views.group_export, name="group_export"),
    path("groups/<int:group_pk>/", views.group_detail, name="group"),
]
