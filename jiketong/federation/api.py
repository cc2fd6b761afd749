"""The sync API (HQ side): provinces POST their batches, read their cursor and HQ's directives
(docs/federation.md, decision 1101). A province authenticates with its own token
(`python -m jiketong federation province-add`); HQ's analysts and administrators may read the directives
with their own token or session. Only an HQ instance (or a single one) answers; a province's says 404."""

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.security import HttpBearer, django_auth

from jiketong.api.base import INT64_MAX, BearerToken, ErrorOut, Page

from . import instance, services
from .models import Province
from .schemas import BatchIn, BatchOut, CursorOut, DirectiveOut

router = Router(tags=["federation"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class ProvinceToken(HttpBearer):
    """`Authorization: Bearer fed_…`: the token HQ gave one province."""

    def authenticate(self, request, token: str):
        if not token.startswith("fed_"):
            return None
        province = services.province_for_token(token)
        if province is not None:
            request.province = province
        return province


def _hq_only() -> None:
    if not instance.serves_national_views():
        raise Http404


@router.post(
    "/federation/batches",
    auth=ProvinceToken(),
    response={200: BatchOut, **ERRORS},
    summary="Send a batch of a province's rows",
    openapi_extra={"responses": {403: {"description": "A row of another province: nothing was written."}}},
)
def batch_post(request, payload: BatchIn):
    """Idempotent upserts keyed (province, natural key, period), in the order of `seq`. Every row must be the
    sending province's own (`province` of the body and of every row = the token's): otherwise 403 and nothing
    is written. A payload with a key HQ does not receive answers 400 on that key. An empty `rows` is a
    heartbeat: it updates the freshness panel."""
    _hq_only()
    province = request.auth
    if payload.province != province.code:
        services.batch_refused(province)
        raise PermissionDenied(
            _("This token belongs to province %(code)s; it cannot send for %(other)s.")
            % {"code": province.code, "other": payload.province}
        )
    rows = [row.model_dump() for row in payload.rows]
    return services.batch_apply(province=province, rows=rows, status=payload.status.model_dump())


@router.get(
    "/federation/cursor",
    auth=ProvinceToken(),
    response={200: CursorOut, **ERRORS},
    summary="What HQ last received from this province",
)
def cursor_get(request):
    _hq_only()
    province: Province = request.auth
    when = province.last_batch_at.isoformat() if province.last_batch_at else None
    return {"province": province.code, "last_seq": province.last_seq, "last_batch_at": when}


class DirectiveFilter(Schema):
    after: int = Field(0, ge=0, le=INT64_MAX, description="The last sequence number already read.")


@router.get(
    "/federation/directives",
    auth=[ProvinceToken(), BearerToken(), django_auth],
    response={200: list[DirectiveOut], **ERRORS},
    summary="HQ's directives to the provinces",
)
@paginate(Page)
def directive_list(request, filters: Query[DirectiveFilter]):
    """National account assignments and national targets in the order HQ set them, after the sequence number
    `after`. A province sees the ones for it and for every province; HQ's analysts and admins see all."""
    _hq_only()
    if isinstance(request.auth, Province):
        rows = services.directives_for(request.auth.code)
    else:
        services.require_hq_admin(request.user)
        rows = services.directives_for(None)
    return rows.filter(pk__gt=filters.after).values("kind", "province", "key", "payload", seq=F("pk"))
