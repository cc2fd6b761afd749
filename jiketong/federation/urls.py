from django.urls import path

from . import views

app_name = "federation"
urlpatterns = [
    path("", views.group_list, name="groups"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("indicators/", views.indicators, name="indicators"),
    path("freshness/", views.freshness, name="freshness"),
    path("share/<int:customer_id>/", views.share, name="share"),
]
