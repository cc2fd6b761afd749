from django.urls import path

from . import exports

app_name = "exports"

urlpatterns = [
    path("<str:token>/", exports.download, name="download"),
]
