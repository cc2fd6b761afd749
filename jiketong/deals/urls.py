from django.urls import path

from . import views

app_name = "deals"

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("approvals/", views.approval_queue, name="approval_queue"),
    path("customers/<int:customer_pk>/quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/lines/", views.quote_line_add, name="quote_line_add"),
    path("quotes/<int:pk>/packages/", views.quote_package_add, name="quote_package_add"),
    path("quotes/<int:pk>/packages/<int:package_pk>/remove/", views.quote_package_remove, name="quote_package_remove"),
    path("quote-lines/<int:pk>/edit/", views.quote_line_edit, name="quote_line_edit"),
    path("quote-lines/<int:pk>/delete/", views.quote_line_delete, name="quote_line_delete"),
    path("quotes/<int:pk>/submit/", views.quote_submit, name="quote_submit"),
    path("quotes/<int:pk>/approve/", views.quote_approve, name="quote_approve"),
    path("quotes/<int:pk>/reject/", views.quote_reject, name="quote_reject"),
    path("quotes/<int:pk>/new-version/", views.quote_new_version, name="quote_new_version"),
    path("quotes/<int:pk>/print/", views.quote_print, name="quote_print"),
    path("quotes/<int:pk>/contract/", views.contract_from_quote, name="contract_from_quote"),
    path("quotes/<int:pk>/order/", views.order_from_quote, name="order_from_quote"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("customers/<int:customer_pk>/contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/activate/", views.contract_activate, name="contract_activate"),
    path("contracts/<int:pk>/terminate/", views.contract_terminate, name="contract_terminate"),
    path("contracts/<int:pk>/renew/", views.contract_renew, name="contract_renew"),
    path("contracts/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("contracts/<int:pk>/order/", views.order_from_contract, name="order_from_contract"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/export.csv", views.order_export, name="order_export"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/state/", views.order_state, name="order_state"),
]
