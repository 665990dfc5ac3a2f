"""Safety-form benchmark (issue 12, "Speed"): ``python -m bench.safety [--workers 1000] [--companies 300]``; writes a
markdown report to bench/results/safety-<time>.md.

1. 作業員名簿 (AZ6) of ``--workers`` workers, every cell filled:
   - Excel: reports.safety.roster_files.write_xlsx ÷ openpyxl write-only appending the same cells (values only,
     the same rows in the same order), same run; target ≤ 1.3;
   - PDF: write_pdf (the template + WeasyPrint) ÷ WeasyPrint rendering the same HTML, same run; target ≤ 1.2.
2. 施工体系図 (AZ2) of ``--companies`` companies (a 1次 with 2次/3次 below, 4 children a parent): layout + Excel +
   SVG pages + PDF, wall time; target < 2 s.
The forms are built in memory (the dataclasses the builders return), so what is measured is the writers: the
database part (roster.build through may_see) is the 帳票 bench's subject (bench.reports)."""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def roster_of(workers: int):
    from reports.safety.roster import CELLS, Roster

    day = datetime.date(2026, 12, 1)
    rows = []
    for n in range(workers):
        w = {key: f"値{n:05d}{key[:4]}" for key in CELLS}
        w.update(number=n + 1, worker_code=f"{21000000000000 + n}", hired_on=datetime.date(2015, 4, 1),
                 birth_date=datetime.date(1980, 1, 1 + n % 28), entered_on=day, entry_education_on=day)
        rows.append(w)
    return Roster(site_name="ベンチ現場工事", site_code="71000000000001", site_agent="所長 太郎", company="(株)ベンチ建設",
                  company_code="22000000000001", tier=1, first_tier="(株)ベンチ建設（22000000000001）", day=day,
                  workers=rows, worker_pks=set(range(workers)))


def baseline_xlsx(path: Path, roster) -> None:
    from openpyxl import Workbook

    from reports.safety.roster_files import _grid

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("作業員名簿")
    for w in roster.workers:
        for line in _grid(w):
            ws.append(line)
    wb.save(path)


def tree_of(companies: int):
    from reports.safety.tree import Box, Tree, layout

    boxes = {0: Box(0, "(株)元請", "41000000000000", 0, None, ["許可 建築一式工事業", "監理技術者 技術 太郎"])}
    queue, n = [0], 1
    while n < companies:
        parent = queue.pop(0)
        for _ in range(4):
            if n >= companies:
                break
            tier = boxes[parent].tier + 1
            boxes[n] = Box(n, f"(株)協力{n:03d}", f"{66000000000000 + n}", tier, parent,
                           ["許可 とび・土工・コンクリート工事業", "主任技術者 技術 次郎", "安全衛生責任者 安全 三郎"])
            boxes[parent].children.append(n)
            if tier < 4:
                queue.append(n)
            n += 1
    order = layout(boxes, 0)
    return Tree(site_name="ベンチ現場工事", site_code="71000000000001", prime="(株)元請（41000000000000）", client="発注者",
                period="2026/04/01〜2027/03/31", day=datetime.date(2026, 12, 1), boxes=order,
                rows=max(b.row for b in order) + 1)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    from weasyprint import HTML

    from reports.safety import roster_files, tree_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf-repeat", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ccus-bench-safety-"))
    roster_files.write_xlsx(folder / "warm.xlsx", roster_of(10))  # imports and first-use costs, measured by neither side
    baseline_xlsx(folder / "warm-base.xlsx", roster_of(10))
    roster = roster_of(args.workers)
    xlsx = timed(lambda: roster_files.write_xlsx(folder / "az6.xlsx", roster), args.repeat)
    base_xlsx = timed(lambda: baseline_xlsx(folder / "base.xlsx", roster), args.repeat)
    lines = [f"# Safety-form benchmark {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             f"| machine | {platform.processor() or platform.machine()}, Python {platform.python_version()} |",
             "| --- | --- |", "",
             "| measurement | value | target |", "| --- | --- | --- |",
             f"| AZ6 Excel, {args.workers} workers (median of {args.repeat}) | {xlsx:.2f} s | |",
             f"| openpyxl write-only, same cells | {base_xlsx:.2f} s | |",
             f"| Excel ratio | {xlsx / base_xlsx:.2f} | ≤ 1.3 |"]
    if args.pdf_repeat:
        html = roster_files.render_html(roster)
        pdf = timed(lambda: roster_files.write_pdf(folder / "az6.pdf", roster), args.pdf_repeat)
        base_pdf = timed(lambda: HTML(string=html, base_url=str(roster_files.TEMPLATES)).write_pdf(str(folder / "base.pdf")),
                         args.pdf_repeat)
        lines += [f"| AZ6 PDF | {pdf:.2f} s | |", f"| WeasyPrint, same HTML | {base_pdf:.2f} s | |",
                  f"| PDF ratio | {pdf / base_pdf:.2f} | ≤ 1.2 |"]

    def whole_tree():
        tree = tree_of(args.companies)
        tree_files.write_xlsx(folder / "az2.xlsx", tree)
        tree_files.write_pdf(folder / "az2.pdf", tree)

    tree_time = timed(whole_tree, 1)
    lines.append(f"| AZ2 {args.companies} companies: layout + Excel + SVG/PDF | {tree_time:.2f} s | < 2 s |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"safety-{datetime.datetime.now():%Y%m%d-%H%M%S}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
