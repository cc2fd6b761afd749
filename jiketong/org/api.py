"""REST endpoints for the org tree and staff accounts (`/api/v1/org-units`, `/api/v1/staff`)."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, PatchSchema, referenced, with_parent_pk
from jiketong.core.trees import subtree

from .models import OrgUnit, Staff
from .services import require_admin, staff_create, staff_deactivate, staff_update

router = Router(tags=["org"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- org units -----------------------------------------------------------------------------------
class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent: int | None = Field(None, description="Id of the parent unit; null for HQ.")

    @staticmethod
    def resolve_parent(obj: OrgUnit) -> int | None:
        return obj.parent_pk


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
    username: str
    name: str
    org_unit: int
    roles: list[str]
    rank: str
    is_active: bool

    @staticmethod
    def resolve_username(obj: Staff) -> str:
        return obj.user.username

    @staticmethod
    def resolve_org_unit(obj: Staff) -> int:
        return obj.org_unit_id

    @staticmethod
    def resolve_roles(obj: Staff) -> list[str]:
        return sorted(obj.role_codes)


class StaffFilter(Schema):
    search: str | None = Field(None, description="Part of the name or username.")
    org_unit: Id | None = Field(None, description="Staff of this org unit and the units under it.")
    role: str | None = None
    is_active: bool | None = None


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
    return Staff.objects.visible_to(user).select_related("user").prefetch_related("roles")


def _org_unit(unit_id: Id) -> OrgUnit:
    return referenced(OrgUnit.objects.all(), unit_id, "org_unit", _("There is no org unit with this id."))


@router.get("/staff", response=list[StaffOut], summary="List staff")
@paginate(Page)
def staff_list(request, filters: Query[StaffFilter]):
    """Colleagues in the caller's province (HQ and admins: everyone)."""
    staff = _staff(request.user).order_by("name", "user_id")
    if filters.search:
        text = filters.search.strip()
        staff = staff.filter(Q(name__icontains=text) | Q(user__username__icontains=text))
    if filters.org_unit is not None:
        unit = OrgUnit.objects.filter(pk=filters.org_unit).only("path").first()
        staff = staff.filter(subtree(unit.path, "org_unit__path")) if unit else staff.none()
    if filters.role:
        staff = staff.filter(roles__code=filters.role)
    if filters.is_active is not None:
        staff = staff.filter(user__is_active=filters.is_active)
    return staff


@router.get("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, summary="Get a staff member")
def staff_get(request, staff_id: Id):
    return get_object_or_404(_staff(request.user), pk=staff_id)


@router.post("/staff", response={201: StaffOut, **ERRORS}, summary="Create a staff account (admins)")
def staff_post(request, payload: StaffIn):
    """Opens the login and the staff record in one step. The password is never returned."""
    require_admin(request.user)
    data = payload.dict()
    data["org_unit"] = _org_unit(data["org_unit"])
    staff = staff_create(actor=request.user, **data)
    return Status(201, get_object_or_404(_staff(request.user), pk=staff.pk))


@router.patch("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, summary="Change a staff member (admins)")
def staff_patch(request, staff_id: Id, payload: StaffPatch):
    staff = get_object_or_404(_staff(request.user), pk=staff_id)
    data = payload.dict(exclude_unset=True)
    if "org_unit" in data:
        data["org_unit"] = _org_unit(data["org_unit"])
    staff_update(actor=request.user, staff=staff, **data)
    return get_object_or_404(_staff(request.user), pk=staff_id)


@router.post("/staff/{staff_id}/deactivate", response={200: StaffOut, **ERRORS}, summary="Disable an account (admins)")
def staff_deactivate_post(request, staff_id: Id):
    """The account's sessions and API tokens stop working at once; the record and its history stay."""
    staff = get_object_or_404(_staff(request.user), pk=staff_id)
    require_admin(request.user)
    staff_deactivate(actor=request.user, staff=staff)
    return get_object_or_404(_staff(request.user), pk=staff_id)
