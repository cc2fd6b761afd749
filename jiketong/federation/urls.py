from django.urls import path

from . import views

app_name = "federation"
urlpatterns = [
    path("", views.group_list, name="groups"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("groups/<int:group_id>/assign/", views.group_assign, name="assign"),
    path("directives/", views.directives, name="directives"),
    path("directives/target/", views.directive_target, name="directive_target"),
    path("directives/catalog/", views.directive_catalog, name="directive_catalog"),
    path("directives/discount/", views.directive_discount, name="directive_discount"),
    path("indicators/", views.indicators, name="indicators"),
    path("freshness/", views.freshness, name="freshness"),
    path("share/<int:customer_id>/", views.share, name="share"),
]
