"""Generated tests (jiketong/testing_views.py) for the federation: national groups are HQ's (not a customer of
the world), read by HQ only."""

from jiketong.federation.models import NationalGroup
from jiketong.testing_views import Case

CASES = [
    Case(
        NationalGroup,
        kinds=("group",),
        paths=("federation/",),
        unscoped=lambda: NationalGroup.objects.first().pk,
        list="federation:groups",
        detail="federation:group",
        reader="erin",
    ),
]
OTHER_ROUTES = {
    "federation:share",
    "federation:directives", "federation:directive_target", "federation:directive_catalog",
    "federation:directive_discount", "federation:indicators", "federation:freshness", "/api/v1/federation/batches",
    "/api/v1/federation/cursor", "/api/v1/federation/directives",
}  # fmt: skip
