from django.urls import path

from . import event_views

app_name = "events"

urlpatterns = [
    path("", event_views.event_list, name="list"),
    path("<int:pk>/retry/", event_views.event_retry, name="retry"),
]
