"""The REST API: one NinjaAPI assembling each app's router (api/site.py).
See api/base.py for auth, errors and paging."""

from .site import build_api

api = build_api()
