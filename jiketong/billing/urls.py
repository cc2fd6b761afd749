from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors/", views.import_errors, name="import_errors"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("customers/<int:customer_pk>/points/", views.customer_points, name="customer_points"),
    path("customers/<int:customer_pk>/points/redeem/", views.customer_redeem, name="customer_redeem"),
    path("customers/<int:customer_pk>/benefits/", views.customer_benefits, name="customer_benefits"),
    path("redemptions/", views.redemption_list, name="redemption_list"),
    path("redemptions/export/", views.redemption_export, name="redemption_export"),
    path("benefits/", views.benefit_list, name="benefit_list"),
    path("benefits/new/", views.benefit_create, name="benefit_create"),
    path("benefits/<int:benefit_pk>/", views.benefit_edit, name="benefit_edit"),
]
