"""Prepare a demo database for the load run: who logs in, which of their customers they open, API tokens.

    DATABASE_URL=postgres://…/jiketong python benchmarks/load/setup.py [--out var/load/personas.json]

Reads the demo (`python -m jiketong demo --groups N`) and writes one JSON file the locustfile reads:

- `managers`: customer managers with a portfolio (the demo's `cm<county>_<k>` logins, password Jiketong@2026),
  each with a sample of their customers' ids, numbers and search terms (part of a name, pinyin initials);
- `supervisors`: county, city and province supervisors (`sup<code>`, `supervisor`), with a sample of customers in
  their scope for the 360 pages they open from a dashboard;
- `analysts`: the analysts of each province and HQ (`analyst`, `an<code>`, `hq_analyst`);
- `api`: bearer tokens issued here for a few managers and supervisors (an integration acting as them), with the
  customers they may read and change;
- `period` and `product`: the newest billed month and its most used product, for the indicator pages.

It creates nothing but API tokens (one per API login, 30 days), so the demo stays as the demo command made it:
every demo login already shares the password. Run it again after a new demo load.
"""

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")

PASSWORD = "Jiketong@2026"  # the demo's (jiketong.demo.generator.DEMO_PASSWORD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "var" / "load" / "personas.json"))
    parser.add_argument("--managers", type=int, default=300, help="customer managers to draw logins from")
    parser.add_argument("--api-logins", type=int, default=24, help="logins that get an API token")
    parser.add_argument("--sample", type=int, default=40, help="customers sampled per login")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.models import Count

    from jiketong.analytics.indicators import latest_period
    from jiketong.billing.models import BillingFact
    from jiketong.customers.models import Customer
    from jiketong.demo.generator import DEMO_PASSWORD
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    assert DEMO_PASSWORD == PASSWORD, "the demo password changed: update benchmarks/load/setup.py"
    rng = random.Random(args.seed)

    def sample(user, k: int) -> list[dict]:
        rows = list(
            Customer.objects.visible_to(user).order_by("pk").values("pk", "number", "name")[: max(k * 25, 1000)]
        )
        picked = rng.sample(rows, min(k, len(rows)))
        return [{"id": r["pk"], "number": r["number"] or "", "term": r["name"][2:6]} for r in picked]

    # Managers: those who own customers, most customers first, then a random draw so small and big
    # portfolios both appear (the demo's `manager` login is one of them).
    portfolios = Customer.objects.exclude(owner=None).order_by().values("owner").annotate(n=Count("pk"))
    owners = [row["owner"] for row in portfolios if row["n"] >= 20]
    staff = list(
        Staff.objects.filter(pk__in=owners, roles=Role.CUSTOMER_MANAGER, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    staff = rng.sample(staff, min(args.managers, len(staff)))
    managers = [{"username": s.user.username, "customers": sample(s.user, args.sample)} for s in staff]

    def subtree(role: str, **conditions) -> list[Staff]:
        return list(
            Staff.objects.filter(roles=role, user__is_active=True, **conditions)
            .select_related("user", "org_unit")
            .order_by("pk")
        )

    supervisors = [
        {"username": s.user.username, "depth": s.org_unit.depth, "customers": sample(s.user, args.sample)}
        for s in subtree(Role.SUPERVISOR, org_unit__depth__gte=2)
    ]
    analysts = [{"username": s.user.username, "depth": s.org_unit.depth} for s in subtree(Role.ANALYST)]

    api = []
    for entry in managers[: args.api_logins - 2] + supervisors[:2]:
        user = Staff.objects.select_related("user").get(user__username=entry["username"]).user
        api.append({"username": entry["username"], "token": token_issue(user=user), "customers": entry["customers"]})

    period = latest_period()
    top = (
        BillingFact.objects.filter(period=period).values("product__code").annotate(n=Count("pk")).order_by("-n").first()
    )
    report = {
        "password": PASSWORD,
        "groups": Customer.objects.count(),
        "period": f"{period:%Y-%m}",
        "product": top["product__code"] if top else "",
        "managers": managers,
        "supervisors": supervisors,
        "analysts": analysts,
        "api": api,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    out.chmod(0o600)  # holds bearer tokens
    print(
        f"{len(managers)} managers, {len(supervisors)} supervisors, {len(analysts)} analysts, "
        f"{len(api)} API tokens, period {report['period']}, product {report['product']} -> {out}"
    )


if __name__ == "__main__":
    main()
