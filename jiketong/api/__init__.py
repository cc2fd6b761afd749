"""The REST API: one NinjaAPI assembling each app's router. See api/base.py for auth, errors and paging."""

from .base import build_api

api = build_api()
