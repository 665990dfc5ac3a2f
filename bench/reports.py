"""Report benchmark (issue 11, "Speed"): ``python -m bench.reports [--workers 3000]``; writes a markdown report
to bench/results/reports-<time>.md.

1. 2-4 (就業履歴一覧 月別カレンダー) for one employer with ``--workers`` workers over one month (20 days each):
   - Excel: the report (rows from the database + the shared writer) ÷ openpyxl write-only writing the same cells
     (plain ws.append of the materialised rows), same run; target ≤ 1.3;
   - PDF: the report (rows + template + WeasyPrint) ÷ WeasyPrint rendering the same HTML, same run; target ≤ 1.2;
   - peak memory (max RSS) of each, every phase measured in its own forked process.
2. 2-3 for one worker on screen (GET /reports/2-3/ as the worker) on the demo database: p50 / p95 of
   ``--requests`` requests; target p95 < 100 ms.
SQLite in a temporary folder by default, or ``--url`` (an empty PostgreSQL database)."""
from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def seed_employer(url: str, workers: int, year: int, month: int) -> int:
    """One prime employer, one site, ``workers`` workers each with 20 days of counted history in the month."""
    from flask_appbuilder import Model
    from sqlalchemy import create_engine, insert

    import portal.models  # noqa: F401
    from portal.people import codes
    from portal.app.db import session_factory
    from portal.demo import make_id
    from portal.models import Affiliation, Employer, Site, Worker, WorkerInsurance, WorkHistory
    from portal.people.scoping import ALL, using_scope

    engine = create_engine(url)
    Model.metadata.create_all(engine)
    rng, taken = random.Random(11), set()
    session = session_factory(engine)()
    with using_scope(session, ALL):
        codes.seed(session)
        employer = Employer(employer_id=make_id(rng, "22", taken), name="(株)ベンチ建設", corporate_type="法人")
        session.add(employer)
        session.flush()
        site = Site(site_id=make_id(rng, "71", taken), name="ベンチ現場工事", prime_employer_id=employer.id, approved=True)
        session.add(site)
        session.commit()
        employer_id, site_id = employer.id, site.id
    with engine.begin() as c:
        rows = [{"worker_id": make_id(rng, "21", taken), "name": f"技能者 {n:05d}", "name_kana": f"ギノウシャ {n:05d}",
                 "level": 1 + n % 4, "registration_type": "詳細型", "identity_document": True} for n in range(workers)]
        c.execute(insert(Worker.__table__), rows)
        ids = [r[0] for r in c.execute(Worker.__table__.select().with_only_columns(Worker.__table__.c.id))]
        c.execute(insert(Affiliation.__table__), [{"worker_id": w, "employer_id": employer_id, "status": "承認済",
                                                   "is_primary": True} for w in ids])
        c.execute(insert(WorkerInsurance.__table__), [
            {"worker_id": w, "health_status": "加入", "pension_status": "加入", "employment_status": "加入",
             "kentaikyo": w % 3 == 0, "chutaikyo": False, "rousai_special": False} for w in ids])
        days = [datetime.date(year, month, d) for d in range(1, 29) if datetime.date(year, month, d).weekday() < 5][:20]
        history = [{"worker_id": w, "site_id": site_id, "employer_id": employer_id, "work_date": d, "position": "一般",
                    "work_content": "型枠工事", "hazardous_work": False, "methods": rng.choice(["IC", "顔", "IC,直接"]),
                    "counted": True, "valid_for_evaluation": True,
                    "updated_at": datetime.datetime.now(datetime.timezone.utc)} for w in ids for d in days]
        for i in range(0, len(history), 5000):
            c.execute(insert(WorkHistory.__table__), history[i:i + 5000])
    engine.dispose()
    return employer_id


def _viewer(session, employer_id: int):
    from portal.people.scoping import ROLE_EMPLOYER, employer_scope, using_scope
    from portal.people.scoping import ALL
    from reports.base import Viewer

    with using_scope(session, ALL):
        scope = employer_scope(session, employer_id)
    return Viewer(user_id=None, username="bench", display_name="ベンチ 責任者", role=ROLE_EMPLOYER, scope=scope,
                  employer_id=employer_id)


def _phase(kind: str, url: str, employer_id: int, ym: str, out: str, queue) -> None:
    """One measurement in its own process (its max RSS is its peak)."""
    from sqlalchemy import create_engine

    import reports
    from portal.app.clock import now
    from portal.app.db import session_factory
    from portal.people.scoping import using_scope
    from reports.base import parse_params
    from reports.writers import render_html, write_pdf, write_xlsx

    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # once per process (a worker has done it long before its first job), not the report's
    engine = create_engine(url)
    session = session_factory(engine)()
    viewer = _viewer(session, employer_id)
    report, params = reports.get("2-4"), parse_params({"month": ym}, datetime.date.today())
    with using_scope(session, viewer.scope):
        if kind in ("xlsx-baseline", "xlsx-writer", "pdf-baseline"):  # the inputs of the baseline, made before the clock starts
            output = report.build(session, viewer, params)
            cells = [list(r) for r in output.rows]
            output.rows = cells
            html = render_html(report, output, viewer, now()) if kind == "pdf-baseline" else None
        started = time.perf_counter()
        if kind == "xlsx":
            write_xlsx(Path(out), report, report.build(session, viewer, params), viewer, now())
        elif kind == "pdf":
            write_pdf(Path(out), report, report.build(session, viewer, params), viewer, now())
        elif kind == "xlsx-writer":  # the shared writer alone, on the same materialised rows
            write_xlsx(Path(out), report, output, viewer, now())
        elif kind == "xlsx-baseline":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("2-4")
            ws.append([c.label for c in output.columns])
            for row in cells:
                ws.append(row)
            wb.save(out)
        elif kind == "pdf-baseline":
            from weasyprint import HTML

            HTML(string=html).write_pdf(out)
        seconds = time.perf_counter() - started
    queue.put((kind, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, Path(out).stat().st_size))


def measure(kind: str, url: str, employer_id: int, ym: str, folder: Path) -> tuple:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_phase, args=(kind, url, employer_id, ym, str(folder / f"{kind}.out"), queue))
    p.start()
    result = queue.get(timeout=3600)
    p.join()
    return result


def screen_latency(requests: int, folder: Path) -> dict:
    """GET /reports/2-3/ as a demo worker, on the demo database (SQLite)."""
    from flask_appbuilder import Model
    from sqlalchemy import create_engine

    import portal.models  # noqa: F401
    from portal import demo
    from portal.app.db import db
    from portal.demo.testing import login, make_app

    url = f"sqlite:///{folder / 'demo.db'}"
    engine = create_engine(url)
    Model.metadata.create_all(engine)
    engine.dispose()
    app = make_app(url, folder / "instance")
    with app.app_context():
        logins = demo.build(db.session, app.appbuilder.sm)
    entry = next(e for e in logins if e["role"] == "worker")
    client = app.test_client()
    login(client, entry["login"], entry["password"])
    last = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    path = f"/reports/2-3/?month={last:%Y-%m}"
    assert client.get(path).status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "max": times[-1], "n": requests}


def _load(avg) -> str:
    return " / ".join(f"{v:.2f}" for v in avg)


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--url", default=None, help="an empty database (default: SQLite in a temporary folder)")
    parser.add_argument("--skip-screen", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the Excel phases (the median is reported)")
    parser.add_argument("--pdf-repeat", type=int, default=1, help="rounds of the PDF phases (0: none)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ccus-bench-reports-"))
    os.environ.setdefault("CCUS_INSTANCE", str(folder / "instance"))
    url = args.url or f"sqlite:///{folder / 'bench.db'}"
    last = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    ym = f"{last:%Y-%m}"
    started = time.perf_counter()
    employer_id = seed_employer(url, args.workers, last.year, last.month)
    seeded = time.perf_counter() - started
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # each phase's child starts with it
    load_before = os.getloadavg()
    kinds = ("xlsx-baseline", "xlsx-writer", "xlsx", "pdf-baseline", "pdf")
    # Excel's rounds first, then PDF's (WeasyPrint takes minutes for 3,000 lines on a loaded machine)
    rounds = [{kind: measure(kind, url, employer_id, ym, folder) for kind in kinds[:3]} for _ in range(max(1, args.repeat))]
    for r in rounds[:max(0, args.pdf_repeat)]:
        r.update({kind: measure(kind, url, employer_id, ym, folder) for kind in kinds[3:]})
    # the median round of each phase (a shared machine's load moves between rounds); ratios per round as well
    results = {kind: sorted((r[kind] for r in rounds if kind in r), key=lambda m: m[1])[
        len([r for r in rounds if kind in r]) // 2] for kind in kinds if any(kind in r for r in rounds)}
    load_after = os.getloadavg()
    screen = None if args.skip_screen else screen_latency(args.requests, folder)
    xlsx_ratio = results["xlsx"][1] / results["xlsx-baseline"][1]
    pdf_ratio = results["pdf"][1] / results["pdf-baseline"][1] if "pdf" in results else None
    lines = [f"# Report benchmark {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
             f"code {_commit()}; database {url.split(':', 1)[0]}; {args.workers} workers × 20 days "
             f"({args.workers * 20} histories), seeded in {seeded:.1f} s; load average (1/5/15 min) before the "
             f"phases {_load(load_before)}, after {_load(load_after)}.", "",
             f"Each phase in its own forked process (it starts from the parent's {parent_rss:.0f} MB peak RSS); "
             f"{len(rounds)} round(s) of Excel, {min(len(rounds), max(0, args.pdf_repeat))} of PDF, the median shown.", "",
             "| 2-4, one month | seconds | peak RSS MB | file KB |", "|---|---|---|---|"]
    labels = {"xlsx": "Excel: report (rows + writer)", "xlsx-writer": "Excel: the shared writer alone, same cells", "xlsx-baseline": "openpyxl write-only, same cells",
              "pdf": "PDF: report (rows + template + WeasyPrint)", "pdf-baseline": "WeasyPrint, same HTML"}
    for kind, (_k, seconds, rss, size) in results.items():
        lines.append(f"| {labels[kind]} | {seconds:.2f} | {rss:.0f} | {size / 1024:.0f} |")
    writer_ratio = results["xlsx-writer"][1] / results["xlsx-baseline"][1]
    lines += ["", f"Excel ratio {xlsx_ratio:.2f} (target ≤ 1.3): {'met' if xlsx_ratio <= 1.3 else 'NOT met'} "
                  f"(the writer alone {writer_ratio:.2f}; the rest is reading the month from the database); "
                  + (f"PDF ratio {pdf_ratio:.2f} (target ≤ 1.2): {'met' if pdf_ratio <= 1.2 else 'NOT met'}."
                     if pdf_ratio is not None else "PDF not measured (--pdf-repeat 0).")]
    if len(rounds) > 1:
        lines += ["", "Per round: " + "; ".join(
            f"Excel {r['xlsx'][1] / r['xlsx-baseline'][1]:.2f} (writer alone {r['xlsx-writer'][1] / r['xlsx-baseline'][1]:.2f})"
            + (f", PDF {r['pdf'][1] / r['pdf-baseline'][1]:.2f}" if "pdf" in r else "") for r in rounds) + "."]
    if screen:
        lines += ["", f"2-3 on screen (GET /reports/2-3/ as a demo worker, {screen['n']} requests): p50 {screen['p50']:.1f} ms, "
                      f"p95 {screen['p95']:.1f} ms, max {screen['max']:.1f} ms (target p95 < 100 ms: "
                      f"{'met' if screen['p95'] < 100 else 'NOT met'})."]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"reports-{datetime.datetime.now():%Y%m%d-%H%M%S}.md"
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
