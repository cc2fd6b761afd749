"""`python -m jiketong federation demo` (`make demo-federation`): HQ and two provinces (广东 440000, 浙江 330000)
on three local ports, each with its own SQLite database under var/federation/<instance>/. Each province loads
the deterministic demo data (the same seed, so national groups such as the banks and oil companies have the
same identity in both), sends its part (its own units, months and indicator cells) to HQ, and keeps syncing
every 30 seconds; HQ assigns the largest national group, sets a national target, publishes a national product
and an HQ discount rule, which the provinces apply; each province shares one head-office contact per group.
Ctrl-C stops all of them."""

import json
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from .localrun import ROOT, Instance, prepare, register

HQ_SETUP = """
from django.contrib.auth import get_user_model
from jiketong.demo.generator import DEMO_PASSWORD
from jiketong.org.models import OrgLevel, OrgUnit, Role, Staff
User = get_user_model()
if not OrgUnit.objects.exists():
    root = OrgUnit.add_root(code="100000", name="集团公司", level=OrgLevel.HQ)
    admin = User.objects.create_superuser("admin", password=DEMO_PASSWORD)
    Staff.objects.create(user=admin, name="系统管理员", org_unit=root)
    analyst = User.objects.create_user("hq", password=DEMO_PASSWORD)
    Staff.objects.create(user=analyst, name="集团分析员", org_unit=root).roles.set([Role.ANALYST])
"""
HQ_DIRECTIVES = """
from datetime import date
from decimal import Decimal
from django.contrib.auth import get_user_model
from jiketong.federation import services
from jiketong.federation.models import NationalGroup, NationalAccount, ProvinceMonth
actor = get_user_model().objects.get(username="hq")
# The largest 全国性 group, or at demo scale (a few hundred groups, no million) the largest group.
group = NationalGroup.objects.order_by("-is_national", "-revenue_12m").first()
if group and not NationalAccount.objects.filter(group=group).exists():
    services.account_assign(actor=actor, group=group, lead_province="440000", manager_name="刘建国",
                            team=["陈静", "周伟"])
# The national catalog and an HQ discount rule: every province applies them at its next sync.
from jiketong.catalog.models import Product
from jiketong.catalog.services import product_save
admin = get_user_model().objects.get(username="admin")
product = Product.objects.filter(code="NAT-CLOUD").first() or product_save(
    actor=admin, code="NAT-CLOUD", name="全国统一云专线", category="connectivity", billing_unit="per_group",
    standard_price=Decimal("3000"), description="集团公司统一定价的跨省云专线")
services.catalog_publish(actor=actor, product=product)
services.discount_rule_set(actor=actor, category="", manager_max=Decimal("5"), city_max=Decimal("12"),
                           province_max=Decimal("28"))
latest = ProvinceMonth.objects.order_by("-period").values_list("period", flat=True).first()
if latest:
    for code in ("440000", "330000"):
        services.target_set(actor=actor, province=code, indicator="revenue", period_type="year",
                            period=date(latest.year, 1, 1), value=Decimal("500000000"))
"""

# A province marks one head-office contact of each group it shares shareable (names and titles reach HQ).
SHAREABLE_CONTACTS = """
from jiketong.customers.models import Contact
from jiketong.federation.collect import shared_heads
first = {}
for pk, customer_id in Contact.objects.filter(customer__in=shared_heads(), left_on__isnull=True).order_by(
        "customer_id", "-is_key_person", "pk").values_list("pk", "customer_id"):
    first.setdefault(customer_id, pk)
Contact.objects.filter(pk__in=list(first.values())).update(is_shareable=True)
"""


def run(*, base_port: int, groups: int, var: str, out) -> None:
    root = Path(var) if var else Path(settings.VAR_DIR) / "federation"
    hq = Instance("hq", "hq", base_port, root / "hq")
    provinces = [
        Instance("gd", "province", base_port + 1, root / "gd", province="440000"),
        Instance("zj", "province", base_port + 2, root / "zj", province="330000"),
    ]
    out.write(f"Preparing three databases under {root} …")
    prepare(root, [hq, *provinces])
    tokens_file = root / "tokens.json"
    hq.shell(HQ_SETUP)
    if tokens_file.exists():
        tokens = json.loads(tokens_file.read_text())
        for province in provinces:
            province.token, province.hq_url = tokens[province.province], hq.url
    else:
        for province, name in zip(provinces, ("广东", "浙江"), strict=True):
            register(hq, province, name)
        tokens_file.write_text(json.dumps({p.province: p.token for p in provinces}))
    loops: list[subprocess.Popen] = []
    try:
        hq.start()
        for province in provinces:
            out.write(f"Loading {province.name} ({province.province}) demo data, {groups} groups …")
            province.run(
                "demo", "--groups", str(groups), "--if-empty", "--host", f"127.0.0.1:{province.port}", timeout=1800
            )
            province.shell(SHAREABLE_CONTACTS)
            province.run("federation", "collect")
            province.run("federation", "sync")
        hq.shell(HQ_DIRECTIVES)
        for province in provinces:
            province.run("federation", "sync")  # reads the assignment and the targets
            province.start()
            loops.append(
                subprocess.Popen(
                    [sys.executable, "-m", "jiketong", "federation", "sync", "--loop", "30"],
                    env=province.env(),
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from jiketong.demo.generator import DEMO_PASSWORD

        out.write("")
        hq_logins = f"admin / {DEMO_PASSWORD}  ·  hq / {DEMO_PASSWORD} (HQ analyst)"
        out.write(f"集团公司 HQ      {hq.url}/federation/   {hq_logins}")
        out.write(f"广东 440000      {provinces[0].url}/   supervisor / {DEMO_PASSWORD}  (and the other demo logins)")
        out.write(f"浙江 330000      {provinces[1].url}/   supervisor / {DEMO_PASSWORD}  (and the other demo logins)")
        out.write("The provinces send to HQ every 30 s. Ctrl-C stops all three.")
        while all(item.process and item.process.poll() is None for item in [hq, *provinces]):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for loop in loops:
            loop.terminate()
        for item in [hq, *provinces]:
            item.stop()
