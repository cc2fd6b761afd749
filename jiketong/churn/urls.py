from django.urls import path

from . import views

app_name = "churn"

urlpatterns = [
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/export.xlsx", views.warning_export, name="export"),
    path("customers/<int:customer_pk>/retention-task/", views.retention_task, name="retention_task"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_pk>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("alerts/<int:alert_pk>/retention-task/", views.alert_retention, name="alert_retention"),
]
