"""Reports (issue 11): the registry follows the guide's table, every format is read back by a reader other than
its writer (csv, python-calamine, pdftotext / pypdf + fontTools) and compared with the database, per role;
roles the table does not name get 403 for every report, format and job; every export is in the audit trail."""
from __future__ import annotations

import csv
import datetime
import io
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

import reports
from portal.output import work_calendar
from portal.app.clock import tokyo_today
from portal.models import AuditLog, ReportJob, Worker, WorkHistory
from portal.people.scoping import ALL, ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, using_scope
from portal.demo.testing import login_of
from reports.writers import write_csv_rows

GUIDE = {  # the guide's table (帳票NO, name, who may see or print it)
    "1-1": ("技能者情報", {ROLE_WORKER, ROLE_EMPLOYER}),
    "1-2": ("所属技能者一覧", {ROLE_EMPLOYER}),
    "1-3": ("所属技能者統計情報", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "1-4": ("施工体制登録技能者一覧", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "2-1": ("就業履歴(月別計)", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "2-2": ("就業履歴一覧(月別集約)", {ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "2-3": ("就業履歴(月別カレンダー)", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "2-4": ("就業履歴一覧(月別カレンダー)", {ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "3-1": ("事業者情報", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "3-2": ("下位事業者一覧", {ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "3-3": ("施工体制登録事業者一覧", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "4-1": ("現場・契約情報", {ROLE_WORKER, ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
    "4-2": ("自社に関する現場一覧", {ROLE_EMPLOYER, ROLE_SITE_MANAGER}),
}
LOGIN_ROLE = {"worker": ROLE_WORKER, "employer": ROLE_EMPLOYER, "prime": ROLE_EMPLOYER,
              "site_manager": ROLE_SITE_MANAGER, "admin": ROLE_ADMIN}
FORMATS = ("csv", "xlsx", "pdf")


def last_month() -> str:
    return f"{tokyo_today().replace(day=1) - datetime.timedelta(days=1):%Y-%m}"


def wait_job(client, job_id: int, timeout: float = 90) -> dict:
    deadline = time.time() + timeout
    status = {}
    while time.time() < deadline:
        r = client.get(f"/reports/jobs/{job_id}/status")
        assert r.status_code == 200, r.get_data(as_text=True)
        status = r.get_json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def export(client, report_id: str, fmt: str, **params):
    r = client.post(f"/reports/{report_id}/export", data={"format": fmt, **params})
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    job_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    return job_id, wait_job(client, job_id)


def produced(client, report_id: str, fmt: str, tmp_path: Path, **params) -> Path:
    job_id, status = export(client, report_id, fmt, **params)
    assert status["status"] == "done", status
    assert status["rows_done"] == status["rows_total"] and status["percent"] == 100
    r = client.get(status["download"])
    assert r.status_code == 200
    path = tmp_path / f"{report_id}-{job_id}.{fmt}"
    path.write_bytes(r.data)
    return path


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(path: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_index(0).to_python()


def pdf_text(path: Path) -> str:
    """The PDF's text (poppler), after checking that every character of it has a glyph in an embedded font."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    missing = missing_glyphs(path, text)
    assert not missing, f"characters without a glyph in the embedded fonts (tofu): {sorted(missing)}"
    return text


def embedded_fonts(path: Path) -> list[tuple[str, set]]:
    """(name, characters its embedded program maps) for every font of every page (pypdf + fontTools)."""
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    found = []
    for page in PdfReader(str(path)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)["/FontDescriptor"].get_object()
            key = next(k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor)  # embedded, or fail
            program = TTFont(io.BytesIO(descriptor[key].get_object().get_data()))
            found.append((str(font["/BaseFont"]), {chr(c) for c in (program.getBestCmap() or {})}))
    return found


def missing_glyphs(path: Path, text: str) -> set:
    import unicodedata

    covered = set().union(*(chars for _name, chars in embedded_fonts(path)))
    # a compatibility form (⽬ for 目) is the same glyph under another code point
    return {c for c in text if not c.isspace() and c not in covered and unicodedata.normalize("NFKC", c) not in covered
            and not any(unicodedata.normalize("NFKC", k) == c for k in covered)}


def worker_pk(app, code: str) -> int:
    from portal.app.db import db

    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(Worker.id).where(Worker.worker_id == code)).scalar_one()


def expected_calendar(app, worker_id: int, ym: str) -> dict:
    """From the database, not from the report code: day → marks, and the counted / not-counted totals."""
    from portal.app.db import db

    year, month = (int(p) for p in ym.split("-"))
    first, last = work_calendar.month_bounds(year, month)
    with app.app_context(), using_scope(db.session, ALL):
        rows = db.session.execute(select(WorkHistory).where(
            WorkHistory.worker_id == worker_id, WorkHistory.work_date.between(first, last))).scalars().all()
        return {"cells": {(h.counted, h.work_date.day): "/".join(work_calendar.marks(h.methods)) for h in rows},
                "counted": sum(1 for h in rows if h.counted), "not_counted": sum(1 for h in rows if not h.counted)}


# --- the registry and the writers -----------------------------------------------------------------------------

def test_registry_is_the_guides_table():
    found = reports.load()
    assert set(found) == set(GUIDE)
    for report_id, (title, roles) in GUIDE.items():
        assert found[report_id].title == title
        assert found[report_id].roles == roles | {ROLE_ADMIN}, report_id


def test_csv_cells_that_start_a_formula_are_escaped():
    out = io.StringIO(newline="")
    write_csv_rows(out, ["a", "b", "c", "d", "e", "f", "g", "h"],
                   [['=HYPERLINK("http://x","y")', "+81 3", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd", -5, "東京"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+81 3", "'-1+2", "'@SUM(A1)", "'\tcmd", "'\rcmd", "-5", "東京"]


def test_worker_information_csv_escapes_an_address_formula(demo_app, client_for):
    """issue 15: an address set to =HYPERLINK(…) reaches the CSV as text, on the shared CSV writer."""
    from portal.app.db import db
    from portal.models import WorkerPersonal

    client, entry = client_for("worker", 1)
    pk = worker_pk(demo_app, entry["worker_id"])
    with demo_app.app_context(), using_scope(db.session, ALL):
        personal = db.session.execute(select(WorkerPersonal).where(WorkerPersonal.worker_id == pk)).scalar_one()
        personal.address = '=HYPERLINK("http://evil.example","click")'
        db.session.commit()
    body = client.get(f"/worker-information/{entry['worker_id']}/csv").data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    addresses = [r[2] for r in rows if r[1] == "現住所"]
    assert addresses == ["'=HYPERLINK(\"http://evil.example\",\"click\")"]


# --- per role: files read back and compared with the database -------------------------------------------------

@pytest.mark.parametrize("role,index", [("worker", 1), ("employer", 1), ("prime", 0)])
def test_calendar_2_3_in_every_format_matches_the_database(demo_app, client_for, tmp_path, role, index):
    client, entry = client_for(role, index)
    meguro = login_of(demo_app, "worker", 1)["worker_id"]  # on site A for (株)基金建設, below 基金一次 and 元請A
    pk = worker_pk(demo_app, meguro)
    ym = last_month()
    expected = expected_calendar(demo_app, pk, ym)
    assert expected["counted"] > 0
    params = {"month": ym, "worker": pk}
    days = work_calendar.month_days(*(int(p) for p in ym.split("-")))

    rows = read_csv(produced(client, "2-3", "csv", tmp_path, **params))
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    day_col = {d: header.index(f"{d}({wd})") for d, wd in days}
    got = {(line[4] == "計上", d): line[day_col[d]] for line in lines for d, _ in days if line[day_col[d]]}
    assert got == expected["cells"]
    assert {line[0] for line in lines} == {meguro}
    assert int(total[header.index("現場登録済(計上)")]) == expected["counted"]
    assert int(total[header.index("現場未承認(非計上)")]) + int(total[header.index("現場未登録(非計上)")]) == expected["not_counted"]
    kentaikyo = {line[header.index("建退共加入状況")] for line in lines}
    assert kentaikyo == {"加入"}  # meguro joined 建退共; own employer and roster primes may see it (作業員名簿 item)

    sheet = read_xlsx(produced(client, "2-3", "xlsx", tmp_path, **params))
    assert sheet[0][0] == "2-3 就業履歴(月別カレンダー)"
    xheader = sheet[2]
    assert xheader == header
    xlines = sheet[3:-1]
    assert {(line[4] == "計上", d): line[day_col[d]] for line in xlines for d, _ in days if line[day_col[d]]} == expected["cells"]
    counted_col = xheader.index("現場登録済(計上)")
    assert sheet[-1][counted_col] == expected["counted"] and isinstance(sheet[-1][counted_col], (int, float))

    text = pdf_text(produced(client, "2-3", "pdf", tmp_path, **params))
    assert "2-3 就業履歴(月別カレンダー)" in text and "目黒 一郎" in text and meguro in text
    import re

    assert re.search(r"\b1\s*/\s*1\b", text) and "出力日時" in text and entry["login"] in text


def test_calendar_2_4_lists_the_employers_workers_in_the_database(demo_app, client_for, tmp_path):
    from portal.app.db import db
    from portal.models import Employer

    client, entry = client_for("employer", 1)  # (株)基金建設
    ym = last_month()
    year, month = (int(p) for p in ym.split("-"))
    first, last = work_calendar.month_bounds(year, month)
    with demo_app.app_context(), using_scope(db.session, ALL):
        employer = db.session.execute(select(Employer).where(Employer.employer_id == entry["employer_id"])).scalar_one()
        expected = set(db.session.execute(select(Worker.worker_id).join(WorkHistory, WorkHistory.worker_id == Worker.id).where(
            WorkHistory.employer_id == employer.id, WorkHistory.work_date.between(first, last))).scalars())
        counted = db.session.execute(select(WorkHistory).where(
            WorkHistory.employer_id == employer.id, WorkHistory.work_date.between(first, last),
            WorkHistory.counted.is_(True))).scalars().all()
    assert expected
    rows = read_csv(produced(client, "2-4", "csv", tmp_path, month=ym))
    header = rows[0]
    assert {r[0] for r in rows[1:-1]} == expected
    assert int(rows[-1][header.index("現場登録済(計上)")]) == len(counted)
    sheet = read_xlsx(produced(client, "2-4", "xlsx", tmp_path, month=ym))
    assert {r[0] for r in sheet[3:-1]} == expected
    text = pdf_text(produced(client, "2-4", "pdf", tmp_path, month=ym))
    for code in expected:
        assert code in text


def test_worker_information_1_1_as_the_worker_and_its_employer(demo_app, client_for, tmp_path):
    worker = login_of(demo_app, "worker", 1)
    pk = worker_pk(demo_app, worker["worker_id"])
    for role, index in (("worker", 1), ("employer", 1)):
        client, _entry = client_for(role, index)
        rows = read_csv(produced(client, "1-1", "csv", tmp_path, worker=pk))
        assert rows[1] == ["技能者ID", "技能者ID", worker["worker_id"]]
        assert ["氏名（フリガナ・Name・通称名）", "技能者氏名", "目黒 一郎"] in rows
        past = [r for r in rows if r[0] == "過去の所属事業者"]
        assert past == [["過去の所属事業者", "", "非開示"]] if role == "employer" else past[0][2] != "非開示"
    # the prime of site A is not the 所属事業主: 1-1 is refused (it opens the 技能者情報 screen instead)
    client, _entry = client_for("prime", 0)
    r = client.post("/reports/1-1/export", data={"format": "csv", "worker": pk})
    assert r.status_code == 403 and "権限" in r.get_data(as_text=True)


@pytest.mark.parametrize("report_id", ["1-2", "1-3", "1-4", "2-1", "2-2", "3-1", "3-2", "3-3", "4-1", "4-2"])
def test_every_other_report_reads_back_in_every_format(demo_app, client_for, tmp_path, report_id):
    role = "employer" if report_id in ("1-2",) else "prime"
    if report_id in ("1-3", "1-4", "2-1", "3-1", "3-3", "4-1"):
        role = "worker"
    client, entry = client_for(role, 1 if role == "worker" else 0)
    params = {"month": last_month()}
    rows = read_csv(produced(client, report_id, "csv", tmp_path, **params))
    assert len(rows) > 1, rows
    sheet = read_xlsx(produced(client, report_id, "xlsx", tmp_path, **params))
    assert sheet[2] == rows[0]
    assert len(sheet) - 3 == len(rows) - 1
    for xrow, crow in zip(sheet[3:], rows[1:]):  # same values; Excel keeps numbers and dates typed
        for x, c in zip(xrow, crow):
            if isinstance(x, (datetime.date, datetime.datetime)):  # a moment at midnight may read back as a date
                assert c.startswith(f"{x:%Y/%m/%d}")
            elif isinstance(x, float):
                assert float(c) == x
            else:
                assert str(x) == c.lstrip("'") or (x == "" and c == "")
    text = pdf_text(produced(client, report_id, "pdf", tmp_path, **params))
    assert f"{report_id} {reports.get(report_id).title}" in text


def test_a_worker_sees_only_itself_in_1_4_and_2_1(demo_app, client_for, tmp_path):
    client, entry = client_for("worker", 1)
    other = worker_pk(demo_app, login_of(demo_app, "worker", 2)["worker_id"])
    rows = read_csv(produced(client, "1-4", "csv", tmp_path))
    assert {r[2] for r in rows[1:]} == {entry["worker_id"]}
    # a crafted worker parameter is ignored: 2-1 / 2-3 are the worker's own (本人のみ)
    rows = read_csv(produced(client, "2-3", "csv", tmp_path, month=last_month(), worker=other))
    assert {r[0] for r in rows[1:-1]} == {entry["worker_id"]}


def test_reports_show_only_disclosed_items_to_a_prime(demo_app, client_for, tmp_path):
    """1-4 for the prime of site A: roster items (社会保険) of workers on its site, never the 1-2 list."""
    client, entry = client_for("prime", 0)
    rows = read_csv(produced(client, "1-4", "csv", tmp_path))
    header = rows[0]
    assert rows[1:] and all(r[header.index("健康保険")] in ("加入", "未加入", "適用除外", "") for r in rows[1:])
    # 1-2 (所属事業主) for the same login: its own workers only, never those of its subcontractors
    from portal.app.db import db
    from portal.models import Affiliation, Employer

    with demo_app.app_context(), using_scope(db.session, ALL):
        own = set(db.session.execute(select(Worker.worker_id).join(Affiliation, Affiliation.worker_id == Worker.id)
                                     .join(Employer, Employer.id == Affiliation.employer_id)
                                     .where(Employer.employer_id == entry["employer_id"],
                                            Affiliation.status == "承認済")).scalars())
    listed = {r[0] for r in read_csv(produced(client, "1-2", "csv", tmp_path))[1:]}
    assert listed == own and not listed & {r[header.index("技能者ID")] for r in rows[1:]} - own


# --- who may produce what -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["worker", "site_manager", "employer"])
def test_menu_lists_exactly_the_roles_reports_and_the_rest_is_403(demo_app, client_for, role):
    client, _entry = client_for(role, 0)
    allowed = {rid for rid, (_t, roles) in GUIDE.items() if LOGIN_ROLE[role] in roles}
    page = client.get("/reports/").get_data(as_text=True)
    import re

    assert set(re.findall(r'data-report="([0-9]-[0-9])"', page)) == allowed
    for report_id in set(GUIDE) - allowed:
        r = client.get(f"/reports/{report_id}/")
        assert r.status_code == 403 and "出力する権限がありません" in r.get_data(as_text=True), report_id
        for fmt in FORMATS:
            r = client.post(f"/reports/{report_id}/export", data={"format": fmt, "month": last_month()})
            assert r.status_code == 403, (report_id, fmt)
            assert "出力する権限がありません" in r.get_data(as_text=True)
    from portal.app.db import db

    with demo_app.app_context(), using_scope(db.session, ALL):
        assert db.session.execute(select(ReportJob)).first() is None  # nothing was queued


@pytest.mark.parametrize("role", ["admin", "prime", "employer", "site_manager", "worker"])
def test_every_report_a_menu_lists_opens_on_its_prefilled_choices(demo_app, client_for, role):
    """The menu's link is the report with its defaults (this month, the viewer's site, company or worker, the first
    one it may pick): no 403 for a listed report, no 422 asking to choose first."""
    import re

    client, _entry = client_for(role, 0)
    listed = set(re.findall(r'data-report="([0-9]-[0-9])"', client.get("/reports/").get_data(as_text=True)))
    assert listed == {r.id for r in reports.for_role(LOGIN_ROLE[role])} and listed
    answers = {report_id: client.get(f"/reports/{report_id}/") for report_id in sorted(listed)}
    failed = {k: (r.status_code, r.get_data(as_text=True)[:300]) for k, r in answers.items() if r.status_code != 200}
    assert not failed, f"{role}: {failed}"
    assert all('id="report-rows"' in r.get_data(as_text=True) for r in answers.values())


def test_another_users_job_and_a_crafted_job_are_403(demo_app, client_for, tmp_path):
    from portal.app.db import db
    from portal.models import PortalUser

    employer, _e = client_for("employer", 1)
    job_id, status = export(employer, "2-4", "csv", month=last_month())
    assert status["status"] == "done"
    worker, entry = client_for("worker", 1)
    for path in (f"/reports/jobs/{job_id}", f"/reports/jobs/{job_id}/download", f"/reports/jobs/{job_id}/status"):
        r = worker.get(path)
        assert r.status_code == 403, path
        message = r.get_json()["message"] if r.is_json else r.get_data(as_text=True)
        assert "ご自身が依頼したジョブのみ" in message
    assert worker.post(f"/reports/jobs/{job_id}/retry").status_code == 403
    # a job row naming a report the worker's role may not produce (written behind the screens' back)
    with demo_app.app_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == entry["login"])).scalar_one()
        crafted = ReportJob(owner_user_id=user.id, report_id="2-4", format="csv", params={"month": last_month()},
                            status="done", runner="celery", file_path=str(tmp_path / "x.csv"), file_name="x.csv",
                            created_at=datetime.datetime.now(datetime.timezone.utc),
                            expires_at=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7))
        (tmp_path / "x.csv").write_text("secret")
        db.session.add(crafted)
        db.session.commit()
        crafted_id = crafted.id
    r = worker.get(f"/reports/jobs/{crafted_id}/download")
    assert r.status_code == 403 and "出力する権限がありません" in r.get_data(as_text=True)
    # and a job run for a role that lost the right fails in Japanese rather than writing the file
    from portal.output import jobs

    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(ReportJob.__table__.update().where(ReportJob.__table__.c.id == crafted_id).values(
            status="queued", file_path=None))
        db.session.commit()
        assert jobs.run(db.engine, crafted_id, demo_app.config) == "failed"
        job = db.session.get(ReportJob, crafted_id)
        db.session.refresh(job)
        assert "権限がありません" in job.error and job.file_path is None


# --- audit, expiry, failure and retry --------------------------------------------------------------------------

def test_every_export_is_in_the_workers_viewing_record(demo_app, client_for, tmp_path):
    from portal.app.db import db

    client, entry = client_for("prime", 0)
    meguro = login_of(demo_app, "worker", 1)
    pk = worker_pk(demo_app, meguro["worker_id"])
    produced(client, "2-3", "xlsx", tmp_path, month=last_month(), worker=pk)
    with demo_app.app_context(), using_scope(db.session, ALL):
        logs = db.session.execute(select(AuditLog).where(AuditLog.worker_id == pk, AuditLog.action == "export")).scalars().all()
    assert [(log.username, log.object_type) for log in logs] == [(entry["login"], "帳票 2-3 就業履歴(月別カレンダー)")]
    assert "Excel" in logs[0].detail
    worker, _w = client_for("worker", 1)
    page = worker.get("/worker/390").get_data(as_text=True)
    assert "帳票 2-3 就業履歴(月別カレンダー)" in page and "出力" in page


def test_files_expire_and_are_deleted(demo_app, client_for):
    from portal.output import jobs
    from portal.app.db import db

    client, _e = client_for("employer", 1)
    job_id, status = export(client, "1-2", "csv")
    with demo_app.app_context(), using_scope(db.session, ALL):
        job = db.session.get(ReportJob, job_id)
        path = Path(job.file_path)
        assert path.exists()
        assert (job.expires_at.replace(tzinfo=None) - job.created_at.replace(tzinfo=None)) == datetime.timedelta(days=7)
        assert jobs.purge_expired(db.session, datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)) == 1
    assert not path.exists()
    r = client.get(f"/reports/jobs/{job_id}/download")
    assert r.status_code == 410 and "保存期間" in r.get_data(as_text=True)
    assert client.get(f"/reports/jobs/{job_id}/status").get_json()["label"] == "期限切れ"


def test_a_failed_job_says_why_in_japanese_and_can_be_retried(demo_app, client_for, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    demo_app.config["CCUS_REPORTS_DIR"] = str(blocker / "reports")  # cannot be created: the job fails
    client, _e = client_for("employer", 1)
    job_id, status = export(client, "1-2", "csv")
    assert status["status"] == "failed" and status["label"] == "失敗"
    assert status["error"].startswith("帳票の作成中にエラーが発生しました") and status["retry"]
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "再実行" in page and status["error"] in page
    demo_app.config["CCUS_REPORTS_DIR"] = str(tmp_path / "files")
    r = client.post(f"/reports/jobs/{job_id}/retry")
    assert r.status_code == 303
    status = wait_job(client, job_id)
    assert status["status"] == "done" and status["error"] is None
    assert client.get(status["download"]).data.startswith(b"\xef\xbb\xbf")


def test_bad_parameters_give_a_japanese_message_not_a_500(client_for):
    client, _e = client_for("employer", 1)
    r = client.post("/reports/2-4/export", data={"format": "csv", "month": "2026-13"})
    assert r.status_code == 422 and "年月" in r.get_data(as_text=True)
    r = client.post("/reports/2-4/export", data={"format": "docx", "month": "2026-11"})
    assert r.status_code == 400 and "出力形式" in r.get_data(as_text=True)
    r = client.get("/reports/9-9/")
    assert r.status_code == 404 and "帳票NO" in r.get_data(as_text=True)
    r = client.get("/reports/2-4/?site=99999999999")
    assert r.status_code == 422 and "現場の指定が正しくありません" in r.get_data(as_text=True)


def test_screen_shows_the_rows_with_filters_prefilled(demo_app, client_for):
    client, entry = client_for("site_manager", 0)
    page = client.get("/reports/2-4/").get_data(as_text=True)
    assert f'value="{tokyo_today():%Y-%m}"' in page  # this month
    assert "selected" in page  # its site
    client, entry = client_for("worker", 1)
    page = client.get(f"/reports/2-3/?month={last_month()}").get_data(as_text=True)
    assert entry["worker_id"] in page and "id=\"report-rows\"" in page


# --- PDF: fonts embedded, no tofu, a page to look at ------------------------------------------------------------

def _pdf_of(tmp_path: Path, text: str) -> Path:
    from portal.people.scoping import ALL as all_scope
    from reports.base import Column, Output, Report, Viewer
    from reports.writers import write_pdf

    report = Report(id="9-9", title="文字の確認", parties=(), filters=(), build=lambda *a: None)
    path = tmp_path / "fonts.pdf"
    write_pdf(path, report, Output(columns=[Column("項目"), Column("値")], rows=[["氏名", text]], total=1),
              Viewer(1, "admin", "システム 管理者", ROLE_ADMIN, all_scope), datetime.datetime.now(datetime.timezone.utc))
    return path


def test_pdf_embeds_japanese_fonts_and_every_character_has_a_glyph(tmp_path):
    text = "髙橋 𠮷野 齋藤 渡邊 ＩＣ・顔・電話・ＱＲ・直接 ①② ㈱ 〒105-0001 −～"
    path = _pdf_of(tmp_path, text)
    fonts = embedded_fonts(path)
    assert fonts and all("CJK" in name or "DejaVu" in name for name, _chars in fonts)
    assert any("Noto-Sans-CJK-JP" in name for name, _chars in fonts)
    out = pdf_text(path)  # asserts no tofu
    assert "髙橋" in out and "𠮷野" in out and "文字の確認" in out


def test_the_tofu_check_finds_a_character_no_font_has(tmp_path):
    path = _pdf_of(tmp_path, "建設 \U00013000")  # an Egyptian hieroglyph: no installed font has it
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "\U00013000" in text  # the text layer still says it ...
    assert missing_glyphs(path, text) == {"\U00013000"}  # ... but no embedded font draws it


def test_a_calendar_page_renders_to_png(demo_app, client_for, tmp_path):
    client, _e = client_for("employer", 1)
    path = produced(client, "2-4", "pdf", tmp_path, month=last_month())
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_site_manager_gets_its_sites_histories_only(demo_app, client_for, tmp_path):
    from portal.app.db import db
    from portal.models import Site

    client, entry = client_for("site_manager", 0)  # assigned to A現場工事 only
    ym = last_month()
    year, month = (int(p) for p in ym.split("-"))
    first, last = work_calendar.month_bounds(year, month)
    with demo_app.app_context(), using_scope(db.session, ALL):
        site = db.session.execute(select(Site).where(Site.site_id == entry["site_ids"][0])).scalar_one()
        expected = set(db.session.execute(select(Worker.worker_id).join(WorkHistory, WorkHistory.worker_id == Worker.id)
                                          .where(WorkHistory.site_id == site.id,
                                                 WorkHistory.work_date.between(first, last))).scalars())
    rows = read_csv(produced(client, "2-4", "csv", tmp_path, month=ym))
    header = rows[0]
    assert {r[0] for r in rows[1:-1]} == expected
    assert {r[header.index("現場")] for r in rows[1:-1]} == {str(site)}


def test_the_screen_is_audited_as_a_view(demo_app, client_for):
    from portal.app.db import db

    client, entry = client_for("prime", 0)
    pk = worker_pk(demo_app, login_of(demo_app, "worker", 1)["worker_id"])
    assert client.get(f"/reports/2-3/?month={last_month()}&worker={pk}").status_code == 200
    with demo_app.app_context(), using_scope(db.session, ALL):
        logs = db.session.execute(select(AuditLog).where(AuditLog.worker_id == pk, AuditLog.username == entry["login"])
                                  ).scalars().all()
    assert logs and {log.action for log in logs} == {"view"}
    assert any("帳票 2-3" in (log.object_type or "") for log in logs)


def test_an_in_process_job_of_a_dead_process_is_marked_failed(demo_app, client_for):
    from portal.app.db import db
    from portal.models import PortalUser

    client, entry = client_for("employer", 1)
    with demo_app.app_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == entry["login"])).scalar_one()
        now = datetime.datetime.now(datetime.timezone.utc)
        job = ReportJob(owner_user_id=user.id, report_id="2-4", format="csv", params={"month": last_month()},
                        status="running", runner="thread:999999999", created_at=now,
                        expires_at=now + datetime.timedelta(days=7))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    status = client.get(f"/reports/jobs/{job_id}/status").get_json()
    assert status["status"] == "failed" and "再起動" in status["error"] and status["retry"]
    assert client.post(f"/reports/jobs/{job_id}/retry").status_code == 303
    assert wait_job(client, job_id)["status"] == "done"


def test_excel_is_set_up_for_printing_and_keeps_dates_as_dates(demo_app, client_for, tmp_path):
    """Read from the file's XML (not through openpyxl): A3 landscape for the calendar, one page wide, title and
    header rows on every page, panes frozen under the header; 4-2's dates read back as dates (calamine)."""
    import re
    import zipfile

    client, _e = client_for("prime", 0)
    path = produced(client, "2-4", "xlsx", tmp_path, month=last_month())
    with zipfile.ZipFile(path) as z:
        sheet, book = z.read("xl/worksheets/sheet1.xml").decode(), z.read("xl/workbook.xml").decode()
    setup = re.search(r"<pageSetup [^>]*>", sheet).group(0)
    assert 'orientation="landscape"' in setup and 'paperSize="8"' in setup  # 8 = A3
    assert 'fitToWidth="1"' in setup and 'fitToHeight="0"' in setup and 'fitToPage="1"' in sheet
    assert 'state="frozen"' in sheet and 'topLeftCell="A4"' in sheet
    assert "_xlnm.Print_Titles" in book and "$1:$3" in book
    assert 'gridLines="1"' in sheet
    sheet_rows = read_xlsx(produced(client, "4-2", "xlsx", tmp_path))
    header = sheet_rows[2]
    starts = [r[header.index("蓄積期間(開始)")] for r in sheet_rows[3:]]
    assert starts and all(isinstance(d, datetime.date) for d in starts)


def test_every_font_family_of_the_pdf_template_has_a_cjk_fallback(demo_app):
    import re

    from portal.people.scoping import ALL as all_scope
    from reports.base import Column, Output, Report, Viewer
    from reports.writers import render_html

    html = render_html(Report(id="9-9", title="確認", parties=(), filters=(), build=lambda *a: None),
                       Output(columns=[Column("項目")], rows=[["値"]], total=1),
                       Viewer(1, "admin", "管理者", ROLE_ADMIN, all_scope), datetime.datetime.now(datetime.timezone.utc))
    families = re.findall(r"font-family:([^;]+);", html)
    assert len(families) >= 6  # html, headings, table and every page-margin box
    for family in families:
        assert "Noto Sans CJK JP" in family and ("IPAexGothic" in family or "Noto Sans JP" in family), family


def test_3_1_shows_the_directory_to_others_and_the_details_to_the_company_itself(demo_app, client_for, tmp_path):
    """The employer directory is ID, name and address: a worker's 3-1 of its employer gives the insurance office
    numbers, the 建退共 contract number and the representative as 非開示; the company itself gets its own."""
    def lines(role, index):
        client, _entry = client_for(role, index)
        return {r[0]: r[1] for r in read_csv(produced(client, "3-1", "csv", tmp_path))[1:] if r}

    own = lines("employer", 0)
    seen = lines("worker", 1)
    assert seen["事業者名"] and seen["所在地"] not in ("", "非開示")
    for item in ("建退共 共済契約者番号", "登録責任者", "健康保険 事業所整理記号"):
        assert seen[item] == "非開示", item
    assert own["建退共 共済契約者番号"] not in ("", "非開示")
