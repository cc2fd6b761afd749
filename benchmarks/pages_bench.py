"""The pages after analytics (issue 12 item 1, decision 0605), in-process, with each page's slowest query.

    DATABASE_URL=postgres://…/jiketong python benchmarks/pages_bench.py --only "compliance,activities"
    DATABASE_URL=postgres://…/jiketong python benchmarks/pages_bench.py --explain   # EXPLAIN ANALYZE of the slowest

Uses the page list of benchmarks/serve.py (every page and API call a user waits on) on an already loaded demo
database (`python -m jiketong demo --groups N --seed 7`, then ANALYZE), as the demo's manager, the manager with
the biggest portfolio, a city supervisor (广州), a province supervisor and an HQ analyst. One warm-up request
(its queries counted and timed one by one), then `--repeat` requests: median and p95 in ms. Prints one line per
page and persona and writes benchmarks/results/pages-<vendor>-<customers>-<label>.json.
"""

import argparse
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")


EXTRA_PAGES = {
    "activities, page 200": ["/work/activities/?page=200"],
    "opportunities, page 200": ["/sales/opportunities/?page=200"],
    "churn warnings, page 200": ["/churn/warnings/?page=200"],
    # Issues 13 and 14 (defence, growth): the pages a supervisor waits on.
    "defence board": ["/defence/"],
    "group risk": ["/defence/groups/"],
    "risk inbox": ["/churn/alerts/"],
    "key-person gaps": ["/customers/key-persons/"],
    "campaigns": ["/campaigns/"],
    "whitespace": ["/campaigns/whitespace/"],
    "reference cases": ["/sales/cases/"],
    "scorecard: mine": ["/assessment/"],
    "scorecard: unit": ["/assessment/units/"],
    "redemptions": ["/billing/redemptions/"],
    # The loyalty and satisfaction indicators (issue 14 item 7, decision 1002): kept per unit × month.
    "indicators: loyalty": ["/analytics/indicators/?section=loyalty"],
    "indicators: loyalty by org": ["/analytics/indicators/?section=loyalty&by=org"],
    "indicators: loyalty by industry": ["/analytics/indicators/?section=loyalty&by=industry"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--personas", default="", help="persona names separated by |")
    parser.add_argument("--only", default="", help="comma-separated page names (substring match)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query")
    parser.add_argument("--label", default="run")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.models import Count, Q
    from django.test import Client
    from measure import line, measure, write_results
    from serve import pages

    from jiketong.analytics.indicators import latest_period
    from jiketong.billing.models import BillingFact
    from jiketong.customers.models import Customer
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    period = latest_period()
    top = BillingFact.objects.filter(period=period).values("product__code").annotate(n=Count("pk")).order_by("-n")
    product = top[0]["product__code"] if top else ""

    from jiketong.campaigns import crosssell

    whitespace_product = crosssell.whitespace_products().order_by("pk").values_list("pk", flat=True).first()

    def staff(**conditions) -> Staff | None:
        return Staff.objects.filter(user__is_active=True, **conditions).select_related("user").order_by("pk").first()

    biggest = (
        Staff.objects.filter(user__is_active=True, roles=Role.CUSTOMER_MANAGER)
        .annotate(n=Count("owned_customers", filter=Q(owned_customers__status__in=["active", "at_risk", "dormant"])))
        .order_by("-n")
        .select_related("user")
        .first()
    )
    personas = {
        "manager": staff(user__username="manager") or staff(roles=Role.CUSTOMER_MANAGER),
        "manager, biggest portfolio": biggest,
        "city supervisor": staff(user__username="supervisor") or staff(roles=Role.SUPERVISOR, org_unit__depth=3),
        "province supervisor": staff(roles=Role.SUPERVISOR, org_unit__depth=2),
        "HQ analyst": staff(roles=Role.ANALYST, org_unit__depth=1),
    }
    personas = {k: v for k, v in personas.items() if v is not None}
    if args.personas:
        personas = {k: v for k, v in personas.items() if any(w.strip() == k for w in args.personas.split("|"))}
    results: dict[str, dict] = {}
    rng = random.Random(7)
    for who, person in personas.items():
        client = Client()
        client.force_login(person.user)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=person.user, days=1)}"}
        candidates = list(Customer.objects.visible_to(person.user).order_by("pk").values_list("pk", flat=True)[:5000])
        ids = rng.sample(candidates, min(20, len(candidates)))
        names = list(Customer.objects.filter(pk__in=ids).values_list("name", flat=True))
        terms = [name[2:6] for name in names[:5]] + ["gzdt"]
        catalogue = pages(f"{period:%Y-%m}", product, ids, terms) | EXTRA_PAGES
        if whitespace_product is not None:  # the whitespace list of the product most customers lack
            catalogue["whitespace: a product"] = [f"/campaigns/whitespace/?product={whitespace_product}"]
        for name, urls in catalogue.items():
            if args.only and not any(w.strip() in name for w in args.only.split(",")):
                continue
            extra = bearer if name.startswith("API") else {}
            status, entry = measure(client, urls, repeat=args.repeat, extra=extra, explain=args.explain)
            # Not this persona's page (a supervisor's 我的考核 redirects to the unit's).
            if status in (302, 403, 404):
                continue
            if entry is None:
                raise SystemExit(f"{urls[0]} answered {status} for {who}")
            print(line(who, name, entry), flush=True)
            if "explain" in entry:
                print("    " + entry["slowest_sql"][:600])
                print("    " + entry["explain"].replace("\n", "\n    ")[:6000])
            results.setdefault(who, {})[name] = entry
    path = write_results("pages", args.label, results)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
