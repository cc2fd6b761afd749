"""Import throughput: rows per second for the lead import and the archive import, files of N rows.

    JIKETONG_VAR_DIR=/tmp/imports-var sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                              python benchmarks/imports.py --rows 100000 --runs 3'
    PGPORT=55471 scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                              python benchmarks/imports.py --rows 100000 --runs 3'

Needs a demo database (org tree, staff, industries, assignment rules). Generates, in a temporary directory:
- a lead file: N survey rows (单位名称, 统一社会信用代码, 区域编码, 行业, 规模, 预计等级, 联系人, 职务, 联系电话, 需求,
  来源) spread over the province's counties, about 1% of them bad (a wrong check digit, an unknown region);
- an archive file: N customers (集团编号, 客户名称, 统一社会信用代码, 客户类型, 行业, 规模, 地址, 归属单位, 客户等级, …,
  with one key person each: 联系人, 职务, 联系人手机) and a members file of N rows
  (集团编号, 手机号码, 部门, 入网日期…);
each as CSV (UTF-8) and, with --xlsx, as an openpyxl-written workbook (inline strings: the slowest kind to read).

Each run imports the file end to end as the province's supervisor in good-rows mode: read, check, duplicates,
write, audit, assignment, as the task worker would (the service called directly). Between runs the rows the
previous run created are deleted, so every run starts from the same database. Prints each run and the median.
"""

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")

LEAD_HEADER = [
    "单位名称",
    "统一社会信用代码",
    "区域编码",
    "行业",
    "规模",
    "预计等级",
    "联系人",
    "职务",
    "联系电话",
    "需求",
    "来源",
]
ARCHIVE_HEADER = [
    "集团编号", "客户名称", "客户简称", "统一社会信用代码", "客户类型", "行业", "规模", "地址", "归属单位", "客户等级",
    "客户状态", "合作起始日期", "联系人", "职务", "联系人手机",
]  # fmt: skip
KEEP_LAST = False  # --keep-last
MEMBER_HEADER = ["集团编号", "手机号码", "部门", "入网日期", "付费方式", "网络"]
WORDS = "华信达通源盛泰安和兴隆鑫宏伟恒昌瑞丰德嘉博远晟科创智联云海星辰汇邦"
KINDS = ["科技", "商贸", "物流", "建设", "实业", "信息", "电子", "医药", "餐饮", "教育咨询"]
MOBILE_PREFIXES = ["134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "187"]


def uscc(rng: random.Random, region: str, serial: int) -> str:
    from jiketong.core.validators import uscc_check_digit

    first17 = f"91{region}{serial:09d}"
    return first17 + uscc_check_digit(first17)


def company(rng: random.Random, city: str, serial: int) -> str:
    brand = "".join(rng.choice(WORDS) for _ in range(2))
    return f"{city}{brand}{serial}{rng.choice(KINDS)}有限公司"


def write_table(path: Path, header: list[str], rows, xlsx: bool, reuse: bool = False) -> Path:
    kept = path.with_suffix(".xlsx" if xlsx else ".csv")
    if reuse and kept.exists() and kept.stat().st_size:  # --files: made by an earlier run
        return kept
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        path = path.with_suffix(".xlsx")
        book.save(path)
        return path
    with open(path.with_suffix(".csv"), "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path.with_suffix(".csv")


def lead_rows(n: int, units: list[tuple[str, str]], industries: list[str], seed: int):
    rng = random.Random(seed)
    for i in range(n):
        code, city = rng.choice(units)
        serial = 700_000_000 + seed * 1_000_000 + i
        credit = uscc(rng, code, serial)
        if i % 100 == 7:
            credit = credit[:17] + ("0" if credit[17] != "0" else "1")  # a wrong check digit
        region = code if i % 100 != 13 else "999999"  # an unknown region
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        yield [company(rng, city, serial), credit, region, rng.choice(industries), str(rng.randint(5, 3000)),
               rng.choice(["", "", "B2", "C", "A2"]), "张" + rng.choice(WORDS), rng.choice(["经理", "主任", "总监"]),
               mobile, rng.choice(["云专线", "集团彩铃", "5G专网", ""]), rng.choice(["网格摸排", "上门拜访", "visit", "导入"])]  # fmt: skip  # noqa: E501


def archive_rows(n: int, units: list[tuple[str, str]], industries: list[str], seed: int):
    rng = random.Random(seed)
    for i in range(n):
        code, city = rng.choice(units)
        serial = 800_000_000 + seed * 1_000_000 + i
        credit = uscc(rng, code, serial)
        if i % 100 == 7:
            credit = credit[:17] + ("0" if credit[17] != "0" else "1")
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        yield [f"B{seed}{i:09d}", company(rng, city, serial), "", credit, rng.choice(["企业", "事业单位", "enterprise"]),  # noqa: E501
               rng.choice(industries), str(rng.randint(5, 3000)), f"{city}人民路{i % 900 + 1}号", code,
               rng.choice(["C", "D", "B2"]), rng.choice(["在网", "潜在"]), "2019-03-01", "李" + rng.choice(WORDS),
               "经理", mobile]  # fmt: skip


def member_rows(n: int, numbers: list[str], seed: int):
    rng = random.Random(seed)
    for i in range(n):
        phone = rng.choice(MOBILE_PREFIXES) + f"{(seed * 7919 + i * 104729) % 100_000_000:08d}"
        yield [numbers[i % len(numbers)], phone, rng.choice(["市场部", "财务部", "办公室"]), "2024-03-01",
               rng.choice(["统付", "个付"]), rng.choice(["本网", "异网"])]  # fmt: skip


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # each run's line as it ends, when the output goes to a file
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true", help="also time the same rows as .xlsx")
    parser.add_argument("--only", choices=["leads", "archive", "members"], action="append")
    parser.add_argument("--files", type=Path, help="keep the generated files in this folder and reuse them "
                        "(an A/B of two checkouts times the same files, made once)")  # fmt: skip
    parser.add_argument(
        "--keep-last",
        action="store_true",
        help="leave the last run's rows (a scratch copy of "
        "the database, dropped after: deleting 100,000 customers takes longer than importing them)",
    )
    args = parser.parse_args()
    global KEEP_LAST
    KEEP_LAST = args.keep_last

    import django

    django.setup()
    from django.db import connection

    from jiketong.customers.models import Industry
    from jiketong.org.models import OrgLevel, OrgUnit, Role, Staff

    supervisor = (
        Staff.objects.filter(roles__code=Role.SUPERVISOR, org_unit__level=OrgLevel.PROVINCE, user__is_active=True)
        .select_related("user", "org_unit")
        .order_by("org_unit__code")
        .first()
    )
    if supervisor is None:
        raise SystemExit("Load a demo first: python -m jiketong demo --groups 10000")
    province = supervisor.org_unit
    counties = OrgUnit.objects.filter(path__startswith=province.path, level=OrgLevel.COUNTY).order_by("code")
    cities = {unit.path: unit.name for unit in OrgUnit.objects.filter(level=OrgLevel.CITY)}
    units = [(unit.code, cities.get(unit.path[: len(unit.path) - OrgUnit.steplen], "")) for unit in counties]
    industries = list(Industry.objects.values_list("name", flat=True))
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the URL configuration, imported by the first notice's link: a
    # one-time ~2 CPU-s of a fresh process (the API's schemas), which a worker pays once, not per import)
    print(f"{connection.vendor}: {args.rows:,} rows per file, as {supervisor.name} ({province.name}), "
          f"{len(units)} counties")  # fmt: skip
    kinds = args.only or ["leads", "archive", "members"]
    with tempfile.TemporaryDirectory() as scratch:
        tmp, reuse = args.files or scratch, args.files is not None
        Path(tmp).mkdir(parents=True, exist_ok=True)
        for xlsx in [False, True] if args.xlsx else [False]:
            if "leads" in kinds:
                path = write_table(Path(tmp) / f"leads-{args.rows}", LEAD_HEADER,
                                   lead_rows(args.rows, units, industries, 1), xlsx, reuse)  # fmt: skip
                bench_leads(path, supervisor.user, args.runs)
            if "archive" in kinds or "members" in kinds:
                path = write_table(Path(tmp) / f"archive-{args.rows}", ARCHIVE_HEADER,
                                   archive_rows(args.rows, units, industries, 2), xlsx, reuse)  # fmt: skip
                numbers = [f"B2{i:09d}" for i in range(args.rows) if i % 100 != 7]
                members = write_table(Path(tmp) / f"members-{args.rows}", MEMBER_HEADER,
                                      member_rows(args.rows, numbers, 3), xlsx, reuse)  # fmt: skip
                bench_archive(path, members if "members" in kinds else None, supervisor.user, args.runs,
                              "archive" in kinds)  # fmt: skip


class Clock:
    """Wall time, this process's CPU time and the database server's (its backend for this connection, read
    from /proc when the server runs on this machine; PostgreSQL only). On a machine shared with other work
    the wall time stretches with the load, the CPU seconds much less: rows per CPU-second of the busier side
    is about what an otherwise idle machine with a core for each side would do (the server inserts while
    this process computes the next rows: core.imports.write_rows)."""

    def __init__(self) -> None:
        from django.db import connection

        self.backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            if Path(f"/proc/{pid}/stat").exists():
                self.backend = pid

    def server_cpu(self) -> float:
        if self.backend is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.backend}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def queued(pid: int | str | None) -> float:
        """Seconds the process has spent runnable but waiting for a core (/proc/<pid>/schedstat)."""
        if pid is None:
            return 0.0
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def start(self) -> None:
        self.wall, self.cpu, self.server = time.perf_counter(), time.process_time(), self.server_cpu()
        self.queue, self.server_queue = self.queued("self"), self.queued(self.backend)

    def stop(self) -> tuple[float, float, float]:
        """(wall, own CPU, server CPU) seconds since start; `self.blocked` and `self.server_idle`: the seconds
        this process waited for the server and the server for this process (wall less CPU less the time each
        waited for a core on a loaded machine), how much of each side's work the other did not overlap."""
        wall = time.perf_counter() - self.wall
        cpu, server = time.process_time() - self.cpu, self.server_cpu() - self.server
        self.blocked = max(0.0, wall - cpu - (self.queued("self") - self.queue))
        self.server_idle = max(0.0, wall - server - (self.queued(self.backend) - self.server_queue))
        return wall, cpu, server


def cpu_note(rows: int, cpu: float, server: float, clock: "Clock | None" = None) -> str:
    text = f"CPU: python {cpu:.2f} s"
    if server:
        text += f", server {server:.2f} s"
    text += f" = {rows / max(cpu, server, 1e-9):,.0f} rows per CPU-second of the busier side"
    if clock is not None and server:
        text += f"; python waited {clock.blocked:.2f} s for the server, the server {clock.server_idle:.2f} s for python"
    return text


def report(label: str, path: Path, rates: list[float], cpu_rates: list[float] | None = None) -> None:
    cpu = f", {statistics.median(cpu_rates):,.0f} rows per CPU-second" if cpu_rates else ""
    print(f"{label} ({path.suffix}, {path.stat().st_size / 1e6:.1f} MB): median {statistics.median(rates):,.0f} rows/s "
          f"over {len(rates)} runs{cpu}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def bench_leads(path: Path, user, runs: int) -> None:
    from jiketong.core.models import AuditEvent, Notification
    from jiketong.sales import services
    from jiketong.sales.models import Lead

    rates, cpu_rates = [], []
    clock = Clock()
    for k in range(runs):
        before_lead = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        before_audit = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        before_note = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        clock.start()
        started = time.perf_counter()
        rows = services.read_lead_file(path)
        read = time.perf_counter() - started
        result = services.leads_import(actor=user, rows=rows, all_or_nothing=False)
        elapsed, cpu, server = clock.stop()
        rates.append(len(rows) / elapsed)
        cpu_rates.append(len(rows) / max(cpu, server))
        print(f"  leads run {k + 1}: {len(rows):,} rows in {elapsed:.2f} s (read {read:.2f} s) = "
              f"{len(rows) / elapsed:,.0f} rows/s; {result.done:,} imported, {len(result.errors):,} refused; "
              f"{cpu_note(len(rows), cpu, server, clock)}")  # fmt: skip  # noqa: E501
        if k + 1 < runs or not KEEP_LAST:
            delete_after([(Lead, before_lead), (AuditEvent, before_audit), (Notification, before_note)])
    report("lead import", path, rates, cpu_rates)


def delete_after(models: list[tuple]) -> None:
    """Remove the rows a run added past each model's last id, by plain DELETEs (the ORM's collector asks every
    related table about 100,000 contacts in batches and takes minutes, the cleanup, not the import); when
    something else came to point at them, the ORM's delete after all."""
    from django.db import IntegrityError, connection, transaction

    for model, pk in models:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                column = connection.ops.quote_name(model._meta.pk.column)
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {column} > %s",
                               [pk])  # fmt: skip
        except IntegrityError:
            model.objects.filter(pk__gt=pk).delete()


def delete_customers_after(pk: int) -> None:
    """Remove the customers a run created. A plain DELETE of their key-person gaps and then of them (the ORM's
    collector walks every relation of 100,000 customers one by one and takes minutes on a loaded machine);
    if something else came to point at them, the ORM's delete after all."""
    from django.db import IntegrityError, connection, transaction

    from jiketong.customers.models import Customer, KeyPersonGap

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for model, column in ((KeyPersonGap, "customer_id"), (Customer, "id")):
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {column} > %s", [pk])
    except IntegrityError:
        Customer.objects.filter(pk__gt=pk).delete()


def bench_archive(path: Path, members: Path | None, user, runs: int, customers: bool) -> None:
    from jiketong.core.models import AuditEvent, Event
    from jiketong.customers import imports
    from jiketong.customers.models import Contact, Customer, CustomerImportRun, GradeChange, Member

    clock = Clock()

    def run_file(file: Path, match: str, action: str, cpu_rates: list[float]):
        run = imports.import_path(actor=user, path=file, mode="good", match=match, action=action)
        clock.start()
        run = imports.run_archive_import(run.pk)
        elapsed, cpu, server = clock.stop()
        cpu_rates.append(run.rows_total / max(cpu, server))
        return run, elapsed, cpu_note(run.rows_total, cpu, server, clock)

    rates, member_rates, cpu_rates, member_cpu_rates = [], [], [], []
    for k in range(runs):
        before = {model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                  for model in (Customer, Contact, Member, GradeChange, AuditEvent, Event)}  # fmt: skip
        run, elapsed, note = run_file(path, "uscc", "upsert", cpu_rates)
        rates.append(run.rows_total / elapsed)
        print(f"  archive run {k + 1}: {run.rows_total:,} rows in {elapsed:.2f} s = {run.rows_total / elapsed:,.0f} rows/s; "  # noqa: E501
              f"{run.counts}, {run.rows_bad:,} refused; {note}")  # fmt: skip
        if members is not None:
            run, elapsed, note = run_file(members, "number", "update", member_cpu_rates)
            member_rates.append(run.rows_total / elapsed)
            print(f"  members run {k + 1}: {run.rows_total:,} rows in {elapsed:.2f} s = "
                  f"{run.rows_total / elapsed:,.0f} rows/s; {run.counts['members']:,} members, {run.rows_bad:,} refused; {note}")  # fmt: skip  # noqa: E501
        if k + 1 == runs and KEEP_LAST:
            break
        delete_after([(model, before[model]) for model in (Member, Contact, GradeChange, AuditEvent, Event)])
        delete_customers_after(before[Customer])
        CustomerImportRun.objects.all().delete()
    if customers:
        report("archive import (customers + key persons)", path, rates, cpu_rates)
    if members is not None:
        report("archive import (members)", members, member_rates, member_cpu_rates)


if __name__ == "__main__":
    main()
