"""Exports: time to first byte, total time and peak memory of the streamed writers (core.xlsx.stream,
core.exports.stream_csv) against the openpyxl write-only workbook they replaced, for 100k and 1M rows.

    .venv/bin/python benchmarks/exports.py [--rows 100000 1000000] [--writers stream csv openpyxl]

Rows are the customer export's 15 columns (Chinese names, codes, a date, numbers) made in memory, so the figure
is the writer's, not the database's; each case runs in a fresh process so its peak RSS is its own. The database
side is one server-side cursor read in chunks (constant memory, same queries at any size: core/tests/test_exports.py).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["客户编号", "名称", "简称", "统一社会信用代码", "客户类型", "行业", "归属单位", "地址", "规模", "等级",
          "状态", "服务等级", "客户经理", "备份客户经理", "合作起始"]  # fmt: skip


def rows(count: int):
    for n in range(count):
        yield [
            f"GD{n:010d}", f"广州测试集团{n}有限公司", f"测试{n}", f"91440106MA{n:08d}", "企业", "信息技术",
            "越秀区分公司", f"广州市越秀区东风中路{n % 999}号", 50 + n % 500, "B", "在网", "金牌",
            "李晓红", "王强", date(2020, 1 + n % 12, 1 + n % 28),
        ]  # fmt: skip


def one(writer: str, count: int) -> dict:
    import resource

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
    django.setup()
    from jiketong.core import exports, xlsx

    started = time.perf_counter()
    first = None
    size = 0
    if writer == "openpyxl":
        import io

        book = xlsx.Workbook(write_only=True)
        sheet = book.create_sheet("客户")
        sheet.append(HEADER)
        for row in rows(count):
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        first = time.perf_counter() - started  # nothing can be sent before save() has written the whole zip
        size = out.tell()
    else:
        made = rows(count)
        chunks = xlsx.stream("客户", HEADER, made) if writer == "stream" else exports.stream_csv(HEADER, made)
        for n, chunk in enumerate(chunks):
            if first is None and n >= 1:  # the first piece holding rows (the xlsx's first is its fixed parts)
                first = time.perf_counter() - started
            size += len(chunk)
    total = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"writer": writer, "rows": count, "first_byte_s": round(first or total, 3), "total_s": round(total, 1),
            "peak_rss_mb": round(rss), "mb": round(size / 1e6, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--writers", nargs="+", default=["stream", "csv", "openpyxl"])
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    print("| writer | rows | first bytes (s) | total (s) | peak RSS (MB) | file (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for count in args.rows:
        for writer in args.writers:
            env = os.environ | {"PYTHONPATH": str(ROOT)}
            out = subprocess.run([sys.executable, __file__, "--one", writer, str(count)], capture_output=True,
                                 text=True, check=True, env=env, cwd=ROOT).stdout  # fmt: skip
            r = json.loads(out.strip().splitlines()[-1])
            cells = [r["writer"], f"{r['rows']:,}", r["first_byte_s"], r["total_s"], r["peak_rss_mb"], r["mb"]]
            print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
