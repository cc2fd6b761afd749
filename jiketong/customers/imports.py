"""The archive import (docs/customers.md, decision 0018): customers with their key persons and members from a
摸底 survey sheet or a BOSS customer master, Excel or CSV, Chinese or English headings, GBK or UTF-8.

A file holds one or more sheets; each is recognised by its headings (core.spreadsheets.HeaderMap):
- a **customers** sheet names customer columns (客户名称, 集团编号, 统一社会信用代码, 客户类型, 行业 …) and may carry
  one key person per row (联系人, 职务, 联系人手机);
- a **contacts** sheet names a customer key and a person (联系人/姓名 …);
- a **members** sheet names a customer key and a phone number (手机号码 …).
Customers sheets are taken first, so the contacts and members of a new customer may come in the same workbook.

Rows are matched to the archive by USCC or by customer number (集团编号), as the importer chooses, and then
created, updated, or both (`ImportAction`). Every row is checked with the rules of the customer, contact and
member forms (USCC check digit, mobiles by libphonenumber, the model's field rules, owners who are active, no
two current members with one number, a new customer whose name matches another once legal-form suffixes are
stripped: sales' normalise_org_name), but set-based: references and duplicates are looked up for the whole
file in a few queries (key tables joined against the archive), never a query per row. Rows land only in the
importer's subtree. All or nothing, or the good rows: a bad row comes back with every reason at once.

The writes go in one transaction with the run's outcome: rows by COPY / multi-row INSERT with ids handed out
in advance, updates by one UPDATE … FROM a table of the new values, audit rows in bulk (one per customer
created or changed, per contact created, per customer's members added, and one for the run).
"""

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from jiketong.core.audit import record, snapshot
from jiketong.core.events import emit_many
from jiketong.core.imports import (
    AUDIT_FIELDS,
    FieldRules,
    Progress,
    RunMode,
    RunStatus,
    Snapshot,
    audit_rows,
    choice_words,
    chunks,
    db_date,
    db_now,
    error_report_header,
    fast_mobile,
    fast_uscc,
    key_table,
    name_prefix_range,
    new_ids,
    runs_visible_to,
    store_upload,
    write_error_report,
    write_rows,
)
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.notes import stored
from jiketong.core.spreadsheets import (
    Column,
    Header,
    HeaderMap,
    Limits,
    SpreadsheetError,
    header_key,
    open_spreadsheet,
)
from jiketong.core.validators import fact_date_errors, to_halfwidth
from jiketong.org.models import OrgUnit, Role, Staff, can, staff_of

from . import keypersons
from .models import (
    Contact,
    Customer,
    CustomerImportRun,
    CustomerSource,
    CustomerType,
    DecisionRole,
    Grade,
    GradeChange,
    ImportAction,
    ImportMatch,
    Industry,
    LifecycleStatus,
    Member,
    Network,
    PaidBy,
    ServiceLevel,
)
from .search import build_search_text
from .services import CONTACT_FIELDS, CUSTOMER_FIELDS, MEMBER_FIELDS

logger = logging.getLogger(__name__)
IMPORT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's path alphabet


def require_import(actor) -> None:
    if not can(actor, IMPORT_ROLES):
        raise PermissionDenied(_("Only supervisors and administrators may import the archive."))


# --- columns -------------------------------------------------------------------------------------
KEY_COLUMNS = (
    Column("number", ("集团编号", "客户编号", "集团客户编号", "customer number", "number", "group number")),
    Column("uscc", ("统一社会信用代码", "信用代码", "社会信用代码", "uscc", "credit code")),
)
CUSTOMER_COLUMNS = (
    *KEY_COLUMNS,
    Column("name", ("客户名称", "集团名称", "单位名称", "集团客户名称", "customer name", "company", "organisation")),
    Column("short_name", ("客户简称", "简称", "short name")),
    Column("type", ("客户类型", "单位类型", "集团类型", "type", "customer type")),
    Column("industry", ("行业", "所属行业", "行业类别", "industry")),
    Column("size", ("规模", "人数", "员工数", "规模（人）", "size", "headcount")),
    Column("address", ("地址", "单位地址", "详细地址", "address")),
    Column("org_unit", ("归属单位", "归属单位编码", "区域编码", "归属区域", "org unit", "region")),
    Column("owner", ("客户经理", "客户经理工号", "customer manager", "manager", "owner")),
    Column("backup_owner", ("备份客户经理", "AB角", "B角", "backup manager", "backup")),
    Column("grade", ("客户等级", "等级", "客户级别", "grade")),
    Column("status", ("客户状态", "生命周期", "状态", "lifecycle status", "status")),
    Column("service_level", ("服务等级", "服务级别", "service level")),
    Column("source", ("来源", "客户来源", "source")),
    Column("cooperation_since", ("合作起始日期", "合作开始日期", "合作起始", "入网时间", "cooperation since")),
    Column("note", ("备注", "note")),
    # One key person per customer row (a survey sheet's 联系人 columns).
    Column("contact_name", ("联系人", "关键人", "联系人姓名", "contact", "contact name")),
    Column("contact_title", ("职务", "联系人职务", "title", "contact title")),
    Column("contact_mobile", ("联系人手机", "联系电话", "联系人电话", "手机", "contact mobile", "mobile")),
    Column("contact_department", ("联系人部门", "contact department")),
    Column("contact_role", ("决策角色", "decision role")),
)
CONTACT_COLUMNS = (
    *KEY_COLUMNS,
    Column("name", ("联系人", "姓名", "联系人姓名", "name", "contact", "contact name"), required=True),
    Column("title", ("职务", "title")),
    Column("department", ("部门", "department")),
    Column("decision_role", ("决策角色", "decision role")),
    Column("is_key_person", ("关键人", "是否关键人", "key person")),
    Column("mobile", ("手机", "手机号码", "联系电话", "mobile", "phone")),
    Column("email", ("邮箱", "电子邮箱", "email", "e-mail")),
    Column("birthday", ("生日", "出生日期", "birthday")),
    Column("preferences", ("喜好", "偏好", "preferences")),
    Column("closeness", ("亲密度", "closeness")),
    Column("notes", ("备注", "notes", "note")),
)
MEMBER_COLUMNS = (
    *KEY_COLUMNS,
    Column("phone", ("成员号码", "手机号码", "号码", "手机", "phone", "member phone"), required=True),
    Column("department", ("部门", "department")),
    Column("joined_on", ("入网日期", "加入日期", "入群日期", "joined on", "joined")),
    Column("left_on", ("离网日期", "退出日期", "left on", "left")),
    Column("paid_by", ("付费方式", "付费", "paid by")),
    Column("network", ("网络", "是否本网", "运营商", "network")),
    Column("short_number", ("短号", "V网短号", "short number")),
)
# Headings only a customers sheet has: a sheet naming one of them is a customers sheet (备注 and 来源 go on any).
CUSTOMER_SIGNS = {
    "name",
    "short_name",
    "type",
    "industry",
    "size",
    "address",
    "org_unit",
    "owner",
    "backup_owner",
    "grade",
    "status",
    "service_level",
    "cooperation_since",
}
CONTACT_PREFIX = "contact_"

# The Chinese words of the choices (DOMAIN.md) as well as whatever the catalogue says, so a sheet's 在网 or
# 事业单位 is read even if a label's translation changes.
TYPE_ALIASES = {
    "企业": CustomerType.ENTERPRISE,
    "党政机关": CustomerType.GOVERNMENT,
    "事业单位": CustomerType.INSTITUTION,
    "社会团体": CustomerType.SOCIAL,
    "军队": CustomerType.MILITARY,
    "机关": CustomerType.GOVERNMENT,
    "政府": CustomerType.GOVERNMENT,
    "政府机关": CustomerType.GOVERNMENT,
    "党政": CustomerType.GOVERNMENT,
    "事业": CustomerType.INSTITUTION,
    "社会组织": CustomerType.SOCIAL,
    "社团": CustomerType.SOCIAL,
    "部队": CustomerType.MILITARY,
    "公司": CustomerType.ENTERPRISE,
}
STATUS_ALIASES = {
    "潜在": LifecycleStatus.PROSPECT,
    "在网": LifecycleStatus.ACTIVE,
    "预警": LifecycleStatus.AT_RISK,
    "沉默": LifecycleStatus.DORMANT,
    "离网": LifecycleStatus.CHURNED,
    "在网客户": LifecycleStatus.ACTIVE,
    "潜在客户": LifecycleStatus.PROSPECT,
    "流失": LifecycleStatus.CHURNED,
    "已离网": LifecycleStatus.CHURNED,
    "休眠": LifecycleStatus.DORMANT,
}
LEVEL_ALIASES = {
    "金牌": ServiceLevel.GOLD,
    "银牌": ServiceLevel.SILVER,
    "铜牌": ServiceLevel.BRONZE,
    "标准": ServiceLevel.STANDARD,
    "金": ServiceLevel.GOLD,
    "银": ServiceLevel.SILVER,
    "铜": ServiceLevel.BRONZE,
    "普通": ServiceLevel.STANDARD,
}
ROLE_ALIASES = {
    "决策者": DecisionRole.DECIDER,
    "影响者": DecisionRole.INFLUENCER,
    "使用者": DecisionRole.USER,
    "采购": DecisionRole.PURCHASER,
    "技术把关": DecisionRole.TECHNICAL,
    "决策": DecisionRole.DECIDER,
    "决策人": DecisionRole.DECIDER,
    "影响": DecisionRole.INFLUENCER,
    "技术": DecisionRole.TECHNICAL,
    "采购人": DecisionRole.PURCHASER,
}
PAID_ALIASES = {
    "集团统付": PaidBy.GROUP,
    "统付": PaidBy.GROUP,
    "集团付费": PaidBy.GROUP,
    "个付": PaidBy.SELF,
    "个人付费": PaidBy.SELF,
}
NETWORK_ALIASES = {
    "本网": Network.ON_NET,
    "异网": Network.OFF_NET,
    "是": Network.ON_NET,
    "否": Network.OFF_NET,
    "移动": Network.ON_NET,
    "电信": Network.OFF_NET,
    "联通": Network.OFF_NET,
    "广电": Network.OFF_NET,
}
YES = {"是", "y", "yes", "true", "1", "关键人", "√"}
NO = {"否", "n", "no", "false", "0", ""}

CUSTOMER_ROW_FIELDS = (
    "number",
    "name",
    "short_name",
    "uscc",
    "type",
    "size",
    "address",
    "grade",
    "status",
    "service_level",
    "source",
    "cooperation_since",
    "note",
)
CONTACT_ROW_FIELDS = (
    "name",
    "title",
    "department",
    "decision_role",
    "is_key_person",
    "mobile",
    "email",
    "birthday",
    "preferences",
    "closeness",
    "notes",
)
MEMBER_ROW_FIELDS = ("phone", "department", "joined_on", "left_on", "paid_by", "network", "short_number")


# --- results ---------------------------------------------------------------------------------------
@dataclass
class RowError:
    sheet: str
    row: int
    key: str
    name: str
    errors: dict[str, list[str]]


@dataclass
class ImportResult:
    """What an archive import found and did: the rows read, what landed, and every bad row with its reasons."""

    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    contacts: int = 0
    members: int = 0
    errors: list[RowError] = field(default_factory=list)
    landed: bool = False

    @property
    def rows_bad(self) -> int:
        return len(self.errors)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "contacts": self.contacts,
            "members": self.members,
        }


# --- what the import loads once ------------------------------------------------------------------------
@dataclass
class Context:
    actor: Any
    match: str
    action: str
    allow_same_name: bool
    label: str  # the file, named in audit notes and grade reasons
    own_unit: OrgUnit | None
    scope_prefix: str | None  # None: anywhere (admins and HQ)
    units: dict[str, OrgUnit] = field(default_factory=dict)
    industries: dict[str, Industry] = field(default_factory=dict)
    words: dict[str, dict[str, str]] = field(default_factory=dict)
    staff: dict[str, list[Staff]] = field(default_factory=dict)
    customer_rules: FieldRules | None = None
    contact_rules: FieldRules | None = None
    member_rules: FieldRules | None = None

    @classmethod
    def load(cls, actor, *, match: str, action: str, allow_same_name: bool, label: str, values: list[dict]):
        staff = staff_of(actor)
        anywhere = actor.is_superuser or can(actor, {Role.ADMIN}) or (staff is not None and staff.org_unit.is_root())
        codes = {v.get("org_unit", "").strip() for v in values} - {""}
        people = {v.get(name, "").strip() for v in values for name in ("owner", "backup_owner")} - {""}
        industries = list(Industry.objects.all())
        context = cls(
            actor=actor,
            match=match,
            action=action,
            allow_same_name=allow_same_name,
            label=label,
            own_unit=staff.org_unit if staff else None,
            scope_prefix=None if anywhere else (staff.org_unit.path if staff else "\uffff"),
            units={unit.code: unit for unit in OrgUnit.objects.filter(code__in=codes)} if codes else {},
            industries=industry_words(industries),
            words={
                "type": choice_words(CustomerType.choices, TYPE_ALIASES),
                "status": choice_words(LifecycleStatus.choices, STATUS_ALIASES),
                "service_level": choice_words(ServiceLevel.choices, LEVEL_ALIASES),
                "source": _source_words(),
                "decision_role": choice_words(DecisionRole.choices, ROLE_ALIASES),
                "paid_by": choice_words(PaidBy.choices, PAID_ALIASES),
                "network": choice_words(Network.choices, NETWORK_ALIASES),
            },
            customer_rules=FieldRules(Customer, CUSTOMER_ROW_FIELDS, prevalidated=("uscc",)),
            contact_rules=FieldRules(Contact, CONTACT_ROW_FIELDS),
            member_rules=FieldRules(Member, MEMBER_ROW_FIELDS),
        )
        if people:
            visible = Staff.objects.visible_to(actor).select_related("user")
            for person in visible.filter(user__username__in=people) | visible.filter(name__in=people):
                for word in {person.user.username, person.name}:
                    context.staff.setdefault(word, []).append(person)
        return context

    def in_scope(self, unit: OrgUnit) -> bool:
        return self.scope_prefix is None or unit.path.startswith(self.scope_prefix)


def industry_words(industries: list[Industry]) -> dict[str, Industry]:
    """Words for an industry, compared by header_key: its code, its name, and the parts of a name such as
    金融（银行/证券/保险） or 信息技术/互联网 (金融, 银行, 信息技术 …), as long as a part names one industry only."""
    words: dict[str, Industry] = {}
    parts: dict[str, set] = defaultdict(set)
    for industry in industries:
        words[header_key(industry.code)] = industry
        words[header_key(industry.name)] = industry
        for part in re.split(r"[（）()/／、]", industry.name):
            if part.strip():
                parts[header_key(part)].add(industry)
    for word, found in parts.items():
        if len(found) == 1:
            words.setdefault(word, next(iter(found)))
    return words


def _source_words() -> dict[str, str]:
    from jiketong.sales.services import SOURCE_ALIASES

    return choice_words(CustomerSource.choices, SOURCE_ALIASES)


def _word(context: Context, kind: str, text: str, errors: dict, name: str) -> str:
    """A choice as its code ('' for empty); an unknown word is passed on, for the model's rule to refuse."""
    if not text:
        return ""
    words = context.words[kind]
    found = words.get(text)  # the word as written: a file repeats the same few, so each is compared once
    if found is None:
        found = words[text] = words.get(header_key(text), text)
    return found


def _person(context: Context, text: str, name: str, errors: dict) -> Staff | None:
    found = context.staff.get(text, [])
    unique = {person.pk: person for person in found}
    if not unique:
        errors[name] = [
            _("No staff member %(value)s in your province (give the login name or the name).") % {"value": text}
        ]
        return None
    if len(unique) > 1:
        errors[name] = [_("Several staff members are called %(value)s: give the login name.") % {"value": text}]
        return None
    person = next(iter(unique.values()))
    if not person.user.is_active or person.left_on:
        errors[name] = [_("%(name)s has left and cannot be given customers.") % {"name": person.name}]
        return None
    return person


def _size(text: str, errors: dict, name: str) -> int | None:
    if not text:
        return None
    try:
        return int(text) if text.isdigit() else int(float(text))
    except (ValueError, OverflowError):
        errors[name] = [_("Give the size as a whole number of people.")]
        return None


def _date(text: str, errors: dict, name: str) -> date | None:
    from jiketong.core.imports import parse_date

    if not text:
        return None
    value = parse_date(text)
    if value is None:
        errors[name] = [_("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": text}]
    return value


def _yes_no(text: str, errors: dict, name: str, default: bool) -> bool:
    word = (text or "").strip().lower()
    if not word:
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    errors[name] = [_("Write 是 or 否, not “%(value)s”.") % {"value": text}]
    return default


def _key_of(context: Context, values: dict, errors: dict) -> tuple[str, str]:
    """(uscc, number) of a row, normalised; a bad USCC is an error on its column."""
    uscc = values.get("uscc", "")
    if uscc:
        try:
            uscc = fast_uscc(uscc)
        except ValidationError as exc:
            errors["uscc"] = exc.messages
            uscc = ""
    number = to_halfwidth(values.get("number", "")).strip()
    return uscc, number


# --- parsed rows ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class CustomerRow:
    row: int
    sheet: str
    given: set  # the columns the file has (an empty cell in one: left as it is on an update)
    uscc: str
    number: str
    values: dict  # field → value for the plain fields given (non-empty)
    refs: dict  # industry / org_unit / owner / backup_owner → object, for those given
    contact: dict | None
    name_key: str = ""
    existing: dict | None = None  # the matched customer's current values
    pk: int | None = None


@dataclass(slots=True)
class ChildRow:
    """A contact or member row, and the customer it names."""

    row: int
    sheet: str
    uscc: str
    number: str
    values: dict
    customer_id: int | None = None


def _parse_customer(context: Context, sheet: str, number: int, header: Header, values: dict) -> CustomerRow:
    errors: dict[str, list[str]] = {}
    uscc, code = _key_of(context, values, errors)
    plain: dict[str, Any] = {}
    refs: dict[str, Any] = {}
    get = values.get
    if uscc:
        plain["uscc"] = uscc
    if code:
        plain["number"] = code
    for name in ("name", "short_name", "address"):
        text = " ".join(get(name, "").split())
        if text:
            plain[name] = text
    if get("note"):
        plain["note"] = get("note")
    for name in ("type", "status", "service_level", "source"):
        text = get(name, "")
        if text:
            plain[name] = _word(context, name, text, errors, name)
    if get("grade"):
        plain["grade"] = to_halfwidth(get("grade")).strip().upper()
    if get("size"):
        size = _size(get("size"), errors, "size")
        if size is not None:
            plain["size"] = size
    if get("cooperation_since"):
        since = _date(get("cooperation_since"), errors, "cooperation_since")
        if since is not None:
            plain["cooperation_since"] = since
    industry = get("industry", "").strip()
    if industry:
        found = context.industries.get(industry)
        if found is None and industry not in context.industries:
            found = context.industries[industry] = context.industries.get(header_key(industry))
        refs["industry"] = found
        if refs["industry"] is None:
            errors["industry"] = [_("Unknown industry: %(name)s.") % {"name": industry}]
    unit_code = get("org_unit", "").strip()
    if unit_code:
        unit = context.units.get(unit_code)
        if unit is None:
            errors["org_unit"] = [_("No org unit has the code %(code)s.") % {"code": unit_code}]
        elif not context.in_scope(unit):
            errors["org_unit"] = [_("Choose an org unit within your own (%(unit)s).") % {"unit": context.own_unit}]
        else:
            refs["org_unit"] = unit
    for name in ("owner", "backup_owner"):
        text = get(name, "").strip()
        if text:
            person = _person(context, text, name, errors)
            if person is not None:
                refs[name] = person
    if refs.get("owner") and refs.get("owner") == refs.get("backup_owner"):
        errors["backup_owner"] = [_("The backup manager must be someone other than the customer manager.")]
    context.customer_rules.errors(plain, into=errors)
    contact = None
    if get("contact_name") or get("contact_mobile"):
        contact = _contact_values(
            context,
            {
                "name": get("contact_name", ""),
                "title": get("contact_title", ""),
                "department": get("contact_department", ""),
                "decision_role": get("contact_role", ""),
                "mobile": get("contact_mobile", ""),
            },
            errors,
            prefix=CONTACT_PREFIX,
            key_person=True,
        )
    if errors:
        raise _RowInvalid(errors, uscc or code, plain.get("name", get("name", "")))
    return CustomerRow(
        row=number,
        sheet=sheet,
        given=set(header.found),
        uscc=uscc,
        number=code,
        values=plain,
        refs=refs,
        contact=contact,
    )


def _contact_values(context: Context, values: dict, errors: dict, *, prefix: str = "", key_person: bool = False):
    own: dict[str, list[str]] = {}
    get = values.get
    contact: dict[str, Any] = {
        "name": " ".join(get("name", "").split()),
        "title": " ".join(get("title", "").split()),
        "department": " ".join(get("department", "").split()),
        "decision_role": _word(context, "decision_role", get("decision_role", ""), own, "decision_role"),
        "is_key_person": _yes_no(get("is_key_person", ""), own, "is_key_person", key_person),
        "is_shareable": False,  # sharing a contact with HQ is decided on the contact's form, not by a file
        "mobile": "",
        "email": get("email", "").strip(),
        "birthday": _date(get("birthday", ""), own, "birthday"),
        "preferences": get("preferences", ""),
        "closeness": _size(get("closeness", ""), own, "closeness"),
        "notes": get("notes", ""),
    }
    if get("mobile"):
        try:
            contact["mobile"] = fast_mobile(get("mobile"))
        except ValidationError as exc:
            own["mobile"] = exc.messages
    context.contact_rules.errors({k: v for k, v in contact.items() if k not in own}, into=own)
    for name, messages in own.items():
        errors[prefix + name] = messages
    return contact


def _parse_contact(context: Context, sheet: str, number: int, values: dict) -> ChildRow:
    errors: dict[str, list[str]] = {}
    uscc, code = _key_of(context, values, errors)
    contact = _contact_values(context, values, errors)
    if not (uscc or code) and "uscc" not in errors:
        errors[context.match] = [_("Name the customer: give its credit code or customer number.")]
    if errors:
        raise _RowInvalid(errors, uscc or code, contact["name"])
    return ChildRow(row=number, sheet=sheet, uscc=uscc, number=code, values=contact)


def _parse_member(context: Context, sheet: str, number: int, values: dict, today: date) -> ChildRow:
    errors: dict[str, list[str]] = {}
    uscc, code = _key_of(context, values, errors)
    get = values.get
    member: dict[str, Any] = {
        "phone": "",
        "department": " ".join(get("department", "").split()),
        "joined_on": _date(get("joined_on", ""), errors, "joined_on") if get("joined_on") else today,
        "left_on": _date(get("left_on", ""), errors, "left_on"),
        "paid_by": _word(context, "paid_by", get("paid_by", ""), errors, "paid_by") or PaidBy.SELF.value,
        "network": _word(context, "network", get("network", ""), errors, "network") or Network.ON_NET.value,
        "short_number": get("short_number", "").strip(),
    }
    try:
        member["phone"] = fast_mobile(get("phone", ""))
    except ValidationError as exc:
        errors["phone"] = exc.messages
    context.member_rules.errors({k: v for k, v in member.items() if k not in errors}, into=errors)
    if "joined_on" not in errors:
        errors.update(fact_date_errors({"joined_on": member["joined_on"]}))
    if member["left_on"] and member["joined_on"] and member["left_on"] < member["joined_on"]:
        errors.setdefault("left_on", [_("The leave date cannot be before the join date.")])
    if not (uscc or code) and "uscc" not in errors:
        errors[context.match] = [_("Name the customer: give its credit code or customer number.")]
    if errors:
        raise _RowInvalid(errors, uscc or code, get("phone", ""))
    return ChildRow(row=number, sheet=sheet, uscc=uscc, number=code, values=member)


class _RowInvalid(Exception):
    def __init__(self, errors: dict, key: str, name: str) -> None:
        self.errors, self.key, self.name = errors, key, name


# --- reading -------------------------------------------------------------------------------------------
@dataclass
class Sheets:
    customers: list[tuple[str, int, Header, dict]] = field(default_factory=list)
    contacts: list[tuple[str, int, dict]] = field(default_factory=list)
    members: list[tuple[str, int, dict]] = field(default_factory=list)


MAPS = {
    "customers": HeaderMap(CUSTOMER_COLUMNS),
    "contacts": HeaderMap(CONTACT_COLUMNS),
    "members": HeaderMap(MEMBER_COLUMNS),
}


def read_archive_file(
    source, *, name: str | None = None, progress: Progress | None = None, limits: Limits | None = None
) -> Sheets:
    """Every sheet of the file, recognised by its headings, as (sheet, row number, values) in file order;
    a sheet whose headings are none of the three kinds is passed over."""
    found = Sheets()
    with open_spreadsheet(source, name=name, limits=limits) as book:
        for sheet in book.sheets():
            located = _locate(sheet)
            if located is None:
                continue
            kind, header = located
            into = getattr(found, kind)
            for count, (number, cells) in enumerate(sheet.rows, start=1):
                values = header.values(cells)
                into.append(
                    (sheet.title, number, header, values) if kind == "customers" else (sheet.title, number, values)
                )
                if progress is not None and count % 5000 == 0:
                    progress.tick(0.3 * book.done(), rows_total=book.rows_read)
    if not (found.customers or found.contacts or found.members):
        raise SpreadsheetError(
            _(
                "No sheet names the columns of customers, contacts or members: the first row needs headings such as "
                "客户名称 and 统一社会信用代码, or 集团编号 and 手机号码."
            )
        )
    return found


def _locate(sheet) -> tuple[str, Header] | None:
    """A sheet's kind by its heading row (found among its first rows): customers when it names a customer
    column (客户名称, 客户类型, 行业 …), else contacts when it names a customer key and a person, else members when a
    customer key and a phone number."""
    for _seen, (number, cells) in zip(range(HeaderMap.LOOK_AHEAD), sheet.rows, strict=False):
        customer = MAPS["customers"].match(cells)
        keyed = "uscc" in customer or "number" in customer
        if set(customer) & CUSTOMER_SIGNS:
            return "customers", Header(MAPS["customers"], customer, cells, number, sheet)
        contact = MAPS["contacts"].match(cells)
        if keyed and "name" in contact:
            return "contacts", Header(MAPS["contacts"], contact, cells, number, sheet)
        member = MAPS["members"].match(cells)
        if keyed and "phone" in member:
            return "members", Header(MAPS["members"], member, cells, number, sheet)
    return None


# --- the import ------------------------------------------------------------------------------------------
def import_rows(
    *,
    actor,
    sheets: Sheets,
    mode: str,
    match: str,
    action: str,
    allow_same_name: bool = False,
    label: str = "",
    progress: Progress | None = None,
    on_write: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Check every row of the sheets, then (all good, or good rows wanted) write what they say in one
    transaction, `on_write(result)` inside it. Returns what was found and done."""
    require_import(actor)
    if match not in ImportMatch.values or action not in ImportAction.values or mode not in RunMode.values:
        raise ValidationError(_("Choose how rows are matched, what happens to them, and the mode."))
    progress = progress or Progress(None)
    result = ImportResult(rows_total=len(sheets.customers) + len(sheets.contacts) + len(sheets.members))
    context = Context.load(
        actor,
        match=match,
        action=action,
        allow_same_name=allow_same_name,
        label=label,
        values=[values for *_rest, values in sheets.customers],
    )
    customers = _check_customers(context, sheets, result, progress)
    progress.tick(0.55)
    contacts, members = _check_children(context, sheets, customers, result)
    progress.tick(0.7)
    result.errors.sort(key=lambda e: (e.sheet, e.row))
    if result.errors and mode == RunMode.ALL_OR_NOTHING:
        customers, contacts, members = [], [], []
    try:
        with transaction.atomic():
            progress.hold()
            _write(context, customers, contacts, members, result, progress)
            result.landed = bool(customers or contacts or members)
            if on_write is not None:
                on_write(result)
    except IntegrityError as exc:
        # Someone changed the archive while the file was being checked (the same USCC or number saved meanwhile).
        raise ValidationError(_("The archive changed while the file was being checked; import it again.")) from exc
    return result


def _error(result: ImportResult, sheet: str, row: int, key: str, name: str, errors: dict) -> None:
    result.errors.append(RowError(sheet, row, key, name, errors))


def _check_customers(context: Context, sheets: Sheets, result: ImportResult, progress: Progress) -> list[CustomerRow]:
    from jiketong.core.names import normalise_org_name

    parsed: list[CustomerRow] = []
    for count, (sheet, number, header, values) in enumerate(sheets.customers, start=1):
        try:
            parsed.append(_parse_customer(context, sheet, number, header, values))
        except _RowInvalid as bad:
            _error(result, sheet, number, bad.key, bad.name, bad.errors)
        if count % 5000 == 0:
            progress.tick(0.3 + 0.2 * count / max(len(sheets.customers), 1))
    existing = _existing(context, parsed)
    good: list[CustomerRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in parsed:
        errors: dict[str, list[str]] = {}
        key = row.uscc if context.match == ImportMatch.USCC else row.number
        found = existing["by_key"].get(key) if key else None
        if found is not None and not found["visible"]:
            errors[context.match] = [_outside(context.match, found)]
        elif found is not None and context.action == ImportAction.CREATE:
            errors[context.match] = [
                _("Already in the archive as %(name)s; choose to update existing customers.") % {"name": found["name"]}
            ]
        elif found is None and context.action == ImportAction.UPDATE:
            errors[context.match] = [_("No customer in your scope has this %(key)s.") % {"key": _key_label(context)}]
        row.existing = found if found is not None and found["visible"] else None
        if row.existing is None and not errors:
            for name in ("name", "type"):
                if name not in row.values:
                    errors[name] = [str(Customer._meta.get_field(name).error_messages["blank"])]
            if "industry" not in row.refs:
                errors["industry"] = [str(Customer._meta.get_field("industry").error_messages["null"])]
            row.refs.setdefault("org_unit", context.own_unit)
            if row.refs["org_unit"] is None:
                errors["org_unit"] = [str(Customer._meta.get_field("org_unit").error_messages["null"])]
        if "cooperation_since" in row.values:  # a day that has not come yet is refused, as on the form
            errors.update(fact_date_errors({"cooperation_since": row.values["cooperation_since"]}, row.existing))
        # The other unique column: held by another customer?
        for name, value in (("uscc", row.uscc), ("number", row.number)):
            if not value or errors.get(name):
                continue
            holder = existing[name].get(value)
            if holder is not None and (row.existing is None or holder["id"] != row.existing["id"]):
                errors[name] = [
                    _("A customer with this unified social credit code already exists.")
                    if name == "uscc"
                    else _("A customer with this customer number already exists.")
                ]
            elif (name, value) in seen:
                errors[name] = [_("The same customer as row %(row)d.") % {"row": seen[(name, value)]}]
        name = row.values.get("name") or (row.existing or {}).get("name", "")
        row.name_key = normalise_org_name(name) if name else ""
        if not errors:
            _check_people(row, errors)
        if errors:
            _error(result, row.sheet, row.row, row.uscc or row.number, name, errors)
            continue
        seen.update({(n, v): row.row for n, v in (("uscc", row.uscc), ("number", row.number)) if v})
        good.append(row)
    if not context.allow_same_name:
        good = _drop_same_names(context, good, result)
    return good


def _check_people(row: CustomerRow, errors: dict) -> None:
    """On an update, the owner given must not be the backup kept (and the other way round)."""
    if row.existing is None:
        return
    owner = row.refs["owner"].pk if "owner" in row.refs else row.existing["owner_id"]
    backup = row.refs["backup_owner"].pk if "backup_owner" in row.refs else row.existing["backup_owner_id"]
    if owner and owner == backup:
        errors["backup_owner"] = [_("The backup manager must be someone other than the customer manager.")]


def _key_label(context: Context) -> str:
    return _("unified social credit code") if context.match == ImportMatch.USCC else _("customer number")


def _outside(match: str, found: dict) -> str:
    if match == ImportMatch.USCC:
        return _("A customer in %(unit)s outside your scope has this credit code.") % {"unit": found["unit"]}
    return _("A customer in %(unit)s outside your scope has this customer number.") % {"unit": found["unit"]}


EXISTING_FIELDS = (
    "id",
    "number",
    "name",
    "short_name",
    "uscc",
    "type",
    "industry_id",
    "size",
    "address",
    "org_unit_id",
    "owner_id",
    "backup_owner_id",
    "grade",
    "status",
    "service_level",
    "source",
    "cooperation_since",
    "note",
    "path",
)


def _existing(context: Context, rows: list[CustomerRow]) -> dict:
    """The customers the rows name, by USCC and by number (every customer: one outside the importer's scope
    is reported, never shown), with whether the importer sees it: two queries over a join of the file's keys."""
    from django.db.models.expressions import RawSQL

    usccs = sorted({row.uscc for row in rows if row.uscc})
    numbers = sorted({row.number for row in rows if row.number})
    table = connection.ops.quote_name(Customer._meta.db_table)
    found: dict[int, dict] = {}
    keyed = [(u, "uscc") for u in usccs] + [(n, "number") for n in numbers]
    if keyed:
        with key_table("import_keys", {"k": "varchar(40)", "kind": "varchar(6)"}, keyed) as keys:
            named = RawSQL(
                f"SELECT c.id FROM {keys} k JOIN {table} c ON c.uscc = k.k WHERE k.kind = 'uscc' "
                f"UNION SELECT c.id FROM {keys} k JOIN {table} c ON c.number = k.k WHERE k.kind = 'number'",
                [],
            )
            for values in Customer.objects.filter(pk__in=named).values(*EXISTING_FIELDS, "org_unit__name"):
                values["unit"] = values.pop("org_unit__name")
                values["visible"] = False
                found[values["id"]] = values
            for pk in Customer.objects.visible_to(context.actor).filter(pk__in=named).values_list("pk", flat=True):
                found[pk]["visible"] = True
    by_uscc = {v["uscc"]: v for v in found.values() if v["uscc"]}
    by_number = {v["number"]: v for v in found.values() if v["number"]}
    return {"uscc": by_uscc, "number": by_number, "by_key": by_uscc if context.match == ImportMatch.USCC else by_number}


def _drop_same_names(context: Context, rows: list[CustomerRow], result: ImportResult) -> list[CustomerRow]:
    """A customer to create (or renamed) whose name matches another customer's, or another row's, once
    legal-form suffixes are stripped (sales' normalise_org_name, as the lead duplicate check), is refused."""
    from jiketong.core.names import normalise_org_name

    wanted = [
        row
        for row in rows
        if row.existing is None or ("name" in row.values and row.values["name"] != row.existing["name"])
    ]
    if not wanted:
        return rows
    ranges = [
        (key, low, high)
        for key in sorted({row.name_key for row in wanted if row.name_key})
        for low, high in name_prefix_range(key)
    ]
    table = connection.ops.quote_name(Customer._meta.db_table)
    with (
        key_table(
            "import_name_keys", {"k": "varchar(200)", "lo": "varchar(200)", "hi": "varchar(200)"}, ranges
        ) as names,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"SELECT DISTINCT c.id, c.name FROM {names} k JOIN {table} c ON c.name >= k.lo AND c.name < k.hi"
        )
        named: dict[str, list[int]] = defaultdict(list)
        for pk, name in cursor.fetchall():
            named[normalise_org_name(name)].append(pk)
    about = _describe(context, {pk for pks in named.values() for pk in pks})
    bad: set[int] = set()
    first: dict[str, int] = {}
    for row in wanted:
        if not row.name_key:
            continue
        others = [pk for pk in named.get(row.name_key, []) if row.existing is None or pk != row.existing["id"]]
        messages = [about[pk] for pk in others]
        if row.name_key in first:
            messages.append(_("The same organisation as row %(row)d.") % {"row": first[row.name_key]})
        else:
            first[row.name_key] = row.row
        if messages:
            _error(result, row.sheet, row.row, row.uscc or row.number, row.values.get("name", ""), {"name": messages})
            bad.add(id(row))
    return [row for row in rows if id(row) not in bad]


def _describe(context: Context, pks: set[int]) -> dict[int, str]:
    """What a same-name message may say about each customer: its name, unit and manager when the importer sees
    it, its unit only when not (as the lead duplicate check)."""
    described: dict[int, str] = {}
    for part in chunks(sorted(pks)):
        visible = set(Customer.objects.visible_to(context.actor).filter(pk__in=part).values_list("pk", flat=True))
        for pk, name, unit, owner in Customer.objects.filter(pk__in=part).values_list(
            "pk", "name", "org_unit__name", "owner__name"
        ):
            if pk in visible:
                described[pk] = _("Customer %(name)s (%(unit)s, %(owner)s) has the same name.") % {
                    "name": name,
                    "unit": unit,
                    "owner": owner or _("no owner"),
                }
            else:
                described[pk] = _("A customer in %(unit)s outside your scope has the same name.") % {"unit": unit}
    return described


def _check_children(
    context: Context, sheets: Sheets, customers: list[CustomerRow], result: ImportResult
) -> tuple[list[ChildRow], list[ChildRow]]:
    """Contacts and members rows: parsed, their customer found (in this file's good customer rows, or in the
    archive within the importer's scope), members checked against the group's current members and each other."""
    today = timezone.localdate()
    contacts, members = [], []
    for rows, out, parse in (
        (sheets.contacts, contacts, lambda s, n, v: _parse_contact(context, s, n, v)),
        (sheets.members, members, lambda s, n, v: _parse_member(context, s, n, v, today)),
    ):
        for sheet, number, values in rows:
            try:
                out.append(parse(sheet, number, values))
            except _RowInvalid as bad:
                _error(result, sheet, number, bad.key, bad.name, bad.errors)
    if not (contacts or members):
        return contacts, members
    in_file = {}
    for row in customers:
        for kind, value in (("uscc", row.uscc), ("number", row.number)):
            if value:
                in_file[(kind, value)] = row
    refused = {(kind, error.key) for error in result.errors if error.sheet and error.key for kind in ("uscc", "number")}
    lookup = _existing(context, [CustomerRow(0, "", set(), c.uscc, c.number, {}, {}, None) for c in contacts + members])
    good_contacts, good_members = [], []
    for rows, good in ((contacts, good_contacts), (members, good_members)):
        for child in rows:
            kind, value = ("uscc", child.uscc) if child.uscc else ("number", child.number)
            if context.match == ImportMatch.NUMBER and child.number:
                kind, value = "number", child.number
            target = in_file.get((kind, value))
            found = lookup[kind].get(value)
            if target is not None:
                child.customer_id = target  # resolved to an id once the customer is written
            elif found is not None and found["visible"]:
                child.customer_id = found["id"]
            else:
                if found is not None:
                    message = _outside(kind, found)
                elif (kind, value) in refused:
                    message = _("Its customer's row has errors, so it was not imported either.")
                else:
                    message = _("No customer in your scope has this %(key)s.") % {
                        "key": _("unified social credit code") if kind == "uscc" else _("customer number")
                    }
                _error(
                    result,
                    child.sheet,
                    child.row,
                    value,
                    child.values.get("name", child.values.get("phone", "")),
                    {kind: [message]},
                )
                continue
            good.append(child)
    return good_contacts, _check_members(good_members, result)


def _check_members(members: list[ChildRow], result: ImportResult) -> list[ChildRow]:
    """A number is a current member of a group once: not twice in the file, not again if it already is."""
    existing_ids = [m.customer_id for m in members if isinstance(m.customer_id, int)]
    current: set[tuple[int, str]] = set()
    for part in chunks(sorted(set(existing_ids))):
        current |= set(Member.objects.current().filter(customer_id__in=part).values_list("customer_id", "phone"))
    seen: set[tuple[Any, str]] = set()
    good = []
    for member in members:
        key = (
            id(member.customer_id) if not isinstance(member.customer_id, int) else member.customer_id,
            member.values["phone"],
        )
        message = None
        if key in seen:
            message = _("This number appears twice in the batch.")
        elif isinstance(member.customer_id, int) and (member.customer_id, member.values["phone"]) in current:
            message = _("This number is already a current member of the group.")
        if message and member.values["left_on"] is None:
            _error(
                result,
                member.sheet,
                member.row,
                member.uscc or member.number,
                member.values["phone"],
                {"phone": [message]},
            )
            continue
        seen.add(key)
        good.append(member)
    return good


# --- writing ---------------------------------------------------------------------------------------------
# What the bulk writes put in each table: the services' field lists (one place), plus the tree and the stamps.
TREE_COLUMNS = ["id", "path", "depth", "numchild"]
CUSTOMER_COLUMNS_WRITTEN = [*TREE_COLUMNS, *CUSTOMER_FIELDS, "search_text", "created_at", "updated_at"]
UPDATED_COLUMNS = [*CUSTOMER_FIELDS, "search_text", "updated_at"]
CONTACT_COLUMNS_WRITTEN = ["id", "customer", *CONTACT_FIELDS, "created_at", "updated_at"]
MEMBER_COLUMNS_WRITTEN = ["customer", *MEMBER_FIELDS]
DEFAULTS = {
    "short_name": "",
    "size": None,
    "address": "",
    "grade": Grade.D.value,
    "status": LifecycleStatus.PROSPECT.value,
    "service_level": ServiceLevel.STANDARD.value,
    "source": CustomerSource.IMPORT.value,
    "cooperation_since": None,
    "note": "",
    "owner": None,
    "backup_owner": None,
}


def _next_root_paths(count: int) -> list[str]:
    """Paths for `count` new top-level customers after the last one (treebeard's numbering: base 36, 5 places)."""
    last = Customer.objects.filter(depth=1).order_by("-path").values_list("path", flat=True).first()
    start = int(last, 36) + 1 if last else 1
    steplen = Customer.steplen
    paths = []
    for number in range(start, start + count):
        digits = ""
        while number:
            number, rest = divmod(number, 36)
            digits = ALPHABET[rest] + digits
        paths.append(digits.rjust(steplen, "0"))
    return paths


def _write(
    context: Context,
    customers: list[CustomerRow],
    contacts: list[ChildRow],
    members: list[ChildRow],
    result: ImportResult,
    progress: Progress,
) -> None:
    actor = context.actor
    now = db_now()
    created = [row for row in customers if row.existing is None]
    updated = [row for row in customers if row.existing is not None]
    audit: list[tuple] = []
    audit_customer = Snapshot(Customer, CUSTOMER_FIELDS)
    label = Customer._meta.label_lower
    # New customers: ids and paths handed out first, so numbers, search text and children need no read-back.
    # Each row's record, search text and audit snapshot are computed as COPY takes the rows (write_rows).
    ids = new_ids(Customer, len(created))
    paths = _next_root_paths(len(created))

    def new_customers():
        for row, pk, path in zip(created, ids, paths, strict=True):
            row.pk = pk
            values = DEFAULTS | row.values
            unit = row.refs["org_unit"]
            number = values.get("number") or f"{unit.code[:4]}{pk:08d}"
            record = values | {
                "id": pk,
                "path": path,
                "number": number,
                "uscc": values.get("uscc") or None,
                "industry_id": row.refs["industry"].pk,
                "org_unit_id": unit.pk,
                "owner_id": row.refs["owner"].pk if "owner" in row.refs else None,
                "backup_owner_id": row.refs["backup_owner"].pk if "backup_owner" in row.refs else None,
            }
            record["search_text"] = build_search_text(
                name=record["name"], short_name=record["short_name"], number=number, uscc=record["uscc"]
            )
            row.existing = record  # what it is now, for the children and the result
            audit.append((pk, record["name"], pk, None, audit_customer.of_values(record) | {"parent": None}))
            yield (
                pk,
                path,
                1,
                0,
                number,
                record["name"],
                record["short_name"],
                record["uscc"],
                record["type"],
                record["industry_id"],
                record["size"],
                record["address"],
                record["org_unit_id"],
                record["owner_id"],
                record["backup_owner_id"],
                record["grade"],
                record["status"],
                record["service_level"],
                record["source"],
                db_date(record["cooperation_since"]),
                record["note"],
                record["search_text"],
                now,
                now,
            )

    write_rows(Customer, CUSTOMER_COLUMNS_WRITTEN, new_customers())
    result.created = len(created)
    initial_grade = stored(gettext_noop("Initial grade"))
    write_rows(
        GradeChange,
        ["customer", "old_grade", "new_grade", "reason", "changed_by", "changed_at"],
        [(r.pk, "", r.existing["grade"], initial_grade, actor.pk, now) for r in created],
    )
    progress.tick(0.8)
    _update_customers(context, updated, result, audit, audit_customer, now)
    progress.tick(0.88)
    write_rows(
        AuditEvent,
        AUDIT_FIELDS,
        audit_rows(actor=actor, action=AuditAction.CREATE, target_type=label, items=audit, note=context.label),
    )
    # Key persons of customers rows, then the contacts and members sheets.
    people = [(row.existing["id"], row.contact) for row in customers if row.contact]
    people += [(_customer_id(child), child.values) for child in contacts]
    result.contacts = _write_contacts(
        context,
        people,
        now,
        {row.existing["id"] for row in updated}
        | {child.customer_id for child in contacts if isinstance(child.customer_id, int)},
    )
    result.members = _write_members(context, [(_customer_id(member), member.values) for member in members])
    progress.tick(0.95)


def _customer_id(child: ChildRow) -> int:
    """The id of a contact's or member's customer: found in the archive, or created by this file."""
    target = child.customer_id
    return target if isinstance(target, int) else target.existing["id"]


def _update_customers(
    context: Context, rows: list[CustomerRow], result: ImportResult, audit: list, snapshot_of, now
) -> None:
    """Matched customers get the values the file gives (an empty cell keeps the current one): one UPDATE … FROM
    a table of the changed rows; an UPDATE (or OWNER) audit row each with only what changed, GRADE rows with
    the grade history, and customer.lifecycle_changed for a new status."""
    actor = context.actor
    changed_rows = []
    grade_changes, status_events, moved_events = [], [], []
    audit_updates: list[tuple] = []
    audit_owner: list[tuple] = []
    audit_grade: list[tuple] = []
    reason = _("Archive import %(file)s") % {"file": context.label}
    for row in rows:
        before = row.existing
        after = dict(before) | row.values
        for name in ("industry", "org_unit", "owner", "backup_owner"):
            if name in row.refs:
                after[f"{name}_id"] = row.refs[name].pk
        if "uscc" in after and not after["uscc"]:
            after["uscc"] = None
        old, new = snapshot_of.of_values(before), snapshot_of.of_values(after)
        diff = {k for k in new if old.get(k) != new.get(k)}
        if not diff:
            result.unchanged += 1
            continue
        after["search_text"] = build_search_text(
            name=after["name"], short_name=after["short_name"], number=after["number"], uscc=after["uscc"]
        )
        changed_rows.append(after)
        item = (before["id"], after["name"], before["id"], {k: old[k] for k in diff}, {k: new[k] for k in diff})
        (audit_owner if {"owner", "backup_owner"} & diff else audit_updates).append(item)
        if "grade" in diff:
            grade_changes.append((before["id"], before["grade"], after["grade"], reason[:200], actor.pk, now))
            audit_grade.append(
                (before["id"], after["name"], before["id"], {"grade": before["grade"]}, {"grade": after["grade"]})
            )
        if "org_unit" in diff:
            moved_events.append((before["id"], {"from_unit": old["org_unit"], "to_unit": new["org_unit"]}))
        if "status" in diff:
            status_events.append(
                (before["id"], {"from_status": before["status"], "to_status": after["status"], "reason": reason[:500]})
            )
    result.updated = len(changed_rows)
    if not changed_rows:
        return
    types = {
        "id": "bigint",
        "number": "varchar(20)",
        "name": "varchar(100)",
        "short_name": "varchar(40)",
        "uscc": "varchar(18)",
        "type": "varchar(12)",
        "industry": "varchar(20)",
        "size": "integer",
        "address": "varchar(200)",
        "org_unit": "bigint",
        "owner": "bigint",
        "backup_owner": "bigint",
        "grade": "varchar(2)",
        "status": "varchar(10)",
        "service_level": "varchar(10)",
        "source": "varchar(15)",
        "cooperation_since": "date",
        "note": "text",
        "search_text": "text",
    }
    values = [
        (
            a["id"],
            a["number"],
            a["name"],
            a["short_name"],
            a["uscc"],
            a["type"],
            a["industry_id"],
            a["size"],
            a["address"],
            a["org_unit_id"],
            a["owner_id"],
            a["backup_owner_id"],
            a["grade"],
            a["status"],
            a["service_level"],
            a["source"],
            db_date(a["cooperation_since"]),
            a["note"],
            a["search_text"],
        )
        for a in changed_rows
    ]
    meta = Customer._meta
    table = connection.ops.quote_name(meta.db_table)
    assignments = ", ".join(
        f"{connection.ops.quote_name(meta.get_field(name).column)} = u.{name}" for name in types if name != "id"
    )
    with key_table("import_customer_updates", types, values) as updates, connection.cursor() as cursor:
        cursor.execute(
            # row_version: a change like any other to a page or API client that read the customer before.
            f"UPDATE {table} SET {assignments}, updated_at = %s, row_version = {table}.row_version + 1 "
            f"FROM {updates} u WHERE {table}.id = u.id",
            [now],
        )
    label = Customer._meta.label_lower
    for action, items in (
        (AuditAction.UPDATE, audit_updates),
        (AuditAction.OWNER, audit_owner),
        (AuditAction.GRADE, audit_grade),
    ):
        if items:
            write_rows(
                AuditEvent,
                AUDIT_FIELDS,
                audit_rows(
                    actor=actor,
                    action=action,
                    target_type=label,
                    items=items,
                    note=context.label if action != AuditAction.GRADE else reason,
                ),
            )
    write_rows(GradeChange, ["customer", "old_grade", "new_grade", "reason", "changed_by", "changed_at"], grade_changes)
    if status_events:
        emit_many("customer.lifecycle_changed", status_events, actor=actor)
    if moved_events:
        emit_many("customer.moved", moved_events, actor=actor)


def _write_contacts(context: Context, people: list[tuple[int, dict]], now, existing: set[int]) -> int:
    """New key persons and contacts; one whose customer already has a contact of that name (and mobile, when
    both have one) is that contact, left as it is, so importing a file twice adds nobody twice."""
    if not people:
        return 0
    known: set[tuple[int, str, str]] = set()
    names: set[tuple[int, str]] = set()
    # Only customers that were already in the archive can have contacts: the ones created above have none.
    for part in chunks(sorted({pk for pk, _c in people} & existing)):
        for customer_id, name, mobile in Contact.objects.filter(customer_id__in=part).values_list(
            "customer_id", "name", "mobile"
        ):
            known.add((customer_id, name, mobile))
            names.add((customer_id, name))
    new = []
    for customer_id, contact in people:
        key = (customer_id, contact["name"], contact["mobile"])
        if key in known or (not contact["mobile"] and (customer_id, contact["name"]) in names):
            continue
        known.add(key)
        names.add((customer_id, contact["name"]))
        new.append((customer_id, contact))
    ids = new_ids(Contact, len(new))
    snapshot_of = Snapshot(Contact, CONTACT_FIELDS)
    items: list[tuple] = []

    def contacts():
        for pk, (customer_id, c) in zip(ids, new, strict=True):
            items.append((pk, c["name"], customer_id, None, snapshot_of.of_values(c)))
            yield (
                pk,
                customer_id,
                c["name"],
                c["title"],
                c["department"],
                c["decision_role"],
                c["is_key_person"],
                c["is_shareable"],
                c["mobile"],
                c["email"],
                db_date(c["birthday"]),
                c["preferences"],
                c["closeness"],
                c["notes"],
                now,
                now,
            )

    write_rows(Contact, CONTACT_COLUMNS_WRITTEN, contacts())
    # A new decision maker shows at once: the gaps of these customers, in one refresh joined against a key table
    # of their ids (a 5,000-id list per statement cost more to build and parse than the refresh itself). Its
    # primary key keeps every plan an index probe: the new customers are not in the statistics yet, and a plan
    # that scanned the key table once per customer took minutes.
    ids = [(pk,) for pk in {pk for pk, _c in new}]
    with key_table("import_gap_customers", {"id": "bigint PRIMARY KEY"}, ids) as table:
        keypersons.refresh(
            timezone.localdate(),
            customer_ids=Customer.objects.filter(pk__in=RawSQL(f"SELECT id FROM {table}", ())).values("pk"),
        )
    rows = audit_rows(
        actor=context.actor,
        action=AuditAction.CREATE,
        target_type=Contact._meta.label_lower,
        items=items,
        note=context.label,
    )
    write_rows(AuditEvent, AUDIT_FIELDS, rows)
    return len(new)


def _write_members(context: Context, rows: list[tuple[int, dict]]) -> int:
    """New members, and one audit row per customer naming the numbers added (masked, as members_bulk_add)."""
    from jiketong.core.validators import mask_personal

    if not rows:
        return 0
    write_rows(
        Member,
        MEMBER_COLUMNS_WRITTEN,
        (  # a generator: the rows are made as COPY takes them
            (
                customer_id,
                m["phone"],
                m["department"],
                db_date(m["joined_on"]),
                db_date(m["left_on"]),
                m["paid_by"],
                m["network"],
                m["short_number"],
            )
            for customer_id, m in rows
        ),
    )
    added: dict[int, list[str]] = defaultdict(list)
    for customer_id, member in rows:
        added[customer_id].append(member["phone"])
    for part in chunks(sorted(added)):
        names = dict(Customer.objects.filter(pk__in=part).values_list("pk", "name"))
        items = [
            (
                pk,
                names.get(pk, ""),
                pk,
                None,
                {"members_added": mask_personal(added[pk])},
                _("%(n)d members added (archive import %(file)s)") % {"n": len(added[pk]), "file": context.label},
            )
            for pk in part
        ]
        rows_out = audit_rows(
            actor=context.actor, action=AuditAction.CREATE, target_type=Customer._meta.label_lower, items=items
        )
        write_rows(AuditEvent, AUDIT_FIELDS, rows_out)
    return len(rows)


# --- runs --------------------------------------------------------------------------------------------------
def _check_choices(mode: str, match: str, action: str) -> None:
    errors = {}
    if mode not in RunMode.values:
        errors["mode"] = [_("Choose all-or-nothing or good rows.")]
    if match not in ImportMatch.values:
        errors["match"] = [_("Choose how rows are matched to customers: by credit code or by customer number.")]
    if action not in ImportAction.values:
        errors["action"] = [_("Choose whether customers are created, updated, or both.")]
    if errors:
        raise ValidationError(errors)


def archive_import_start(
    *, actor, upload, mode: str, match: str, action: str, allow_same_name: bool = False
) -> CustomerImportRun:
    """Store an uploaded file and import it: now when it is small (up to IMPORT_INLINE_ROWS rows), else in the
    task worker. Either way the run is the handle to follow it (progress, outcome, error report)."""
    require_import(actor)
    _check_choices(mode, match, action)
    try:
        with open_spreadsheet(upload, name=getattr(upload, "name", None)) as book:
            estimated = book.estimated_rows
    except SpreadsheetError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    path = store_upload(upload, "customers")
    run = CustomerImportRun.objects.create(
        mode=mode,
        match=match,
        action=action,
        allow_same_name=allow_same_name,
        file_name=Path(upload.name or path.name).name[:255],
        file_path=str(path),
        created_by=actor,
    )
    if estimated <= getattr(settings, "IMPORT_INLINE_ROWS", 2000):
        run_archive_import(run.pk, inline=True)
    else:
        from .tasks import run_archive_import as task

        task.enqueue(run.pk, translation.get_language())
    run.refresh_from_db()
    return run


def import_path(
    *, actor, path: Path, mode: str, match: str, action: str, allow_same_name: bool = False
) -> CustomerImportRun:
    """Register a file already on this machine (the CLI); the caller runs it with run_archive_import."""
    require_import(actor)
    _check_choices(mode, match, action)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationError({"file": [_("Upload an Excel (.xlsx) or CSV file.")]})
    if not path.is_file():
        raise ValidationError({"file": [_("No such file: %(path)s") % {"path": path}]})
    return CustomerImportRun.objects.create(
        mode=mode,
        match=match,
        action=action,
        allow_same_name=allow_same_name,
        file_name=path.name,
        file_path=str(path.resolve()),
        created_by=actor,
    )


def run_archive_import(run_id: int, *, on_tick: Callable | None = None, inline: bool = False) -> CustomerImportRun:
    """Run a queued archive import to its end (the task worker, the CLI, or the request for a small file).
    The rows and the run's outcome commit together; a second delivery of the task leaves the run alone."""
    run = CustomerImportRun.objects.select_related("created_by").get(pk=run_id)
    if not run.start():
        return run
    progress = Progress(run, on_tick=on_tick)
    limits = Limits.from_settings()
    if inline:
        limits = limits.with_rows(getattr(settings, "IMPORT_INLINE_ROWS", 2000) * 5)
    try:
        try:
            sheets = read_archive_file(Path(run.file_path), name=run.file_name, progress=progress, limits=limits)
        except SpreadsheetError as exc:
            return _finish(run, ImportResult(), status=RunStatus.FAILED, message=str(exc))
        total = len(sheets.customers) + len(sheets.contacts) + len(sheets.members)
        progress.tick(0.3, force=True, rows_total=total)

        def close(result: ImportResult) -> None:
            report = _error_report(run, result) if result.errors else ""
            if result.errors and not result.landed:
                status = RunStatus.FAILED
                message = _("Nothing was loaded: %(bad)s of %(total)s rows have errors (see the error report).") % {
                    "bad": result.rows_bad,
                    "total": result.rows_total,
                }
            else:
                status = RunStatus.PARTIALLY if result.errors else RunStatus.SUCCEEDED
                message = summary(result)
                if result.errors:
                    message += " " + _("%(bad)s rows with errors were left out.") % {"bad": result.rows_bad}
            _finish(run, result, status=status, message=message, error_path=report)

        try:
            import_rows(
                actor=run.created_by,
                sheets=sheets,
                mode=run.mode,
                match=run.match,
                action=run.action,
                allow_same_name=run.allow_same_name,
                label=run.file_name,
                progress=progress,
                on_write=close,
            )
        except ValidationError as exc:
            return _finish(run, ImportResult(rows_total=total), status=RunStatus.FAILED, message=" ".join(exc.messages))
    except Exception:
        logger.exception("archive import %s failed", run.pk)
        _finish(
            run,
            ImportResult(),
            status=RunStatus.FAILED,
            message=_("The import stopped on an unexpected error; the archive is unchanged."),
        )
        raise
    run.refresh_from_db()
    return run


def summary(result: ImportResult) -> str:
    return (
        _(
            "%(created)s customers created, %(updated)s updated (%(unchanged)s unchanged), %(contacts)s contacts and "
            "%(members)s members added."
        )
        % result.counts
    )


def _finish(
    run: CustomerImportRun, result: ImportResult, *, status: str, message: str, error_path: str = ""
) -> CustomerImportRun:
    """Close the run and audit it once (IMPORT on the run: file, choices, outcome and counts)."""
    run.update(
        status=status,
        message=message,
        progress=100,
        finished_at=timezone.now(),
        counts=result.counts,
        rows_total=result.rows_total or run.rows_total,
        rows_ok=result.rows_total - result.rows_bad if result.landed else 0,
        rows_bad=result.rows_bad,
        error_path=error_path,
    )
    record(
        actor=run.created_by,
        action=AuditAction.IMPORT,
        target=run,
        customer_id=None,
        after=snapshot(run, ["mode", "match", "action", "status", "rows_total", "rows_ok", "rows_bad", "counts"]),
        note=run.file_name,
    )
    return run


FIELD_LABELS = {f"{CONTACT_PREFIX}{name}": name for name in ("name", "title", "department", "mobile")}


def field_label(name: str) -> str:
    """A column's heading as the report shows it: the first heading it goes by."""
    for columns in (CUSTOMER_COLUMNS, CONTACT_COLUMNS, MEMBER_COLUMNS):
        for column in columns:
            if column.name == name:
                return column.label
    if name.startswith(CONTACT_PREFIX):
        return {"contact_decision_role": "决策角色", "contact_is_key_person": "关键人"}.get(name, name)
    return name


def _error_report(run: CustomerImportRun, result: ImportResult) -> str:
    path = Path(settings.MEDIA_ROOT) / "imports" / "customers" / "errors" / f"{run.pk}.csv"
    header = [pgettext("error report", "Sheet"), *error_report_header(_("Key"), _("Name"), _("Column"), _("Problem"))]
    rows = (
        [error.sheet, error.row, error.key, error.name, field_label(name), message]
        for error in result.errors
        for name, messages in error.errors.items()
        for message in messages
    )
    return str(write_error_report(path, header, rows))


# --- reading runs ------------------------------------------------------------------------------------------
def import_runs(user):
    """The user's archive imports, newest first (an administrator sees everyone's)."""
    return runs_visible_to(CustomerImportRun.objects.select_related("created_by"), user).order_by("-created_at", "-id")


def import_run_get(user, pk: int) -> CustomerImportRun:
    """One of the user's runs, or 404 (the same answer as a run that does not exist)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(import_runs(user), pk=pk)


def error_report(user, pk: int) -> tuple[CustomerImportRun, Path]:
    from django.http import Http404

    run = import_run_get(user, pk)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.is_file():
        raise Http404(_("This import has no error report."))
    return run, path
