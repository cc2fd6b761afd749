from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="create"),
    path("<int:endpoint_pk>/", views.endpoint_detail, name="detail"),
    path("<int:endpoint_pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:endpoint_pk>/rotate-secret/", views.endpoint_rotate_secret, name="rotate_secret"),
    path("<int:endpoint_pk>/activate/", views.endpoint_activate, name="activate"),
    path("<int:endpoint_pk>/deactivate/", views.endpoint_deactivate, name="deactivate"),
    path("<int:endpoint_pk>/test/", views.endpoint_test, name="test"),
    path("<int:endpoint_pk>/redeliver-given-up/", views.endpoint_redeliver_given_up, name="redeliver_given_up"),
    path("<int:endpoint_pk>/delete/", views.endpoint_delete, name="delete"),
    path("deliveries/<int:delivery_pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_pk>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
