"""Deterministic demo data at any scale: the org tree, staff and one login per role, the catalog, and
group customers with their hierarchy, key persons, members, subscriptions, grades and competitors.

Customers and everything they own are generated in chunks and written with plain multi-row inserts
(COPY on PostgreSQL), so 1M groups stay within bounded memory and no row costs a query of its own.
Tree paths, customer numbers and search text are computed here exactly as the services would.
"""

import math
import random
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext
from pypinyin import lazy_pinyin

from jiketong.catalog.models import BillingUnit, Product, Subscription, SubscriptionStatus
from jiketong.core.bulk import Writer
from jiketong.core.models import Notification
from jiketong.core.registry import app_modules
from jiketong.core.validators import USCC_CHARSET, uscc_check_digit
from jiketong.customers.models import (
    Affiliation,
    AffiliationDirection,
    AffiliationKind,
    Competitor,
    CompetitorPresence,
    Contact,
    ContactDate,
    Customer,
    CustomerSource,
    CustomerType,
    GradeChange,
    LifecycleStatus,
    Member,
    Network,
    PaidBy,
    ServiceLevel,
    ThreatLevel,
)
from jiketong.customers.search import build_search_text
from jiketong.org.models import OrgLevel, OrgUnit, Rank, Role, Staff

from . import names
from .catalog import ensure_catalog
from .indexes import built_after_load
from .regions import GENERIC_ROADS, GRIDS, PROVINCE_WEIGHT, PROVINCES, ROADS, TOWNS, City

User = get_user_model()

DEMO_PASSWORD = "Jiketong@2026"
HQ_CODE = "100000"
CHUNK = 5000  # customers generated and written per transaction
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's default path alphabet
# Where national head offices are registered (Beijing districts), for their USCC region digits.
BEIJING_DISTRICTS = {"110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110108": "海淀区"}
CMCC_PREFIXES = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "172",
    "178",
    "182",
    "183",
    "184",
    "187",
    "188",
    "195",
    "198",
]
OTHER_PREFIXES = [
    "130",
    "131",
    "132",
    "155",
    "156",
    "166",
    "175",
    "176",
    "185",
    "186",
    "133",
    "153",
    "173",
    "177",
    "180",
    "181",
    "189",
    "191",
    "199",
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str  # a Role code, or "superuser"
    org_code: str


DEMO_LOGINS = [
    DemoLogin("admin", "superuser", HQ_CODE),
    DemoLogin("manager", Role.CUSTOMER_MANAGER, "440106"),
    DemoLogin("inside", Role.INSIDE_SALES, "440100"),
    DemoLogin("supervisor", Role.SUPERVISOR, "440100"),
    DemoLogin("analyst", Role.ANALYST, "440000"),
    DemoLogin("auditor", Role.AUDITOR, "440000"),
    DemoLogin("sysadmin", Role.ADMIN, HQ_CODE),
]

# The `manager` login's flagship accounts in 天河区 (name, short name, industry, type, USCC prefix,
# grade, headcount, member units). 广州地铁 is the one the UI tests search for with `gzdt`.
FLAGSHIPS = [
    ("广州地铁集团有限公司", "广州地铁", "transport", CustomerType.ENTERPRISE, "91", "A1", 32000,
     ["广州地铁设计研究院股份有限公司", "广州地铁物业管理有限责任公司"]),
    ("广州市天河区人民医院", "天河区医院", "healthcare", CustomerType.INSTITUTION, "12", "A2", 1800, []),
    ("广州市天河区教育局", "天河教育局", "education", CustomerType.GOVERNMENT, "11", "B1", 260, []),
    ("广州天河软件园管理委员会", "天河软件园", "government", CustomerType.GOVERNMENT, "11", "B1", 120, []),
    ("广东天河城（集团）股份有限公司", "天河城", "retail", CustomerType.ENTERPRISE, "91", "B2", 2400, []),
    ("广州珠江新城商务区管理有限公司", "珠江新城商务区", "construction", CustomerType.ENTERPRISE, "91", "C", 90, []),
]  # fmt: skip

# Real cross-province groups: (name, short name, industry, head-office unit code, USCC region, branch word).
NATIONAL_GROUPS = [
    ("中国平安保险（集团）股份有限公司", "中国平安", "finance", "440304", "440304",
     "中国平安财产保险股份有限公司{p}分公司"),
    ("中国石油化工股份有限公司", "中国石化", "energy", HQ_CODE, "110101", "中国石油化工股份有限公司{p}石油分公司"),
    ("浙江吉利控股集团有限公司", "吉利控股", "manufacturing", "330108", "330108", "浙江吉利控股集团有限公司{p}分公司"),
]  # fmt: skip

# Thresholds on log(headcount) plus noise: about 2% A, 15% B, 40% C, the rest D.
GRADE_BY_SCORE = [(6.8, "A1"), (6.0, "A2"), (5.2, "B1"), (4.5, "B2"), (3.0, "C")]
SERVICE_BY_GRADE = {
    "A": ServiceLevel.GOLD,
    "B": ServiceLevel.SILVER,
    "C": ServiceLevel.BRONZE,
    "D": ServiceLevel.STANDARD,
}
STATUS_WEIGHTS = {
    LifecycleStatus.PROSPECT: 10,
    LifecycleStatus.ACTIVE: 68,
    LifecycleStatus.AT_RISK: 8,
    LifecycleStatus.DORMANT: 8,
    LifecycleStatus.CHURNED: 6,
}
SOURCE_WEIGHTS = {
    CustomerSource.GRID_SURVEY: 25,
    CustomerSource.VISIT: 25,
    CustomerSource.REFERRAL: 12,
    CustomerSource.HOTLINE: 6,
    CustomerSource.CAMPAIGN: 8,
    CustomerSource.PARTNER: 6,
    CustomerSource.INSIDE_SALES: 10,
    CustomerSource.IMPORT: 8,
}
PRODUCT_WEIGHTS = {
    "VNET-LOCAL": 30, "VNET-PROV": 8, "VNET-NATION": 3, "PBX": 8, "NUM400": 5, "VOIP": 2, "DIA": 18, "MPLS": 6,
    "VPN": 5, "BROADBAND": 30, "IOT": 8, "SMS": 15, "MAS": 4, "ADC": 2, "CRBT": 12, "MAIL": 8, "WEBSITE": 4,
    "IDC": 3, "CLOUD": 8, "OA": 5, "MCRM": 3, "SI": 1, "SCHOOL": 0, "BANKSMS": 0, "GOVSMS": 0,
}  # fmt: skip
INDUSTRY_PRODUCTS = {"education": "SCHOOL", "finance": "BANKSMS", "government": "GOVSMS"}
DISCOUNTS = [0, 0, 5, 10, 10, 15, 20, 30]


def _step(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rem = divmod(number, 36)
        digits = ALPHABET[rem] + digits
    return digits.rjust(width, "0")


def _base31(number: int, width: int) -> str:
    digits = ""
    for _ in range(width):
        number, rem = divmod(number, 31)
        digits = USCC_CHARSET[rem] + digits
    return digits


def _short_district(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "区县市镇" else name.removesuffix("街道")


@dataclass
class Leaf:
    """A unit customers are booked to: a county (or grid), or a city without counties."""

    unit_code: str
    district: str
    city: City
    province_short: str
    province_name: str
    staff_code: str  # whose managers serve it (a grid's county)


@dataclass
class Row:
    """One customer being generated, before it is written."""

    id: int
    path: str
    name: str
    short_name: str
    type: str
    industry: str
    uscc_prefix: str
    region: str
    leaf: Leaf
    unit_id: int
    grade: str
    size: int
    members: int
    owner: int | None = None
    backup: int | None = None
    numchild: int = 0
    extra: dict = field(default_factory=dict)


class DemoBuilder:
    """One generation run. Every random choice comes from one seeded generator, in a fixed order."""

    def __init__(self, *, groups: int, seed: int, progress: Callable[[str], None] | None = None) -> None:
        self.groups = groups
        self.rng = random.Random(seed)
        self.seed = seed
        self.progress = progress or (lambda message: None)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.now_db = connection.ops.adapt_datetimefield_value(self.now)
        self.writer = Writer()
        self.units: dict[str, OrgUnit] = {}
        self.leaves: list[Leaf] = []
        self.managers: dict[str, list[int]] = {}  # leaf staff code → customer managers' ids
        self.inside: dict[str, list[int]] = {}  # city code → inside sales' ids
        self.hq_managers: list[int] = []
        self.usernames: dict[str, int] = {}
        # Bijective maps from the customer's ordinal to the USCC organisation code: unique by construction.
        self.uscc_mult = 2654435761  # coprime with 31**7 and 10**9
        self.uscc_offset = random.Random(seed ^ 0x5EED).randrange(31**7)

    # --- org tree --------------------------------------------------------------------------------
    def build_org(self) -> None:
        nodes: list[tuple[str, str, str, str | None]] = [(HQ_CODE, "集团公司", OrgLevel.HQ, None)]
        for province in PROVINCES:
            nodes.append((province.code, f"{province.name}公司", OrgLevel.PROVINCE, HQ_CODE))
            for city in province.cities:
                nodes.append((city.code, f"{city.name}分公司", OrgLevel.CITY, province.code))
                for code, name in city.counties:
                    nodes.append((code, f"{name}分公司", OrgLevel.COUNTY, city.code))
                    for number, grid in enumerate(GRIDS.get(code, []), start=1):
                        nodes.append((f"{code}{number:03d}", f"{grid}网格", OrgLevel.GRID, code))
        children: dict[str | None, list] = defaultdict(list)
        for node in nodes:
            children[node[3]].append(node)
        objects: list[OrgUnit] = []

        def walk(parent: str | None, prefix: str, depth: int) -> None:
            for number, (code, name, level, _parent) in enumerate(children[parent], start=1):
                path = prefix + _step(number, OrgUnit.steplen)
                objects.append(
                    OrgUnit(code=code, name=name, level=level, path=path, depth=depth, numchild=len(children[code]))
                )
                walk(code, path, depth + 1)

        walk(None, "", 1)
        OrgUnit.objects.bulk_create(objects)
        self.units = {unit.code: unit for unit in OrgUnit.objects.all()}
        for province in PROVINCES:
            for city in province.cities:
                for code, name in city.counties or [(city.code, town) for town in TOWNS[city.code]]:
                    grids = [f"{code}{n:03d}" for n in range(1, len(GRIDS.get(code, [])) + 1)]
                    for unit_code in [code, *grids]:
                        self.leaves.append(Leaf(unit_code, name, city, province.short, province.name, code))
        self.leaf_weights = [
            PROVINCE_WEIGHT[leaf.city.code[:2] + "0000"]
            * leaf.city.weight
            / sum(1 for other in self.leaves if other.city is leaf.city)
            * (2 if leaf.district.endswith(("区", "街道")) else 1)
            for leaf in self.leaves
        ]
        total = sum(self.leaf_weights)
        self.leaf_cum = list(_accumulate(w / total for w in self.leaf_weights))

    # --- staff ---------------------------------------------------------------------------------
    def build_staff(self) -> None:
        rng = self.rng
        specs: list[tuple[str, str, str, str, list[str]]] = []  # username, name, unit, rank, roles

        def person() -> str:
            return names.person_name(rng)[0]

        specs.append(("admin", "系统管理员", HQ_CODE, "", [Role.ADMIN]))
        specs.append(("sysadmin", person(), HQ_CODE, "", [Role.ADMIN]))
        specs.append(("hq_analyst", person(), HQ_CODE, "", [Role.ANALYST]))
        specs.append(("hq_supervisor", person(), HQ_CODE, "", [Role.SUPERVISOR]))
        for k, rank in enumerate([Rank.CHIEF_MANAGER, Rank.PRINCIPAL_MANAGER], start=1):
            specs.append((f"hq_kam_{k}", person(), HQ_CODE, rank, [Role.CUSTOMER_MANAGER]))
        share = defaultdict(float)
        for leaf, weight in zip(self.leaves, self.leaf_weights, strict=True):
            share[leaf.staff_code] += weight / sum(self.leaf_weights)
        ranks = list(Rank)
        for province in PROVINCES:
            gd = province.code == "440000"
            specs.append((f"sup{province.code}", person(), province.code, "", [Role.SUPERVISOR]))
            specs.append(("analyst" if gd else f"an{province.code}", person(), province.code, "", [Role.ANALYST]))
            specs.append(("auditor" if gd else f"au{province.code}", person(), province.code, "", [Role.AUDITOR]))
            for city in province.cities:
                sup = "supervisor" if city.code == "440100" else f"sup{city.code}"
                specs.append((sup, person(), city.code, "", [Role.SUPERVISOR]))
                for k in range(1, rng.randint(1, 2) + 1):
                    username = "inside" if (city.code == "440100" and k == 1) else f"is{city.code}_{k}"
                    specs.append((username, person(), city.code, Rank.SERVICE_REP, [Role.INSIDE_SALES]))
                for code, _name in city.counties or [(city.code, "")]:
                    if city.counties:
                        specs.append((f"sup{code}", person(), code, "", [Role.SUPERVISOR]))
                    # 1–3 managers a county, more where the portfolio would otherwise pass ~400 groups.
                    count = rng.randint(1, 3) + int(self.groups * share[code] // 400)
                    for k in range(1, count + 1):
                        username = "manager" if (code == "440106" and k == 1) else f"cm{code}_{k}"
                        rank = Rank.KEY_ACCOUNT_MANAGER if username == "manager" else rng.choice(ranks[:6])
                        specs.append((username, person(), code, rank, [Role.CUSTOMER_MANAGER]))

        password = make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow on purpose
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    password=password,
                    first_name=name,
                    is_staff=Role.ADMIN in roles,
                    is_superuser=username == "admin",
                    date_joined=self.now,
                )
                for username, name, _unit, _rank, roles in specs
            ]
        )
        self.usernames = {user.username: user.pk for user in User.objects.filter(username__in=[s[0] for s in specs])}
        Staff.objects.bulk_create(
            [
                Staff(
                    user_id=self.usernames[username],
                    name=name,
                    org_unit=self.units[unit],
                    rank=rank,
                    mobile=self.mobile(on_net=True),
                )
                for username, name, unit, rank, _roles in specs
            ]
        )
        Staff.roles.through.objects.bulk_create(
            [
                Staff.roles.through(staff_id=self.usernames[username], role_id=role)
                for username, _name, _unit, _rank, roles in specs
                for role in roles
            ]
        )
        for username, _name, unit, _rank, roles in specs:
            pk = self.usernames[username]
            if Role.CUSTOMER_MANAGER in roles:
                (self.hq_managers if unit == HQ_CODE else self.managers.setdefault(unit, [])).append(pk)
            elif Role.INSIDE_SALES in roles:
                self.inside.setdefault(unit, []).append(pk)

    # --- small helpers -------------------------------------------------------------------------
    def mobile(self, *, on_net: bool) -> str:
        prefix = self.rng.choice(CMCC_PREFIXES if on_net else OTHER_PREFIXES)
        return f"{prefix}{self.rng.randrange(10**8):08d}"

    def date_between(self, start: date, end: date) -> date:
        days = (end - start).days
        return start + timedelta(days=self.rng.randint(0, max(days, 0)))

    def pick_leaf(self) -> Leaf:
        return self.leaves[_bisect(self.leaf_cum, self.rng.random())]

    def uscc(self, ordinal: int, prefix: str, region: str) -> str:
        number = (ordinal * self.uscc_mult + self.uscc_offset) % 31**7
        if prefix in ("91", "93") and self.rng.random() < 0.7:
            body = "MA" + _base31(number, 7)  # codes issued since 2015
        else:
            body = f"{(ordinal * self.uscc_mult + self.uscc_offset) % 10**9:09d}"
        first17 = f"{prefix}{region}{body}"
        return first17 + uscc_check_digit(first17)

    def people_for(self, leaf: Leaf, grade: str) -> tuple[int | None, int | None]:
        """Owner and backup: two managers of the county, else a colleague elsewhere in the city;
        some C/D customers are covered by the city's inside sales with a county manager as backup."""
        rng = self.rng
        local = self.managers[leaf.staff_code]
        if grade in ("C", "D") and rng.random() < 0.2:
            return rng.choice(self.inside[leaf.city.code]), rng.choice(local)
        owner = rng.choice(local)
        if rng.random() < 0.3:
            return owner, None
        others = [pk for pk in local if pk != owner]
        if not others:
            city_units = [code for code, _ in leaf.city.counties if code != leaf.staff_code]
            if not city_units:
                return owner, None
            others = self.managers[rng.choice(city_units)]
        return owner, rng.choice(others)

    def grade_for(self, size: int, industry: str, type_: str) -> str:
        score = math.log(max(size, 1)) + self.rng.gauss(0, 0.6)
        score += 0.5 if industry in ("government", "finance", "healthcare", "energy") else 0
        score += 0.3 if type_ != CustomerType.ENTERPRISE else 0
        return next((grade for threshold, grade in GRADE_BY_SCORE if score >= threshold), "D")

    def address(self, leaf: Leaf) -> str:
        rng = self.rng
        road = rng.choice(ROADS.get(leaf.staff_code) or GENERIC_ROADS)
        district = "" if leaf.district == leaf.city.name else leaf.district
        text = f"{leaf.province_name}{leaf.city.name}{district}{road}{rng.randint(1, 888)}号"
        if rng.random() < 0.4:
            text += f"{names.brand(rng)}大厦{rng.randint(2, 32)}楼"
        return text

    # --- customers -----------------------------------------------------------------------------
    def company(self, leaf: Leaf, industry: str) -> tuple[str, str, str, str]:
        rng = self.rng
        templates = names.TEMPLATES[industry]
        name, short, type_, prefix, _w = rng.choices(templates, weights=[t[4] for t in templates])[0]
        local_city = leaf.district if leaf.district.endswith("市") else leaf.city.name
        city_district = leaf.district if leaf.district.endswith("市") else leaf.city.name + leaf.district
        values = {
            "p": leaf.province_short,
            "c": local_city,
            "cs": local_city.removesuffix("市"),
            "cd": city_district,
            "d": leaf.district,
            "ds": _short_district(leaf.district),
            "b": names.brand(rng),
            "pl": names.place_word(rng),
            "n": rng.choice(names.ORDINALS[:5]),
        }
        return name.format(**values), short.format(**values), type_, prefix

    def make(self, leaf: Leaf, path: str, name: str, short: str, industry: str, type_: str, prefix: str,
             grade: str | None = None, size: int | None = None, region: str | None = None) -> Row:  # fmt: skip
        """One customer row; headcount, members and grade follow from its type and industry."""
        rng = self.rng
        if size is None:
            size = max(3, int(rng.lognormvariate(3.0 if type_ == CustomerType.ENTERPRISE else 3.6, 1.2)))
        grade = grade or self.grade_for(size, industry, type_)
        members = min(size, max(1, int(rng.lognormvariate(2.25, 1.1) * (1 + math.log10(size) / 3))), 2000)
        row = Row(
            id=self.next_id + self.made, path=path, name=name, short_name=short, type=type_, industry=industry,
            uscc_prefix=prefix, region=region or leaf.staff_code[:6], leaf=leaf,
            unit_id=self.units[leaf.unit_code].pk, grade=grade, size=size, members=members,
        )  # fmt: skip
        self.made += 1
        return row

    def root_path(self) -> str:
        self.roots += 1
        return _step(self.roots, Customer.steplen)

    def room(self) -> int:
        return self.groups - self.made

    def groups_iter(self) -> Iterator[list[Row]]:
        """Yield customers a group at a time (a head office with its member units, or a single customer):
        the flagships and the real national groups first, then random ones until `groups` rows are made."""
        rng = self.rng
        tianhe = next(leaf for leaf in self.leaves if leaf.unit_code == "440106")
        manager = self.usernames["manager"]
        for name, short, industry, type_, prefix, grade, size, units in FLAGSHIPS:
            if not self.room():
                return
            root = self.make(tianhe, self.root_path(), name, short, industry, type_, prefix, grade, size)
            root.owner, root.backup = manager, self.people_for(tianhe, "A1")[1]
            root.backup = None if root.backup == manager else root.backup
            group = [root]
            for number, unit_name in enumerate(units[: self.room()], start=1):
                path = root.path + _step(number, Customer.steplen)
                child = self.make(tianhe, path, unit_name, "", industry, type_, "91")
                child.owner, child.backup = self.people_for(tianhe, child.grade)
                group.append(child)
            root.numchild = len(group) - 1
            yield group
        for name, short, industry, hq_code, region, branch in NATIONAL_GROUPS:
            if not self.room():
                return
            yield self.national_group(name, short, industry, hq_code, region, branch)
        industries, weights = list(names.INDUSTRY_WEIGHTS), list(names.INDUSTRY_WEIGHTS.values())
        while self.room():
            draw = rng.random()
            industry = rng.choices(industries, weights=weights)[0]
            if draw < 0.01:
                name, short = names.GROUP_TEMPLATES[industry]
                values = {"b": names.brand(rng), "p": rng.choice(PROVINCES).short}
                name, short = name.format(**values), short.format(**values)
                hq = rng.choice([HQ_CODE, HQ_CODE, "440106", "440304", "330106", "330212"])
                region = rng.choice(list(BEIJING_DISTRICTS)) if hq == HQ_CODE else hq
                yield self.national_group(name, short, industry, hq, region, name + "{p}分公司")
                continue
            leaf = self.pick_leaf()
            name, short, type_, prefix = self.company(leaf, industry)
            root = self.make(leaf, self.root_path(), name, short, industry, type_, prefix)
            root.owner, root.backup = self.people_for(leaf, root.grade)
            group = [root]
            if draw < 0.07 and type_ == CustomerType.ENTERPRISE and name.endswith("有限公司"):
                for number in range(1, min(rng.randint(1, 4), self.room()) + 1):
                    where = self.city_leaf(leaf.city)
                    path = root.path + _step(number, Customer.steplen)
                    child_name = f"{name}{_short_district(where.district)}分公司"
                    child = self.make(where, path, child_name, "", industry, type_, "91")
                    child.owner, child.backup = self.people_for(where, child.grade)
                    group.append(child)
            root.numchild = len(group) - 1
            yield group

    def city_leaf(self, city: City) -> Leaf:
        return self.rng.choice(self.city_leaves[city.code])

    def national_group(self, name: str, short: str, industry: str, hq_code: str, region: str, branch: str) -> list[Row]:
        """A head office with a branch in each demo province and one to three city branches under each,
        every unit booked where it operates and served by that county's managers."""
        rng = self.rng
        if hq_code == HQ_CODE:
            # Registered in Beijing, coordinated by HQ.
            hq_leaf = Leaf(HQ_CODE, BEIJING_DISTRICTS[region], City("110100", "北京市", 0), "北京", "", HQ_CODE)
        else:
            hq_leaf = next(leaf for leaf in self.leaves if leaf.unit_code == hq_code)
        ent = CustomerType.ENTERPRISE
        root = self.make(hq_leaf, self.root_path(), name, short, industry, ent, "91", "A1",
                         rng.randint(20000, 400000), region)  # fmt: skip
        if hq_code == HQ_CODE:
            root.owner, root.backup = self.hq_managers
        else:
            root.owner, root.backup = self.people_for(hq_leaf, "A1")
        group = [root]
        for p_number, province in enumerate(PROVINCES, start=1):
            if not self.room():
                break
            capital = province.cities[0]
            cap_leaf = self.city_leaf(capital)
            p_name = branch.format(p=province.short)
            path = root.path + _step(p_number, Customer.steplen)
            p_row = self.make(cap_leaf, path, p_name, "", industry, ent, "91", "A2", rng.randint(2000, 20000))
            p_row.owner, p_row.backup = self.people_for(cap_leaf, "A2")
            group.append(p_row)
            root.numchild += 1
            for c_number, city in enumerate(rng.sample(province.cities[1:], rng.randint(1, 3)), start=1):
                if not self.room():
                    break
                c_leaf = self.city_leaf(city)
                c_name = p_name.replace(f"{province.short}石油分公司", f"{city.short}石油分公司").replace(
                    f"{province.short}分公司", f"{city.short}分公司"
                )
                path = p_row.path + _step(c_number, Customer.steplen)
                c_row = self.make(c_leaf, path, c_name, "", industry, ent, "91")
                c_row.owner, c_row.backup = self.people_for(c_leaf, c_row.grade)
                group.append(c_row)
                p_row.numchild += 1
        return group

    # --- what each customer owns, and writing it -----------------------------------------------
    def flush(self, rows: list[Row]) -> None:
        """Write one chunk of customers and everything they own, in one transaction."""
        rng, today, now = self.rng, self.today, self.now_db
        customers, grades, contacts, dates, members, subs, competitors, affiliations = ([] for _ in range(8))
        statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        sources, source_weights = list(SOURCE_WEIGHTS), list(SOURCE_WEIGHTS.values())
        products, product_weights = self.products, [PRODUCT_WEIGHTS[p.code] for p in self.products]
        seen_pairs: set[tuple[int, int]] = set()
        for row in rows:
            status = rng.choices(statuses, weights=status_weights)[0]
            if row.grade[0] == "A" and status == LifecycleStatus.PROSPECT:
                status = LifecycleStatus.ACTIVE
            prospect = status == LifecycleStatus.PROSPECT
            since = None if prospect else self.date_between(date(2003, 1, 1), today - timedelta(days=30))
            level = SERVICE_BY_GRADE[row.grade[0]] if rng.random() < 0.85 else ServiceLevel.STANDARD
            uscc = self.uscc(row.id - self.next_id, row.uscc_prefix, row.region)
            number = f"{self.units[row.leaf.unit_code].code[:4]}{row.id:08d}"
            search = build_search_text(name=row.name, short_name=row.short_name, number=number, uscc=uscc)
            customers.append((
                row.id, row.path, len(row.path) // Customer.steplen, row.numchild, number, row.name, row.short_name,
                uscc, row.type, row.industry, row.size, self.address(row.leaf), row.unit_id, row.owner, row.backup,
                row.grade, status, level, rng.choices(sources, weights=source_weights)[0], since, "", search, now, now,
            ))  # fmt: skip
            grades.append((row.id, "", row.grade, "初始评级", None, now))
            self.contacts_for(row, contacts, dates)
            if rng.random() < 0.15:
                competitor = rng.choices(list(Competitor), weights=[45, 40, 10, 5])[0]
                offer = "、".join(rng.sample(names.CONTRACT_PRODUCTS, rng.randint(1, 2)))
                end = today + timedelta(days=rng.randint(-60, 720))
                threat = rng.choice(list(ThreatLevel))
                competitors.append((row.id, competitor, offer, end, threat, "", now, now))
            if len(customers) > 1 and rng.random() < 0.01:
                other = rng.choice(customers[:-1])[0]
                if (other, row.id) not in seen_pairs:
                    seen_pairs.add((other, row.id))
                    kind = rng.choice(list(AffiliationKind))
                    direction = rng.choice(list(AffiliationDirection))
                    affiliations.append((row.id, other, kind, direction, "", now, now))
            if prospect:
                continue
            chosen = {p.code: p for p in rng.choices(products, weights=product_weights, k=rng.randint(1, 4))}
            special = INDUSTRY_PRODUCTS.get(row.industry)
            if special and rng.random() < 0.5:
                chosen[special] = self.product_by_code[special]
            for product in chosen.values():
                subs.append(self.subscription(row, product, status, since))
            vnet = any(code.startswith("VNET") for code in chosen)
            self.members_for(row, status, since, vnet, members)
        w = self.writer
        with transaction.atomic():
            w.write(Customer, CUSTOMER_FIELDS, customers)
            w.write(GradeChange, ["customer", "old_grade", "new_grade", "reason", "changed_by", "changed_at"], grades)
            w.write(Contact, CONTACT_FIELDS, contacts)
            w.write(ContactDate, ["contact", "label", "date"], dates)
            w.write(Member, MEMBER_FIELDS, members)
            w.write(Subscription, SUBSCRIPTION_FIELDS, subs)
            w.write(CompetitorPresence, COMPETITOR_FIELDS, competitors)
            w.write(Affiliation, ["customer", "related", "kind", "direction", "note", "created_at", "updated_at"],
                    affiliations)  # fmt: skip

    def contacts_for(self, row: Row, contacts: list, dates: list) -> None:
        rng, now = self.rng, self.now_db
        titles = names.TITLES[row.type]
        count = rng.randint(1, 4) if row.grade[0] in "AB" else rng.randint(1, 2)
        for k in range(count):
            name, _male = names.person_name(rng)
            title, role = titles[0] if k == 0 else rng.choice(titles)
            email = ""
            if rng.random() < 0.6:
                handle = "".join(lazy_pinyin(name))
                email = f"{handle}{rng.randint(1, 99) if rng.random() < 0.5 else ''}@{rng.choice(EMAIL_DOMAINS)}"
            birthday = date(rng.randint(1962, 1998), rng.randint(1, 12), rng.randint(1, 28))
            closeness = rng.randint(1, 5) if rng.random() < 0.7 else None
            self.contact_id += 1
            contacts.append((
                self.contact_id, row.id, name, title, rng.choice(names.DEPARTMENTS), role, k == 0 or rng.random() < 0.3,
                self.mobile(on_net=rng.random() < 0.8), email, birthday if rng.random() < 0.8 else None,
                rng.choice(names.PREFERENCES), closeness, "", False, now, now,
            ))  # fmt: skip
            if rng.random() < 0.15:
                occasion_date = self.date_between(date(2005, 1, 1), self.today)
                dates.append((self.contact_id, rng.choice(names.CONTACT_OCCASIONS), occasion_date))

    def subscription(self, row: Row, product: Product, status: str, since: date) -> tuple:
        rng = self.rng
        discount = Decimal(rng.choice(DISCOUNTS))
        price = (product.standard_price * (100 - discount) / 100).quantize(Decimal("0.01"))
        quantity = max(1, row.members) if product.billing_unit == BillingUnit.PER_MEMBER else 1
        start = self.date_between(since, self.today)
        if status == LifecycleStatus.CHURNED:
            sub_status, end = SubscriptionStatus.TERMINATED, self.date_between(start, self.today)
        elif status == LifecycleStatus.DORMANT and rng.random() < 0.5:
            sub_status, end = SubscriptionStatus.SUSPENDED, None
        else:
            sub_status = SubscriptionStatus.ACTIVE
            end = start + timedelta(days=365 * rng.randint(1, 3)) if rng.random() < 0.4 else None
            end = end if end is None or end >= self.today else None
        return (row.id, product.pk, price, discount, quantity, start, end, sub_status, self.now_db, self.now_db)

    def members_for(self, row: Row, status: str, since: date, vnet: bool, members: list) -> None:
        """The group's numbers: a phone is never current twice in a group, and nobody leaves before joining."""
        rng, today = self.rng, self.today
        start = max(since, today - timedelta(days=3650))
        group_pays = 0.6 if row.grade[0] in "AB" else 0.3
        churned = status == LifecycleStatus.CHURNED
        phones: set[str] = set()
        for k in range(row.members):
            on_net = rng.random() < 0.85
            phone = self.mobile(on_net=on_net)
            while phone in phones:
                phone = self.mobile(on_net=on_net)
            phones.add(phone)
            joined = self.date_between(start, today)
            left = self.date_between(joined, today) if churned or rng.random() < 0.12 else None
            paid_by = PaidBy.GROUP if rng.random() < group_pays else PaidBy.SELF
            network = Network.ON_NET if on_net else Network.OFF_NET
            short = f"6{k + 1:03d}" if vnet and on_net and left is None else ""
            members.append((row.id, phone, rng.choice(names.DEPARTMENTS), joined, left, paid_by, network, short))

    # --- the run ---------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        """Generate everything; returns rows written per table."""
        started = time.monotonic()
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                # A crash mid-load only loses demo data, which can be generated again.
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA temp_store=MEMORY")
        with transaction.atomic():
            self.products = [p for p in ensure_catalog().values() if PRODUCT_WEIGHTS.get(p.code)]
            self.product_by_code = {p.code: p for p in Product.objects.all()}
            self.build_org()
            self.city_leaves = defaultdict(list)
            for leaf in self.leaves:
                self.city_leaves[leaf.city.code].append(leaf)
            self.build_staff()
        self.next_id = (Customer.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.contact_id = Contact.objects.aggregate(m=Max("id"))["m"] or 0
        self.made = self.roots = 0
        buffer: list[Row] = []
        archive = [Customer, GradeChange, Contact, ContactDate, Member, Subscription, CompetitorPresence, Affiliation]
        with built_after_load(*archive, foreign_keys=True):
            for group in self.groups_iter():
                buffer.extend(group)
                if len(buffer) >= CHUNK:
                    self.flush(buffer)
                    buffer = []
                    self.report(started)
            self.flush(buffer)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact]):
                cursor.execute(sql)
        # Then each app built on the archive adds its records (leads, contracts, tickets, billing history…).
        for module in app_demo_modules():
            module_started = time.monotonic()
            module.generate(self)
            self.progress(f"{module.__name__}: {time.monotonic() - module_started:,.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.report(started)
        return dict(self.writer.counts)

    def report(self, started: float) -> None:
        rows = sum(self.writer.counts.values())
        elapsed = time.monotonic() - started
        self.progress(f"{self.made:,}/{self.groups:,} customers, {rows:,} rows, {rows / elapsed:,.0f} rows/s")


EMAIL_DOMAINS = ["139.com", "qq.com", "163.com", "126.com", "sina.com", "foxmail.com"]
CUSTOMER_FIELDS = [
    "id", "path", "depth", "numchild", "number", "name", "short_name", "uscc", "type", "industry", "size", "address",
    "org_unit", "owner", "backup_owner", "grade", "status", "service_level", "source", "cooperation_since", "note",
    "search_text", "created_at", "updated_at",
]  # fmt: skip
CONTACT_FIELDS = [
    "id", "customer", "name", "title", "department", "decision_role", "is_key_person", "mobile", "email", "birthday",
    "preferences", "closeness", "notes", "is_shareable", "created_at", "updated_at",
]  # fmt: skip
MEMBER_FIELDS = ["customer", "phone", "department", "joined_on", "left_on", "paid_by", "network", "short_number"]
SUBSCRIPTION_FIELDS = [
    "customer", "product", "contracted_price", "discount_pct", "quantity", "start_on", "end_on", "status",
    "created_at", "updated_at",
]  # fmt: skip
COMPETITOR_FIELDS = ["customer", "competitor", "products", "contract_end", "threat", "note", "created_at", "updated_at"]


def _accumulate(values) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _bisect(cumulative: list[float], x: float) -> int:
    return min(bisect_right(cumulative, x), len(cumulative) - 1)


# --- entry points for the command ------------------------------------------------------------------
def is_empty() -> bool:
    return not (OrgUnit.objects.exists() or Staff.objects.exists() or Customer.objects.exists())


def app_demo_modules() -> list:
    """The `demo.py` modules of installed apps other than this one, in INSTALLED_APPS order. Each has
    `generate(builder)` (add rows through `builder.writer`, draw from `builder.rng`, report through
    `builder.progress`) and `RESET_MODELS` (its tables, children first, emptied by `reset()`)."""
    return app_modules("demo", exclude=("jiketong.demo",))


def reset() -> None:
    """Delete the customers and everything they own, then staff, users and the org tree."""
    with transaction.atomic(), connection.cursor() as cursor:
        app_models = [model for module in reversed(app_demo_modules()) for model in module.RESET_MODELS]
        for model in app_models + [
            Subscription.members.through, Subscription, ContactDate, Contact, Member, GradeChange, Affiliation,
            CompetitorPresence, Customer, Notification,
        ]:  # fmt: skip
            # Plain DELETEs: the ORM would load every row of a 1M-customer archive to cascade.
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        Staff.roles.through.objects.all().delete()
        Staff.objects.all().delete()
        User.objects.all().delete()
        OrgUnit.objects.all().delete()


def generate(*, groups: int, seed: int, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    return DemoBuilder(groups=groups, seed=seed, progress=progress).run()


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, org unit) of the named demo logins that exist."""
    labels = dict(Role.CHOICES) | {"superuser": gettext("Superuser")}
    units = dict(OrgUnit.objects.filter(code__in={d.org_code for d in DEMO_LOGINS}).values_list("code", "name"))
    existing = set(
        User.objects.filter(username__in=[d.username for d in DEMO_LOGINS]).values_list("username", flat=True)
    )
    return [(d.username, str(labels[d.role]), units.get(d.org_code, "")) for d in DEMO_LOGINS if d.username in existing]
