from django.urls import path

from . import views

app_name = "churn"

urlpatterns = [
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/export.xlsx", views.warning_export, name="export"),
    path("customers/<int:customer_pk>/retention-task/", views.retention_task, name="retention_task"),
]
