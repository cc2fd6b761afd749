"""Demo leads and opportunities over the last twelve months.

About 0.3 leads and 0.5 opportunities per customer, owned by the customer's manager, in the customer's
unit. Opportunities whose expected close has passed are mostly won or lost; the others sit at the open
stages, closing over the next six months, so the board and the forecast have something to show. Every
opportunity has its stage history (one row per step). Customers are streamed in id order and rows written
in chunks through `builder.writer` (COPY on PostgreSQL), with ids assigned here so history rows can point
at their opportunity without a query per row. The `manager` login's customers all get an opportunity.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from jiketong.catalog.models import Product
from jiketong.core.names import normalise_org_name
from jiketong.customers.models import Competitor, Customer, CustomerSource, LifecycleStatus
from jiketong.demo.indexes import built_after_load
from jiketong.demo.names import brand, person_name, place_word

from . import pipeline
from .models import (
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityProduct,
    PipelineFact,
    ReferenceCase,
    Stage,
    StageChange,
)

CHUNK = 5000
LEADS_PER_CUSTOMER = 0.3
TWO_OPPORTUNITIES, ANY_OPPORTUNITY = 0.05, 0.5  # about 0.55 opportunities per customer with an owner
LEAD_STATUS = [
    (LeadStatus.NEW, 20),
    (LeadStatus.WORKING, 20),
    (LeadStatus.QUALIFIED, 10),
    (LeadStatus.CONVERTED, 30),
    (LeadStatus.DISQUALIFIED, 20),
]
OPEN_STAGE_WEIGHTS = [40, 25, 20, 15]  # discovery … signing
WON_SHARE = 0.55  # of closed opportunities
TITLES = [
    "互联网专线",
    "集团V网",
    "5G专网",
    "企业宽带",
    "云主机",
    "物联网卡",
    "企信通短信",
    "IDC托管",
    "视频会议",
    "OA系统",
]
NEEDS = ["办公网络升级", "新园区通信建设", "员工手机统付", "门店宽带", "短信通知平台", "视频监控上云", "呼叫中心"]
# Who a lead's contact usually is; picked by the lead's id, so the demo's random sequence stays as it was.
CONTACT_TITLES = ["办公室主任", "信息中心主任", "行政经理", "总经理", "采购经理", "IT主管"]
LOST_REASONS = ["价格高于竞争对手", "客户预算取消", "竞争对手关系更深", "需求推迟到明年", "技术方案不满足"]
DISQUALIFY_REASONS = ["规模太小", "已与竞争对手签长期合同", "联系不上", "无实际需求"]
SUFFIXES = ["有限公司", "科技有限公司", "贸易有限公司", "实业有限公司", "商行", "工作室"]
MONTHLY = [300, 800, 1500, 3000, 5000, 8000, 15000, 30000]
LEAD_FIELDS = [
    "id", "source", "name", "name_key", "uscc", "org_unit", "industry", "expected_size", "grade_hint",
    "contact_name", "contact_title", "contact_mobile", "need", "owner", "status", "disqualify_reason", "customer",
    "opportunity", "converted_at", "created_by", "created_at", "updated_at",
]  # fmt: skip
OPPORTUNITY_FIELDS = [
    "id", "customer", "name", "owner", "stage", "expected_close", "amount_monthly", "amount_once", "competitor",
    "lost_reason", "lead", "closed_on", "note", "created_at", "updated_at",
]  # fmt: skip
LINE_FIELDS = ["opportunity", "product", "quantity", "amount_monthly", "amount_once"]
CHANGE_FIELDS = ["opportunity", "from_stage", "to_stage", "changed_by", "changed_at", "note"]
RESET_MODELS = [
    PipelineFact,
    ReferenceCase.products.through,
    ReferenceCase,
    StageChange,
    OpportunityProduct,
    Lead,
    Opportunity,
]


class _Rows:
    def __init__(self):
        self.leads, self.opportunities, self.lines, self.changes = [], [], [], []

    def __len__(self) -> int:
        return len(self.leads) + len(self.opportunities)


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


class _Generator:
    def __init__(self, builder):
        self.rng, self.today, self.writer = builder.rng, builder.today, builder.writer
        self.stages = list(Stage.objects.filter(active=True))
        self.open_stages = [s for s in self.stages if not s.is_closed]
        self.won = next(s for s in self.stages if s.is_won)
        self.lost = next(s for s in self.stages if s.is_lost)
        self.products = list(Product.objects.filter(is_active=True).order_by("code"))
        self.lead_id, self.opportunity_id = _next_id(Lead), _next_id(Opportunity)
        self.manager = builder.usernames.get("manager")
        self.tz = timezone.get_current_timezone()

    def at(self, day, hour: int | None = None):
        """A working-hours moment of `day` as the database takes it."""
        moment = datetime.combine(
            day, time(hour if hour is not None else self.rng.randint(9, 17), self.rng.randint(0, 59))
        )
        return connection.ops.adapt_datetimefield_value(timezone.make_aware(moment, self.tz))

    def lead(self, rows: _Rows, customer) -> None:
        rng = self.rng
        customer_id, owner_id, unit_id, industry_id, grade, source, customer_name = customer
        status = rng.choices([s for s, _w in LEAD_STATUS], weights=[w for _s, w in LEAD_STATUS])[0]
        created = self.today - timedelta(days=rng.randint(0, 365))
        converted = status == LeadStatus.CONVERTED
        # A converted lead became this customer; the others are prospects of the customer's area.
        name = customer_name if converted else f"{place_word(rng)}{brand(rng)}{rng.choice(SUFFIXES)}"
        contact, _male = person_name(rng)
        mobile = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        size = int(rng.lognormvariate(3.5, 1.2))
        rows.leads.append((
            self.lead_id, source or CustomerSource.GRID_SURVEY, name, normalise_org_name(name), "", unit_id,
            industry_id, size, "A2" if size >= 1000 else ("B2" if size >= 200 else ""), contact,
            CONTACT_TITLES[self.lead_id % len(CONTACT_TITLES)], mobile,
            rng.choice(NEEDS), owner_id, status,
            rng.choice(DISQUALIFY_REASONS) if status == LeadStatus.DISQUALIFIED else "",
            customer_id if converted else None, None, self.at(created + timedelta(days=20)) if converted else None,
            None, self.at(created), self.at(created),
        ))  # fmt: skip
        self.lead_id += 1

    def opportunity(self, rows: _Rows, customer) -> None:
        rng = self.rng
        customer_id, owner_id, _unit, _industry, grade, _source, _name = customer
        created = self.today - timedelta(days=rng.randint(0, 365))
        close = created + timedelta(days=rng.randint(30, 180))
        if close < self.today and rng.random() < 0.8:
            final = self.won if rng.random() < WON_SHARE else self.lost
            reached = rng.randint(0, len(self.open_stages) - 1)
        else:
            final = None
            reached = rng.choices(range(len(self.open_stages)), weights=OPEN_STAGE_WEIGHTS)[0]
            if close < self.today:
                close = self.today + timedelta(days=rng.randint(1, 90))  # slipped: pushed out
        scale = {"A": 4, "B": 2}.get(grade[:1], 1)
        monthly = Decimal(rng.choice(MONTHLY) * scale)
        once = Decimal(rng.choice([0, 0, 2000, 5000, 20000]) * scale)
        pk = self.opportunity_id
        self.opportunity_id += 1
        if self.products and rng.random() < 0.3:
            product = rng.choice(self.products)
            rows.lines.append((pk, product.pk, 1, monthly, once))
        # The history: discovery, each open stage up to the one reached, then won or lost.
        path = self.open_stages[: reached + 1] + ([final] if final else [])
        end = min(close, self.today) if final else self.today
        span = max((end - created).days, 1)
        previous = None
        for step, stage in enumerate(path):
            day = created + timedelta(days=span * step // len(path))
            note = ""
            if stage is self.lost:
                note = rng.choice(LOST_REASONS)
            rows.changes.append((pk, previous.pk if previous else None, stage.pk, owner_id, self.at(day), note))
            previous = stage
        stage = path[-1]
        lost = stage is self.lost
        rows.opportunities.append((
            pk, customer_id, f"{rng.choice(TITLES)}项目", owner_id, stage.pk, close, monthly, once,
            rng.choice([c for c, _l in Competitor.choices]) if lost or rng.random() < 0.2 else "",
            rows.changes[-1][5] if lost else "", None, end if final else None, "", self.at(created), self.at(end),
        ))  # fmt: skip

    def flush(self, rows: _Rows) -> None:
        self.writer.write(Opportunity, OPPORTUNITY_FIELDS, rows.opportunities)
        self.writer.write(OpportunityProduct, LINE_FIELDS, rows.lines)
        self.writer.write(StageChange, CHANGE_FIELDS, rows.changes)
        self.writer.write(Lead, LEAD_FIELDS, rows.leads)


def generate(builder) -> None:
    gen = _Generator(builder)
    if not gen.open_stages:
        return
    rng = builder.rng
    customers = (
        Customer.objects.exclude(status=LifecycleStatus.CHURNED)
        .order_by("id")
        .values_list("id", "owner_id", "org_unit_id", "industry_id", "grade", "source", "name")
    )
    with built_after_load(Lead, Opportunity, OpportunityProduct, StageChange, foreign_keys=True):
        rows = _Rows()
        for customer in customers.iterator(chunk_size=CHUNK):
            if rng.random() < LEADS_PER_CUSTOMER:
                gen.lead(rows, customer)
            owner_id = customer[1]
            if owner_id is None:
                continue  # an opportunity needs an owner; unassigned customers wait for one
            roll = rng.random()
            count = 2 if roll < TWO_OPPORTUNITIES else (1 if roll < ANY_OPPORTUNITY else 0)
            if owner_id == gen.manager:
                count = max(count, 1)  # the demo login's board is never empty
            for _n in range(count):
                gen.opportunity(rows, customer)
            if len(rows) >= CHUNK:
                gen.flush(rows)
                rows = _Rows()
                builder.progress(f"sales: {gen.opportunity_id:,} opportunities, {gen.lead_id:,} leads")
        gen.flush(rows)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Lead, Opportunity, OpportunityProduct, StageChange]):
            cursor.execute(sql)
    builder.progress(f"sales: {pipeline.refresh():,} pipeline figures kept")
    _reference_cases(builder)


# 标杆案例: what won it, by industry (the published text never names the customer).
CASE_STORIES = {
    "education": (
        "智慧校园整体接入",
        "某区属重点中学",
        "学校要把家校沟通从微信群搬到可管理的平台。我们先在一个年级试点家校通，"
        "两周内家长激活率过九成，再用专线和教职工彩铃打包进套餐，校长办公会一次通过。",
    ),
    "finance": (
        "网点专线与账户提醒",
        "某城商行分行",
        "竞争对手报价更低，但我们承诺网点专线 4 小时修复并给出两年的 SLA 赔付条款；"
        "银信通与核心系统对接由我们的 SI 伙伴驻场完成，科技部认可了交付能力。",
    ),
    "government": (
        "政务通知平台上线",
        "某区政务服务中心",
        "应急通知要求分钟级触达全区干部。我们用政务通加移动办公做了演练，"
        "十分钟内覆盖率 98%，演练报告直接进了区政府的采购论证。",
    ),
    "manufacturing": (
        "智能工厂物联改造",
        "某汽车零部件制造企业",
        "设备数据采集原来靠人工抄表。我们用物联网卡连通两百台设备，"
        "数据上云后停机时间下降三成，生产副总成了项目的推动者。",
    ),
    "retail": (
        "连锁门店统一接入",
        "某区域连锁超市",
        "门店宽带各自签约、故障无人管。我们一张合同覆盖全部门店，"
        "会员短信按门店投放，导购用移动 CRM 跟进大客户，采购经理算清了一年节省的费用。",
    ),
    "healthcare": (
        "医院专线与预约短信",
        "某市属三甲医院",
        "挂号高峰期网络拥堵是院长最头疼的事。专线扩容后高峰期零中断，"
        "预约提醒短信让爽约率下降，信息科主任在全市卫健系统会上介绍了经验。",
    ),
    "transport": (
        "物流车队定位与调度",
        "某物流园区运营公司",
        "车队调度靠电话。车载 GPS 物联网卡加调度短信，车辆空驶率下降，园区把方案推广给了入驻企业。",
    ),
}
CASES_PER_INDUSTRY = 2


def _reference_cases(builder) -> None:
    """A couple of won opportunities per industry in 广东, the largest first and from different counties, published
    as reference cases by their owners through the service (as they would in the app)."""
    from .services import case_publish

    published = 0
    catalog = list(Product.objects.filter(is_active=True).order_by("code"))
    for industry, (title, public_name, story) in CASE_STORIES.items():
        won = (
            Opportunity.objects.filter(
                stage__is_won=True, customer__industry_id=industry, customer__org_unit__code__startswith="44"
            )
            .select_related("owner__user", "customer__org_unit")
            .order_by("-amount_monthly", "id")[:20]
        )
        counties: set[int] = set()
        for opportunity in won:
            if opportunity.customer.org_unit_id in counties or not opportunity.owner.user.is_active:
                continue
            counties.add(opportunity.customer.org_unit_id)
            products = None if opportunity.lines.exists() else builder.rng.sample(catalog, 2)
            try:
                case_publish(
                    actor=opportunity.owner.user,
                    opportunity=opportunity,
                    title=f"{title}·{opportunity.customer.org_unit.name}",
                    what_won=story,
                    public_name=public_name,
                    products=products,
                )
            except ValidationError:  # a story that happens to hold the customer's short name: not this one
                continue
            published += 1
            if len(counties) >= CASES_PER_INDUSTRY:
                break
    builder.progress(f"sales: {published} reference cases")
