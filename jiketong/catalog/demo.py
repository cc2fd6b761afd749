"""Demo 行业解决方案: a few industry packages over the demo catalog (jiketong/demo/catalog.py), added through the
service as the system administrator would, so the catalog's package page, the quotes and the audit show them."""

from decimal import Decimal

from django.contrib.auth import get_user_model

from jiketong.customers.models import Industry

from .models import PackageItem, Product, SolutionPackage
from .services import package_save

RESET_MODELS = [PackageItem, SolutionPackage]
# code, name, industry, monthly package price, [(product code, quantity)], what it is for
PACKAGES = [
    ("PKG-EDU-CAMPUS", "智慧校园套餐", "education", "3825.00",
     [("DIA", 1), ("SCHOOL", 200), ("CRBT", 50)], "专线进校、家校通覆盖全校家长、教职工统一彩铃"),
    ("PKG-BANK-BRANCH", "银行网点套餐", "finance", "3330.00",
     [("MPLS", 1), ("BANKSMS", 1), ("NUM400", 1)], "网点数据专线、账户变动提醒与 400 客服热线"),
    ("PKG-GOV-OFFICE", "政务办公套餐", "government", "2850.00",
     [("GOVSMS", 1), ("OA", 100), ("MAIL", 100)], "政务通知、移动办公与政务邮箱"),
    ("PKG-MFG-IOT", "智能工厂套餐", "manufacturing", "5580.00",
     [("DIA", 1), ("IOT", 200), ("CLOUD", 1)], "厂区专线、设备物联网卡与生产数据上云"),
    ("PKG-RETAIL-STORE", "连锁门店套餐", "retail", "1710.00",
     [("BROADBAND", 3), ("SMS", 1), ("MCRM", 20)], "门店宽带、会员短信与导购移动 CRM"),
]  # fmt: skip


def generate(builder) -> None:
    actor = get_user_model().objects.filter(username="sysadmin").first() or (
        get_user_model().objects.filter(is_superuser=True).first()
    )
    products = {p.code: p for p in Product.objects.all()}
    industries = {industry.code: industry for industry in Industry.objects.all()}
    made = 0
    for code, name, industry, price, items, description in PACKAGES:
        if industry not in industries or any(c not in products for c, _q in items):
            continue
        if SolutionPackage.objects.filter(code=code).exists():
            continue
        package_save(
            actor=actor,
            code=code,
            name=name,
            industry=industries[industry],
            price=Decimal(price),
            description=description,
            items=[(products[c], quantity) for c, quantity in items],
        )
        made += 1
    builder.progress(f"catalog: {made} solution packages")
