"""The key-person gaps at scale (decision 0020): the nightly rebuild and the supervisor's list page.

    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 1000000 &&
                                 python benchmarks/keyperson_bench.py'

Each run rebuilds every gap (`keypersons.refresh`: a DELETE and two INSERT … SELECT in one transaction) and
one customer's (what a contact write adds), then reads the first and a deep page of both lists as the
province supervisor and as the 广州 city supervisor would (the capped count and the page's rows), and the
360 page's map for the demo manager's biggest customer. Prints each run and the medians.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from jiketong.analytics.queries import CappedPaginator
    from jiketong.customers import keypersons, queries
    from jiketong.customers.models import Customer, GapKind, KeyPersonGap
    from jiketong.org.models import OrgLevel, Staff

    today = timezone.localdate()
    users = get_user_model().objects
    province = Staff.objects.filter(org_unit__level=OrgLevel.PROVINCE, roles__code="supervisor").first()
    readers = [(s.user.username, s.user) for s in [province] if s] + [("supervisor", users.get(username="supervisor"))]
    manager = users.get(username="manager")
    biggest = Customer.objects.filter(owner__user=manager).order_by("grade", "pk").first()
    print(f"database: {connection.vendor}; customers: {Customer.objects.count():,}")
    rebuilds, one, pages, maps = [], [], {}, []
    for run in range(1, args.runs + 1):
        rebuild = timed(lambda: keypersons.refresh(today))
        single = timed(lambda: keypersons.refresh(today, customer_id=biggest.pk))
        rebuilds.append(rebuild)
        one.append(single)
        kept = {kind: KeyPersonGap.objects.filter(kind=kind).count() for kind in GapKind.values}
        line = [f"run {run}: rebuild {rebuild / 1000:.1f} s ({kept}); one customer {single:.0f} ms"]
        for name, user in readers:
            for kind in GapKind.values:
                for number in (1, 200):

                    def page(user=user, kind=kind, number=number):
                        p = CappedPaginator(queries.key_person_gaps(user, kind), 25).get_page(number)
                        list(p.object_list)
                        return p.paginator.count

                    ms = timed(page)
                    pages.setdefault((name, kind, number), []).append(ms)
                    line.append(f"{name} {kind} p{number} {ms:.0f} ms")
        ms = timed(lambda: queries.key_person_map(manager, biggest))
        maps.append(ms)
        line.append(f"360 map {ms:.0f} ms")
        print("; ".join(line))
    print(f"median: rebuild {statistics.median(rebuilds) / 1000:.1f} s; one customer {statistics.median(one):.0f} ms; "
          f"360 map {statistics.median(maps):.0f} ms")  # fmt: skip
    for (name, kind, number), values in pages.items():
        print(f"median: {name} {kind} page {number}: {statistics.median(values):.0f} ms")


if __name__ == "__main__":
    main()
