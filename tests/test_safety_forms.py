"""AZ1 施工体制台帳, AZ3 工事担当技術者, AZ4 下請負業者編成表, AZ7 社会保険加入状況 and 第7号 新規入場時等教育実施報告書:
each Excel read back by python-calamine (and openpyxl's reader for the 編成表's lines), each PDF by poppler/pypdf,
compared with the database; the viewer rule of each form per role; the privacy scan of every file."""
from __future__ import annotations

import datetime
import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from portal.app.db import db
from portal.models import Employer, Site, SiteWorkerRegistration, StructureLink, Worker, WorkerInsurance
from portal.models.safety import SiteStaff
from portal.people.safety_data import forbidden_numbers
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import artifacts, login_of
from reports.safety import REVISION
from reports.safety.induction import PER_PAGE as INDUCTION_PER_PAGE
from reports.safety.ledger import ENGINEER_ROLES
from tests.safety_world import EMPLOYMENT_NUMBER, KIKIN1, MEGURO, PENSION_NUMBER, PRIME_A, seed
from tests.test_reports import wait_job
from tests.test_safety_tree import _edges_from_excel, _edges_in_db

KNOWN = (PENSION_NUMBER.replace("-", ""), EMPLOYMENT_NUMBER.replace("-", ""))


def _sheets(data: bytes) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]


def _text(rows) -> str:
    return "\n".join(str(v) for row in rows for v in row if v not in (None, ""))


def _pdf_text(data: bytes, path) -> str:
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _first_page_png(pdf, name: str):
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))], check=True)
    png = next(pdf.parent.glob(f"{pdf.stem}*.png"))
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5_000
    shutil.copy(png, artifacts("safety") / f"{name}-page1.png")


def _firsts(app, site_id) -> dict:
    """事業者ID → name of the site's first-tier companies, from the tables."""
    with app.app_context(), using_scope(db.session, ALL):
        site = db.session.get(Site, site_id)
        return {e.employer_id: e.name for l in db.session.execute(select(StructureLink).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済",
            StructureLink.upper_employer_id == site.prime_employer_id)).scalars()
            for e in [db.session.get(Employer, l.lower_employer_id)]}


def _list_rows(rows, columns: int) -> list[list]:
    """The list's rows of a one-list form: the rows after each column-label row whose first cell is a number."""
    out = []
    for row in rows:
        if row and isinstance(row[0], (int, float)) and not isinstance(row[0], bool) and len(row) >= columns:
            out.append(row[:columns])
    return out


def test_ledger_one_sheet_per_first_tier_company_and_who_gets_it(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    site = world["site"]
    firsts = _firsts(demo_app, site)
    assert len(firsts) >= 2
    prime, _ = client_for("prime", 0)
    r = prime.get(f"/safety/ledger/{site}.xlsx")
    assert r.status_code == 200, r.data[:300]
    sheets = _sheets(r.data)
    assert len(sheets) == len(firsts)
    right_companies = set()
    for rows in sheets:
        assert rows[0][0] == "施工体制台帳" and REVISION in rows[0][1]
        left = {row[0]: row[1] for row in rows[9:] if row and row[0]}
        right = {row[3]: row[4] for row in rows[9:] if len(row) > 4 and row[3]}
        assert left["会社名・事業者ID"].endswith(f"（{PRIME_A}）")
        assert "技術 0号" in left["監理技術者"] and "（専任）" in left["監理技術者"]  # the prime's 監理技術者
        code = right["会社名・事業者ID"][-15:-1]
        right_companies.add(code)
        assert right["会社名・事業者ID"].startswith(firsts[code])
        assert right["主任技術者"].startswith("技術 ")
        assert _text(rows).count("《下請負人に関する事項》") == 1
    assert right_companies == set(firsts)
    pdf = prime.get(f"/safety/ledger/{site}.pdf")
    text = _pdf_text(pdf.data, tmp_path / "az1.pdf")
    assert len(PdfReader(str(tmp_path / "az1.pdf")).pages) == len(firsts)
    assert "施工体制台帳" in text and all(code in text for code in firsts) and "全建統一様式第3号" in text
    _first_page_png(tmp_path / "az1.pdf", "az1")
    for content in (text, "\n".join(_text(s) for s in sheets)):
        assert forbidden_numbers(content, KNOWN) == []

    # a first-tier company: its own sheet only
    first, _ = client_for("employer", 0)
    own = _sheets(first.get(f"/safety/ledger/{site}.xlsx").data)
    assert len(own) == 1 and KIKIN1 in _text(own[0])
    assert all(code not in _text(own[0]) for code in set(firsts) - {KIKIN1})
    # a second-tier company and a company not on the site: refused, in Japanese
    for index in (1, 3):
        client, _ = client_for("employer", index)
        refused = client.get(f"/safety/ledger/{site}.pdf")
        assert refused.status_code == 403 and "施工体制台帳」を出力する権限がありません" in refused.get_data(as_text=True)


def test_engineers_list_the_branchs_technical_staff(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    site = world["site"]
    with demo_app.app_context(), using_scope(db.session, ALL):
        code = {e.id: e.employer_id for e in db.session.execute(select(Employer)).scalars()}
        staff = {(code[s.employer_id], s.role, s.person_name) for s in db.session.execute(select(SiteStaff).where(
            SiteStaff.site_id == site, SiteStaff.role.in_(ENGINEER_ROLES))).scalars()}
    _edges, prime_branch = _edges_in_db(demo_app, site, PRIME_A)
    _edges, kikin1_branch = _edges_in_db(demo_app, site, KIKIN1)
    for role, index, branch in (("prime", 0, prime_branch), ("employer", 0, kikin1_branch)):
        client, _ = client_for(role, index)
        r = client.get(f"/safety/engineers/{site}.xlsx")
        assert r.status_code == 200
        rows = _sheets(r.data)[0]
        assert rows[0][0] == "施工体制台帳（工事担当技術者）"
        found = {(str(row[0])[-15:-1], row[2], row[3]) for row in rows if row and str(row[0]).endswith("）")
                 and row[2] in ENGINEER_ROLES}
        assert found == {s for s in staff if s[0] in branch} and found
    text = _pdf_text(client.get(f"/safety/engineers/{site}.pdf").data, tmp_path / "az3.pdf")
    assert "工事担当技術者" in text and all(c in text for c in kikin1_branch)
    _first_page_png(tmp_path / "az3.pdf", "az3")
    client, _ = client_for("employer", 3)
    assert client.get(f"/safety/engineers/{site}.xlsx").status_code == 403


def test_lineup_is_the_first_tier_companys_branch(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    site, kikin1 = world["site"], world["employers"][KIKIN1]
    expected_edges, expected_companies = _edges_in_db(demo_app, site, KIKIN1)
    for role, index in (("prime", 0), ("employer", 0)):
        client, _ = client_for(role, index)
        r = client.get(f"/safety/lineup/{site}/{kikin1}.xlsx")
        assert r.status_code == 200, r.data[:300]
        assert _sheets(r.data)[0][0][0] == "下請負業者編成表"
        companies, edges = _edges_from_excel(r.data)
        assert companies == expected_companies and edges == expected_edges
    text = _pdf_text(client.get(f"/safety/lineup/{site}/{kikin1}.pdf").data, tmp_path / "az4.pdf")
    assert "下請負業者編成表" in text and "第1号-乙" in text and all(c in text for c in expected_companies)
    _first_page_png(tmp_path / "az4.pdf", "az4")
    second = world["employers"][login_of(demo_app, "employer", 1)["employer_id"]]
    for role, index, target in (("employer", 1, kikin1),  # a 2次 asks for its upper company's
                                ("employer", 2, kikin1),  # a sibling first-tier company
                                ("prime", 0, second)):  # a 2次 has no 編成表 of its own
        client, _ = client_for(role, index)
        refused = client.get(f"/safety/lineup/{site}/{target}.xlsx")
        assert refused.status_code == 403 and "下請負業者編成表」を出力する権限がありません" in refused.get_data(as_text=True)


def test_insurance_status_and_induction_report(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    site = world["site"]
    kikin_pk = world["employers"][login_of(demo_app, "employer", 1)["employer_id"]]
    held_on = datetime.date(2026, 4, 6)
    with demo_app.app_context(), using_scope(db.session, ALL):
        regs = db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.site_id == site, SiteWorkerRegistration.employer_id == kikin_pk)
            .order_by(SiteWorkerRegistration.id)).scalars().all()
        expected = []
        for reg in regs:
            w = db.session.get(Worker, reg.worker_id)
            ins = db.session.execute(select(WorkerInsurance).where(WorkerInsurance.worker_id == w.id)).scalar_one_or_none()
            health = ((ins.health_type or "加入") if ins.health_status == "加入" else ins.health_status) if ins else None
            expected.append((w.name, w.worker_id, health))
        regs[0].entry_education_on = held_on  # one attended the 新規入場時教育 that day, the others another day
        for reg in regs[1:]:
            reg.entry_education_on = datetime.date(2026, 4, 7)
        attended = {expected[0][1]}
        db.session.commit()
    own, _ = client_for("employer", 1)

    # AZ7: the company's own workers in 名簿 order, insurances by name, the 雇用保険 as its last 4 digits
    r = own.get(f"/safety/insurance/{site}/{kikin_pk}.xlsx")
    assert r.status_code == 200, r.data[:300]
    rows = _sheets(r.data)[0]
    assert rows[0][0] == "社会保険加入状況" and REVISION in _text(rows)
    listed = _list_rows(rows, 8)
    assert [(row[1], row[2]) for row in listed] == [(n, c) for n, c, _i in expected]
    for row, (_n, code, health) in zip(listed, expected):
        assert row[3] == health
        if code == MEGURO:
            assert row[5] == EMPLOYMENT_NUMBER.replace("-", "")[-4:]
    text = _pdf_text(own.get(f"/safety/insurance/{site}/{kikin_pk}.pdf").data, tmp_path / "az7.pdf")
    assert "社会保険加入状況" in text and all(c in text for _n, c, _i in expected)
    _first_page_png(tmp_path / "az7.pdf", "az7")
    for content in (text, _text(rows)):
        assert forbidden_numbers(content, KNOWN) == []

    # 第7号: exactly the attendees of that day, 14 lines a page, the signature column blank
    r = own.get(f"/safety/induction/{site}/{kikin_pk}.xlsx?held_on={held_on.isoformat()}")
    assert r.status_code == 200
    rows = _sheets(r.data)[0]
    listed = _list_rows(rows, 5)
    assert {row[2] for row in listed} == attended and all(row[4] in (None, "") for row in listed)
    assert "2026/04/06" in _text(rows) and "新規入場時" in _text(rows)
    pdf = own.get(f"/safety/induction/{site}/{kikin_pk}.pdf?held_on={held_on.isoformat()}")
    text = _pdf_text(pdf.data, tmp_path / "no7.pdf")
    assert all(c in text for c in attended) and all(c not in text for _n, c, _i in expected if c not in attended)
    assert len(PdfReader(str(tmp_path / "no7.pdf")).pages) == 1 and len(attended) < INDUCTION_PER_PAGE
    _first_page_png(tmp_path / "no7.pdf", "no7")
    bad = own.get(f"/safety/induction/{site}/{kikin_pk}.xlsx?held_on=2026-02-30")
    assert bad.status_code == 400 and "実施日はYYYY-MM-DDの形式" in bad.get_data(as_text=True)

    # the viewer rule of AZ5–AZ7: the upper company and the prime yes, a lower or unrelated company no
    for role, index, status in (("employer", 0, 200), ("prime", 0, 200), ("employer", 2, 403), ("employer", 3, 403)):
        client, _ = client_for(role, index)
        for path in (f"/safety/insurance/{site}/{kikin_pk}.xlsx", f"/safety/induction/{site}/{kikin_pk}.pdf"):
            assert client.get(path).status_code == status, (role, index, path)
    menu = own.get("/safety/").get_data(as_text=True)
    assert "社会保険加入状況" in menu and "2026/04/07実施分" in menu and "バックグラウンドで作成" in menu

    # as background jobs (the 帳票's machinery: stored, run, followed, downloaded): the same file as the direct one
    for form_id, fmt, extra in (("AZ6", "xlsx", {}), ("No7", "xlsx", {"on": held_on.isoformat()})):
        r = own.post(f"/safety/jobs/{form_id}", data={"site": site, "employer": kikin_pk, "format": fmt, **extra})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        job_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
        status = wait_job(own, job_id)
        assert status["status"] == "done" and status["percent"] == 100, status
        assert status["rows_done"] == status["rows_total"]
        page = own.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
        assert form_id in page
        direct = {"AZ6": f"/safety/roster/{site}/{kikin_pk}.xlsx",
                  "No7": f"/safety/induction/{site}/{kikin_pk}.xlsx?held_on={held_on.isoformat()}"}[form_id]
        assert _sheets(own.get(status["download"]).data) == _sheets(own.get(direct).data)
    assert status["rows_total"] == len(attended)
    unrelated, _ = client_for("employer", 3)
    refused = unrelated.post("/safety/jobs/AZ6", data={"site": site, "employer": kikin_pk, "format": "pdf"})
    assert refused.status_code == 403 and "作業員名簿」を出力する権限がありません" in refused.get_data(as_text=True)
    for data, message in (({"site": site, "employer": kikin_pk, "format": "csv"}, "出力形式「csv」はありません"),
                          ({"site": "x", "employer": kikin_pk, "format": "pdf"}, "現場の指定が正しくありません"),
                          ({"site": site, "employer": kikin_pk, "format": "pdf", "on": "2026-13-01"}, "実施日はYYYY-MM-DD")):
        bad = own.post("/safety/jobs/No7", data=data)
        assert bad.status_code == 400 and message in bad.get_data(as_text=True), data
    assert own.post("/safety/jobs/AZ9", data={"format": "pdf"}).status_code == 404
