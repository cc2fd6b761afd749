from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/retire/", views.product_retire, name="product_retire"),
    path("products/<int:pk>/reinstate/", views.product_reinstate, name="product_reinstate"),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_create, name="package_create"),
    path("packages/<int:pk>/", views.package_edit, name="package_edit"),
    path("packages/<int:pk>/retire/", views.package_retire, name="package_retire"),
    path("packages/<int:pk>/reinstate/", views.package_reinstate, name="package_reinstate"),
    path("customers/<int:customer_pk>/subscriptions/new/", views.subscription_create, name="subscription_create"),
    path("subscriptions/<int:pk>/edit/", views.subscription_edit, name="subscription_edit"),
]
