"""REST endpoints for the org tree and staff accounts (`/api/v1/org-units`, `/api/v1/staff`)."""

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, IfMatch, Page, PatchSchema, filtered, from_attr, referenced, with_parent_pk
from jiketong.core.concurrency import expected_from_if_match, with_etag
from jiketong.core.trees import subtree

from . import queries
from .models import OrgUnit, Staff
from .services import (
    require_admin,
    staff_create,
    staff_deactivate,
    staff_reactivate,
    staff_set_password,
    staff_update,
)

router = Router(tags=["org"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- org units -----------------------------------------------------------------------------------
class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent: int | None = from_attr("parent_pk", None, description="Id of the parent unit; null for HQ.")


class OrgUnitFilter(Schema):
    search: str | None = Field(None, description="Part of the name or code.")
    level: str | None = Field(None, description="hq, province, city, county or grid.")
    parent: Id | None = Field(None, description="Only the direct children of this unit.")


def _org_units() -> QuerySet[OrgUnit]:
    return with_parent_pk(OrgUnit.objects.all(), OrgUnit.steplen).order_by("path")


@router.get("/org-units", response=list[OrgUnitOut], summary="List org units")
@paginate(Page)
def org_unit_list(request, filters: Query[OrgUnitFilter]):
    """The org tree in tree order. Org units are not customer data: every signed-in user may read them."""
    units = _org_units()
    if filters.search:
        units = units.filter(Q(name__icontains=filters.search.strip()) | Q(code__startswith=filters.search.strip()))
    if filters.level:
        units = units.filter(level=filters.level)
    if filters.parent is not None:
        parent = OrgUnit.objects.filter(pk=filters.parent).only("path", "depth").first()
        if parent is None:
            return units.none()
        units = units.filter(subtree(parent.path), depth=parent.depth + 1)
    return units


@router.get("/org-units/{unit_id}", response={200: OrgUnitOut, **ERRORS}, summary="Get an org unit")
def org_unit_get(request, unit_id: Id):
    return get_object_or_404(_org_units(), pk=unit_id)


# --- staff ---------------------------------------------------------------------------------------
class StaffOut(Schema):
    id: int
    username: str = from_attr("user.username")
    name: str
    org_unit: int = from_attr("org_unit_id")
    roles: list[str]
    rank: str
    is_active: bool

    @staticmethod
    def resolve_roles(obj: Staff) -> list[str]:
        return sorted(obj.role_codes)


class StaffFilter(Schema):
    """The staff list's filters; the same filter set as the 用户管理 page (org.filters.StaffFilter)."""

    search: str | None = Field(None, description="Part of the name or username.")
    org_unit: Id | None = Field(None, description="Staff of this org unit and the units under it.")
    role: str | None = Field(None, description="A role code, e.g. supervisor.")
    is_active: bool | None = None


class PasswordIn(Schema):
    password: str = Field(..., description="Checked against the password rules; stored as an argon2 hash only.")


class StaffIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., description="Checked against the password rules; stored as an argon2 hash.")
    name: str = Field(..., max_length=40)
    org_unit: int
    roles: list[str] = Field(..., description="Role codes, e.g. customer_manager, supervisor.")
    rank: str = ""
    mobile: str = ""


class StaffPatch(PatchSchema):
    name: str | None = None
    org_unit: int | None = None
    roles: list[str] | None = None
    rank: str | None = None
    mobile: str | None = None


def _staff(user) -> QuerySet[Staff]:
    return queries.staff_visible(user)


def _org_unit(unit_id: Id) -> OrgUnit:
    return referenced(OrgUnit.objects.all(), unit_id, "org_unit", _("There is no org unit with this id."))


@router.get("/staff", response={200: list[StaffOut], 400: ErrorOut}, summary="List staff")
@paginate(Page)
def staff_list(request, filters: Query[StaffFilter]):
    """Colleagues in the caller's province (HQ and admins: everyone). Invalid filter values answer 400."""
    params = filters.model_dump(exclude_none=True)
    if "is_active" in params:
        params["is_active"] = "true" if params["is_active"] else "false"
    return filtered(queries.staff_list, request.user, params)


@router.get("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, summary="Get a staff member")
def staff_get(request, response: HttpResponse, staff_id: Id):
    """Its ETag names its version: send it back as If-Match on a PATCH."""
    return with_etag(response, get_object_or_404(_staff(request.user), pk=staff_id))


@router.post("/staff", response={201: StaffOut, **ERRORS}, summary="Create a staff account (admins)")
def staff_post(request, payload: StaffIn):
    """Opens the login and the staff record in one step. The password is never returned."""
    require_admin(request.user)
    data = payload.dict()
    data["org_unit"] = _org_unit(data["org_unit"])
    staff = staff_create(actor=request.user, **data)
    return Status(201, get_object_or_404(_staff(request.user), pk=staff.pk))


@router.patch("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, summary="Change a staff member (admins)")
def staff_patch(request, response: HttpResponse, staff_id: Id, payload: StaffPatch, if_match: IfMatch = None):
    staff = get_object_or_404(_staff(request.user), pk=staff_id)
    data = payload.dict(exclude_unset=True)
    if "org_unit" in data:
        data["org_unit"] = _org_unit(data["org_unit"])
    staff_update(actor=request.user, staff=staff, expected_version=expected_from_if_match(if_match), **data)
    return with_etag(response, get_object_or_404(_staff(request.user), pk=staff_id))


@router.post("/staff/{staff_id}/deactivate", response={200: StaffOut, **ERRORS}, summary="Disable an account (admins)")
def staff_deactivate_post(request, staff_id: Id):
    """The account's sessions and API tokens stop working at once; the record and its history stay."""
    return _admin_action(request, staff_id, staff_deactivate)


@router.post(
    "/staff/{staff_id}/reactivate", response={200: StaffOut, **ERRORS}, summary="Enable an account again (admins)"
)
def staff_reactivate_post(request, staff_id: Id):
    """The login works again with the password it had; API tokens revoked when it was disabled stay revoked."""
    return _admin_action(request, staff_id, staff_reactivate)


def _admin_action(request, staff_id: int, service) -> Staff:
    """An admin's step on an account: out of scope answers 404 before the role's 403; answers the account after."""
    staff = get_object_or_404(_staff(request.user), pk=staff_id)
    require_admin(request.user)
    service(actor=request.user, staff=staff)
    return get_object_or_404(_staff(request.user), pk=staff_id)


@router.post(
    "/staff/{staff_id}/password", response={204: None, **ERRORS}, summary="Set a staff member's password (admins)"
)
def staff_password_post(request, staff_id: Id, payload: PasswordIn):
    """The colleague's open sessions end. The audit trail records that it was set, never the password."""
    staff = get_object_or_404(_staff(request.user), pk=staff_id)  # out of scope: 404 before any 403
    require_admin(request.user)
    staff_set_password(actor=request.user, staff=staff, password=payload.password)
    return Status(204, None)
