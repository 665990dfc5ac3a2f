"""AZ5 再下請負通知書 (第1号-甲): the Excel read back by python-calamine and the PDF by poppler, compared with the
database; the right half per 再下請負人 (struck through without one); the 変更届's date; private registration
shown only to the company itself; the viewer rule per role; the privacy scan."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from portal.app.db import db
from portal.models import EmployerDetail
from portal.models.safety import SiteStaff
from portal.people.safety_data import forbidden_numbers
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import artifacts, login_of
from reports.safety import REVISION
from tests.safety_world import KIKIN1, seed


def _sheets(data: bytes) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]


def _pairs(rows, left: bool) -> dict:
    found = {}
    for row in rows[9:]:
        label, value = (row[0], row[1]) if left else ((row[3], row[4]) if len(row) > 4 else (None, None))
        if label:
            found.setdefault(label, []).append(value)
    return found


def test_notice_excel_and_pdf_read_back(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    kikin1, kikin = world["employers"][KIKIN1], world["employers"][login_of(demo_app, "employer", 1)["employer_id"]]
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(select(EmployerDetail).where(EmployerDetail.employer_id == kikin1)).scalar_one() \
            .health_insurance_office_no = "01-ｱｲｳ"
        db.session.commit()
        own_agent = db.session.execute(select(SiteStaff.person_name).where(
            SiteStaff.employer_id == kikin1, SiteStaff.role == "主任技術者")).scalar_one()
        sub_agent = db.session.execute(select(SiteStaff.person_name).where(
            SiteStaff.employer_id == kikin, SiteStaff.role == "主任技術者")).scalar_one()
    client, _ = client_for("employer", 0)  # 基金一次建設 reports its 再下請負 (基金建設)
    r = client.get(f"/safety/notice/{world['site']}/{kikin1}.xlsx?changed_on=2026-11-20")
    assert r.status_code == 200, r.data[:300]
    sheets = _sheets(r.data)
    assert len(sheets) == 1  # one 再下請負人
    rows = sheets[0]
    assert rows[0][0] == "再下請負通知書" and REVISION in rows[0][1]
    head = {row[0]: row[1] for row in rows[1:7]}
    assert head["区分"] == "変更届（変更年月日 2026/11/20）" and head["直近上位の注文者名"] == "(株)元請A"
    left, right = _pairs(rows, True), _pairs(rows, False)
    assert left["会社名・事業者ID"][0].endswith(f"（{KIKIN1}）")
    assert left["健康保険 事業所整理記号"] == ["01-ｱｲｳ"]  # its own registration
    assert right["健康保険 事業所整理記号"] == ["非開示"]  # not the 再下請負人's (a snapshot would carry it)
    assert own_agent in left["主任技術者"][0] and sub_agent in right["主任技術者"][0]
    assert "13-100001" in left["建設業の許可"][0] or "第13-10000" in left["建設業の許可"][0]

    # the 2次 has no 再下請負: the right half reads 再下請負契約なし
    client2, _ = client_for("employer", 1)
    r2 = client2.get(f"/safety/notice/{world['site']}/{kikin}.pdf")
    assert r2.status_code == 200
    path = tmp_path / "az5.pdf"
    path.write_bytes(r2.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "再下請負契約なし" in text and "再下請負通知書" in text and "新規" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "az5")], check=True)
    png = next(tmp_path.glob("az5*.png"))
    assert png.stat().st_size > 5_000
    shutil.copy(png, artifacts("safety") / "az5-page1.png")
    sheet_text = "\n".join(str(v) for s in sheets for row in s for v in row if v)
    assert forbidden_numbers(text) == [] and forbidden_numbers(sheet_text) == []

    bad = client.get(f"/safety/notice/{world['site']}/{kikin1}.xlsx?changed_on=2026-13-40")
    assert bad.status_code == 400 and "変更年月日はYYYY-MM-DDの形式" in bad.get_data(as_text=True)


@pytest.mark.parametrize("role,index,target,status", [
    ("prime", 0, "kikin", 200), ("employer", 0, "kikin", 200), ("employer", 1, "kikin1", 403),
    ("employer", 2, "kikin", 403), ("employer", 3, "kikin1", 403), ("site_manager", 0, "kikin1", 200),
])
def test_notice_viewer_rule(demo_app, client_for, role, index, target, status):
    world = seed(demo_app)
    codes = {"kikin": login_of(demo_app, "employer", 1)["employer_id"], "kikin1": KIKIN1}
    client, _ = client_for(role, index)
    r = client.get(f"/safety/notice/{world['site']}/{world['employers'][codes[target]]}.xlsx")
    assert r.status_code == status
    if status == 403:
        assert "再下請負通知書」を出力する権限がありません" in r.get_data(as_text=True)


def test_notice_refused_to_a_worker(demo_app, client_for):
    world = seed(demo_app)
    client, _ = client_for("worker", 0)
    r = client.get(f"/safety/notice/{world['site']}/{world['employers'][KIKIN1]}.pdf")
    assert r.status_code in (302, 403) and not r.data.startswith(b"%PDF")
