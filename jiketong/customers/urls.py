from django.urls import path

from . import import_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.xlsx", views.customer_export, name="export"),
    path("new/", views.customer_create, name="create"),
    path("imports/", import_views.archive_import, name="import"),
    path("imports/<int:archive_run_pk>/", import_views.archive_import_run, name="import_run"),
    path("imports/<int:archive_run_pk>/errors/", import_views.archive_import_errors, name="import_errors"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:contact_pk>/reveal/", views.contact_reveal, name="contact_reveal"),
    path("contacts/<int:contact_pk>/left/", views.contact_left, name="contact_left"),
    path("contacts/<int:contact_pk>/counterpart/", views.contact_counterpart, name="contact_counterpart"),
    path("<int:pk>/relations/new/", views.relation_create, name="relation_create"),
    path("relations/<int:relation_pk>/delete/", views.relation_delete, name="relation_delete"),
    path("key-persons/", views.key_person_gaps, name="key_person_gaps"),
    path("<int:pk>/members/new/", views.member_add, name="member_add"),
    path("<int:pk>/members/bulk-add/", views.members_bulk_add, name="members_bulk_add"),
    path("<int:pk>/members/bulk-remove/", views.members_bulk_remove, name="members_bulk_remove"),
    path("members/<int:member_pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:member_pk>/reveal/", views.member_reveal, name="member_reveal"),
    path("<int:pk>/competitors/new/", views.competitor_edit, name="competitor_create"),
    path("competitors/<int:presence_pk>/edit/", views.competitor_edit, name="competitor_edit"),
    path("<int:pk>/affiliations/new/", views.affiliation_create, name="affiliation_create"),
    path("affiliations/<int:affiliation_pk>/delete/", views.affiliation_delete, name="affiliation_delete"),
]
