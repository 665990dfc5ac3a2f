"""AZ6 作業員名簿 (第5号): the Excel read back by python-calamine and the PDF by pypdf/poppler, each compared with
the database as the viewer may see it; the viewer rule per role; and the privacy scan of every file."""
from __future__ import annotations

import io
import math
import shutil
import subprocess

import pytest
from python_calamine import CalamineWorkbook
from pypdf import PdfReader
from sqlalchemy import select

from portal.app.db import db
from portal.models import SiteWorkerRegistration, Worker, WorkerInsurance
from portal.people.safety_data import forbidden_numbers
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import artifacts, login_of
from reports.safety import REVISION
from reports.safety.roster import PER_PAGE
from reports.safety.roster_files import cell_position
from tests.safety_world import EMPLOYMENT_NUMBER, HIROO, MEGURO, PENSION_NUMBER, seed

KNOWN = (PENSION_NUMBER.replace("-", ""), EMPLOYMENT_NUMBER.replace("-", ""))


def _roster_of(app, site_id, employer_pk):
    """The 名簿's workers from the database, in 名簿 order, independently of reports.safety."""
    with app.app_context(), using_scope(db.session, ALL):
        regs = db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.site_id == site_id, SiteWorkerRegistration.employer_id == employer_pk)
            .order_by(SiteWorkerRegistration.id)).scalars().all()
        out = []
        for r in regs:
            w = db.session.get(Worker, r.worker_id)
            ins = db.session.execute(select(WorkerInsurance).where(WorkerInsurance.worker_id == w.id)).scalar_one_or_none()
            out.append({"worker_code": w.worker_id, "name": w.name, "birth": w.personal.birth_date if w.personal else None,
                        "last4": ins.employment_number_last4 if ins else None, "entered": r.start_date})
        return out


def _get(client, url):
    r = client.get(url)
    return r.status_code, r.data


def _sheet_text(data: bytes) -> tuple[list, str]:
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return rows, "\n".join(str(v) for row in rows for v in row if v not in (None, ""))


def _value(rows, index, key):
    row, col = cell_position(index, key)
    return rows[row - 1][col - 1] if row - 1 < len(rows) and col - 1 < len(rows[row - 1]) else None


def test_roster_excel_and_pdf_read_back_match_the_database(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    kikin = login_of(demo_app, "employer", 1)["employer_id"]  # 基金建設, 2次 under 基金一次建設
    kikin_pk, site = world["employers"][kikin], world["site"]
    expected = _roster_of(demo_app, site, kikin_pk)
    assert len(expected) >= 2
    url = f"/safety/roster/{site}/{kikin_pk}"
    files = {}
    for role, index in (("employer", 1), ("prime", 0)):
        client, _ = client_for(role, index)
        for fmt in ("xlsx", "pdf"):
            status, data = _get(client, f"{url}.{fmt}")
            assert status == 200, data[:300]
            files[(role, fmt)] = data

    # Excel, as the company itself: every cell in its place, the 生年月日 included
    rows, own_text = _sheet_text(files[("employer", "xlsx")])
    assert rows[0][0] == "作業員名簿" and REVISION in own_text
    for i, w in enumerate(expected):
        assert _value(rows, i, "worker_code") == w["worker_code"]
        assert _value(rows, i, "name") == w["name"]
        assert _value(rows, i, "number") == i + 1
        birth = _value(rows, i, "birth_date")
        assert (birth.date() if hasattr(birth, "date") else birth) == w["birth"]
    meguro = next(i for i, w in enumerate(expected) if w["worker_code"] == MEGURO)
    hiroo = next(i for i, w in enumerate(expected) if w["worker_code"] == HIROO)
    assert _value(rows, meguro, "employment") == "6789"  # the last 4 digits, nothing more
    assert _value(rows, meguro, "blood_pressure") == "128/82"
    assert "1特" in _value(rows, hiroo, "mark") and "職" in _value(rows, hiroo, "mark")

    # Excel, as the prime: the 名簿 items, but never the 生年月日 (the 年齢 instead) nor the foreign status
    rows, prime_text = _sheet_text(files[("prime", "xlsx")])
    for i, w in enumerate(expected):
        assert _value(rows, i, "worker_code") == w["worker_code"] and _value(rows, i, "name") == w["name"]
        assert _value(rows, i, "birth_date") == "非開示"
        assert str(_value(rows, i, "age")).endswith("歳")
    assert _value(rows, meguro, "blood_pressure") == "128/82"
    assert "1特" not in (_value(rows, hiroo, "mark") or "")

    # PDF: pages of 10 (pypdf), every worker's ID and name in the text poppler extracts; the prime's shows
    # 非開示 for the birth date
    for role in ("employer", "prime"):
        path = tmp_path / f"{role}.pdf"
        path.write_bytes(files[(role, "pdf")])
        assert len(PdfReader(str(path)).pages) == math.ceil(len(expected) / PER_PAGE)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
        for w in expected:
            assert w["worker_code"] in text and w["name"].replace(" ", "") in text.replace(" ", "")
        assert ("非開示" in text) == (role == "prime")
        assert "作業員名簿" in text and REVISION in text
    path = tmp_path / "prime.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "az6")], check=True)
    png = next(tmp_path.glob("az6*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    shutil.copy(png, artifacts("safety") / "az6-page1.png")

    # the privacy scan of every produced file
    for (role, fmt), data in files.items():
        if fmt == "xlsx":
            content = _sheet_text(data)[1]
        else:
            p = tmp_path / f"{role}.pdf"
            p.write_bytes(data)
            content = subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
        assert forbidden_numbers(content, KNOWN) == [], (role, fmt)


@pytest.mark.parametrize("role,index,target,status", [
    ("employer", 1, "self", 200),  # the company itself
    ("employer", 0, "kikin", 200),  # its upper company (1次) for the company below it
    ("prime", 0, "kikin", 200),  # the prime
    ("site_manager", 0, "kikin", 200),  # the prime's 現場管理者 on its assigned site
    ("employer", 1, "kikin1", 403),  # a lower company for its upper one
    ("employer", 2, "kikin", 403),  # a sibling branch
    ("employer", 3, "kikin", 403),  # a company not on the site
])
def test_roster_viewer_rule_per_role(demo_app, client_for, role, index, target, status):
    world = seed(demo_app)
    codes = {"self": login_of(demo_app, "employer", 1)["employer_id"], "kikin": login_of(demo_app, "employer", 1)["employer_id"],
             "kikin1": login_of(demo_app, "employer", 0)["employer_id"]}
    client, _ = client_for(role, index)
    r = client.get(f"/safety/roster/{world['site']}/{world['employers'][codes[target]]}.xlsx")
    assert r.status_code == status
    if status == 403:
        assert "作業員名簿」を出力する権限がありません" in r.get_data(as_text=True)


def test_roster_refused_to_workers_and_bad_format(demo_app, client_for):
    world = seed(demo_app)
    kikin_pk = world["employers"][login_of(demo_app, "employer", 1)["employer_id"]]
    client, _ = client_for("worker", 1)
    r = client.get(f"/safety/roster/{world['site']}/{kikin_pk}.xlsx")
    assert r.status_code in (302, 403) and not r.data.startswith(b"PK")
    client, _ = client_for("employer", 1)
    r = client.get(f"/safety/roster/{world['site']}/{kikin_pk}.docx")
    assert r.status_code == 400 and "出力形式「docx」はありません" in r.get_data(as_text=True)
    menu = client.get("/safety/").get_data(as_text=True)
    assert "A現場工事" in menu and "作業員名簿" in menu


def test_az6a_is_the_roster_without_the_insurance_columns(demo_app, client_for, tmp_path):
    """AZ6-a: the same blocks cell for cell, less the 社会保険 columns (AZ7 carries them); AZ6-b stays the merged form."""
    from reports.safety.roster import INSURANCE_COLUMNS, LAYOUTS
    from reports.safety.roster_files import HEAD_ROWS

    world = seed(demo_app)
    kikin = login_of(demo_app, "employer", 1)["employer_id"]
    kikin_pk, site = world["employers"][kikin], world["site"]
    expected = _roster_of(demo_app, site, kikin_pk)
    client, _ = client_for("employer", 1)
    url = f"/safety/roster/{site}/{kikin_pk}"
    b_rows, _ = _sheet_text(client.get(f"{url}.xlsx").data)
    status, data = _get(client, f"{url}.xlsx?variant=AZ6-a")
    assert status == 200
    a_rows, a_text = _sheet_text(data)
    assert list(a_rows[HEAD_ROWS - 1][:len(LAYOUTS["AZ6-a"].columns)]) == list(LAYOUTS["AZ6-a"].columns)
    assert "健康保険／年金保険／雇用保険(下4桁)" in b_rows[HEAD_ROWS - 1] and "健康保険" not in a_text
    blocks = slice(HEAD_ROWS, HEAD_ROWS + len(expected) * 6)
    drop = {c - 1 for c in INSURANCE_COLUMNS}
    assert [[v for v in row[:10]] for row in a_rows[blocks]] == [
        [v for c, v in enumerate(row[:12]) if c not in drop] for row in b_rows[blocks]]
    layout = LAYOUTS["AZ6-a"]
    for index, code in enumerate(w["worker_code"] for w in expected):
        assert _value(b_rows, index, "worker_code") == code
        row, col = cell_position(index, "worker_code", layout)
        assert a_rows[row - 1][col - 1] == code
        row, col = cell_position(index, "licenses", layout)
        assert a_rows[row - 1][col - 1] == _value(b_rows, index, "licenses")
    pdf = client.get(f"{url}.pdf?variant=AZ6-a")
    assert pdf.status_code == 200
    (tmp_path / "az6a.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "az6a.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert all(w["worker_code"] in text for w in expected) and "雇用保険" not in text and "建退共" not in text
    assert forbidden_numbers(text, KNOWN) == []
    bad = client.get(f"{url}.xlsx?variant=AZ6-c")
    assert bad.status_code == 400 and "様式の指定が正しくありません" in bad.get_data(as_text=True)
