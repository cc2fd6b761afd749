"""The demo catalog: DOMAIN §5's products with realistic standard monthly prices."""

from decimal import Decimal

from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Stickiness

V, C, M, IT, SOL = (
    ProductCategory.VOICE,
    ProductCategory.CONNECTIVITY,
    ProductCategory.MESSAGING,
    ProductCategory.IT_CLOUD,
    ProductCategory.SOLUTION,
)
GROUP, MEMBER = BillingUnit.PER_GROUP, BillingUnit.PER_MEMBER
EMB, IDN, MKT, NONE = Stickiness.EMBEDDED, Stickiness.IDENTITY, Stickiness.MARKET, Stickiness.NONE

# code, name, category, billing unit, stickiness, monthly price, one-time fee, basic service, description
PRODUCTS = [
    ("VNET-LOCAL", "集团V网（本地）", V, MEMBER, IDN, "5.00", "0", True, "本地网内成员短号互拨，网内通话优惠"),
    ("VNET-PROV", "集团V网（省内）", V, MEMBER, IDN, "8.00", "0", True, "省内跨地市成员短号互拨"),
    ("VNET-NATION", "集团V网（跨省）", V, MEMBER, IDN, "12.00", "0", True, "全国跨省集团成员短号互拨"),
    ("PBX", "集团总机", V, GROUP, IDN, "300.00", "500", True, "统一总机号码、IVR 导航与分机转接"),
    ("NUM400", "400号码", V, GROUP, IDN, "200.00", "300", True, "全国统一客服号码，被叫付费"),
    ("VOIP", "VoIP语音", V, GROUP, NONE, "150.00", "0", True, "基于专线的 IP 语音中继"),
    ("DIA", "互联网专线", C, GROUP, EMB, "3000.00", "2000", True, "100M 对称带宽、固定公网 IP、SLA 保障"),
    ("MPLS", "数据专线", C, GROUP, EMB, "2500.00", "2000", True, "总部与分支机构点对点/多点互联"),
    ("VPN", "VPN（APN/VPDN）", C, GROUP, EMB, "800.00", "1000", True, "移动终端安全接入企业内网"),
    ("BROADBAND", "企业宽带", C, GROUP, NONE, "300.00", "200", True, "有线/无线企业宽带接入"),
    ("IOT", "物联网卡", C, MEMBER, EMB, "10.00", "0", True, "M2M 模组、车载 GPS、智能表计连接"),
    ("SMS", "企信通（短彩信）", M, GROUP, MKT, "500.00", "0", False, "集团短信/彩信群发"),
    ("MAS", "MAS", M, GROUP, EMB, "1500.00", "3000", False, "与企业 IT 系统集成的移动代理服务器"),
    ("ADC", "ADC", M, GROUP, EMB, "2000.00", "5000", False, "应用与数据集成的行业应用接入"),
    ("CRBT", "集团彩铃", M, MEMBER, MKT, "5.00", "0", False, "统一企业形象彩铃，分上下班时段"),
    ("MAIL", "企业邮箱", IT, MEMBER, IDN, "10.00", "0", False, "企业自有域名邮箱"),
    ("WEBSITE", "企业建站", IT, GROUP, IDN, "300.00", "2000", False, "企业官网建设与托管"),
    ("IDC", "IDC主机托管", IT, GROUP, EMB, "2000.00", "1000", False, "机柜/机位托管与带宽"),
    ("CLOUD", "云主机", IT, GROUP, EMB, "1200.00", "0", False, "弹性云主机与云存储"),
    ("OA", "企业OA", IT, MEMBER, EMB, "15.00", "0", False, "移动办公、审批与公文流转"),
    ("MCRM", "移动CRM", IT, MEMBER, EMB, "20.00", "0", False, "销售外勤与客户管理"),
    ("SI", "系统集成", IT, GROUP, EMB, "0.00", "50000", False, "按项目报价的系统集成服务"),
    ("SCHOOL", "校讯通/家校通", SOL, MEMBER, MKT, "5.00", "0", False, "家校互动、成绩与通知推送"),
    ("BANKSMS", "银信通", SOL, GROUP, EMB, "1000.00", "2000", False, "银行账户变动短信提醒"),
    ("GOVSMS", "政务通", SOL, GROUP, EMB, "800.00", "1000", False, "政务信息发布与应急通知"),
]


def ensure_catalog() -> dict[str, Product]:
    """Create or update the demo products by code; safe to run again."""
    products = {}
    for code, name, category, unit, sticky, price, fee, basic, description in PRODUCTS:
        products[code], _created = Product.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "billing_unit": unit,
                "stickiness": sticky,
                "standard_price": Decimal(price),
                "one_time_fee": Decimal(fee),
                "is_basic_service": basic,
                "description": description,
            },
        )
    return products
