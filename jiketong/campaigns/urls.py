from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/build/", views.campaign_build, name="build"),
    path("<int:pk>/launch/", views.campaign_launch, name="launch"),
    path("<int:pk>/close/", views.campaign_close, name="close"),
    path("<int:pk>/targets/<int:campaign_target_pk>/respond/", views.target_respond, name="respond"),
    path("whitespace/", views.whitespace, name="whitespace"),
    path("whitespace/export.xlsx", views.whitespace_export, name="whitespace_export"),
    path("whitespace/campaign/", views.whitespace_campaign, name="whitespace_campaign"),
]
