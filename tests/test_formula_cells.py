"""Every CSV and Excel file the portal writes keeps text that starts like a formula as text (issue 15): the names
and addresses of workers, employers and sites are set to formulas, every report of the registry is produced in
both formats, and the files are read back by other readers (csv; the xlsx's own XML, where a formula is an <f>
element). The 技能者情報 CSV: tests/test_reports.py::test_worker_information_csv_escapes_an_address_formula."""
from __future__ import annotations

import re
import zipfile

import pytest
from sqlalchemy import String, select

import reports
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import Affiliation, Employer, Site, Worker, WorkerPersonal
from portal.people.scoping import ALL, using_scope
from reports.writers import FORMULA_LEADS
from ingest_world import SITE_A, site_pk
from portal.demo.testing import login_of
from test_reports import last_month, produced, read_csv, worker_pk

FORMULA = '=HYPERLINK("http://evil.example","x")'
LEADS = {"=": FORMULA, "+": "+1+cmd|' /C calc'!A0", "-": "-2+3", "@": "@SUM(A1:A9)"}


def _hostile_texts(app) -> int:
    """Every free-text column (not an ID or a code) of workers, their personal data, employers and sites starts
    like a formula, each lead in turn; returns how many values were set."""
    n = 0
    with app.app_context(), using_scope(db.session, ALL):
        for model in (Worker, WorkerPersonal, Employer, Site):
            columns = [c for c in model.__table__.c if isinstance(c.type, String) and (c.type.length or 0) >= 40
                       and not c.unique and not c.name.endswith(("_id", "code"))]
            for i, row in enumerate(db.session.execute(select(model)).scalars()):
                for column in columns:
                    lead = "=+-@"[(i + n) % 4]
                    setattr(row, column.key, LEADS[lead][: column.type.length])
                    n += 1
        try:
            db.session.commit()
        except DomainError as e:  # a column the portal validates: the test must name it
            pytest.fail(f"hostile text refused by the model: {e.code} {e.message}")
    return n


def _bad_csv_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: a formula lead that is not a plain number (Excel reads -5 as -5)."""
    return [cell for row in rows for cell in row
            if cell.startswith(FORMULA_LEADS) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", cell)]


def _formulas(path) -> list[str]:
    with zipfile.ZipFile(path) as book:
        return [f for name in book.namelist() if name.startswith("xl/worksheets/")
                for f in re.findall(r"<f[ >].*?</f>", book.read(name).decode("utf-8"))]


def test_no_report_file_carries_a_formula_from_stored_text(demo_app, client_for, tmp_path):
    assert _hostile_texts(demo_app) > 20
    client, _entry = client_for("admin")
    escaped_in, as_text_in = [], []
    meguro = worker_pk(demo_app, login_of(demo_app, "worker", 1)["worker_id"])
    with demo_app.app_context(), using_scope(db.session, ALL):
        chosen = {"worker": meguro, "site": site_pk(demo_app, SITE_A),
                  "employer": db.session.execute(select(Affiliation.employer_id).where(Affiliation.worker_id == meguro)).scalar()}
    for report_id, report in reports.load().items():
        params = {"month": last_month(), **{f: chosen[f] for f in report.filters if f in chosen}}
        rows = read_csv(produced(client, report_id, "csv", tmp_path, **params))
        assert _bad_csv_cells(rows) == [], report_id
        if any(cell.startswith("'" + lead) for row in rows for cell in row for lead in "=+-@"):
            escaped_in.append(report_id)
        xlsx = produced(client, report_id, "xlsx", tmp_path, **params)
        assert _formulas(xlsx) == [], report_id
        with zipfile.ZipFile(xlsx) as book:  # the text is there, as text
            text = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/"))
        if "=HYPERLINK(" in text:
            as_text_in.append(report_id)
    assert len(escaped_in) >= 6, escaped_in  # names and addresses reach most reports, escaped
    assert len(as_text_in) >= 3, as_text_in


def test_the_checks_would_see_a_formula(tmp_path):
    """The readers of the test above find what they look for (so its empty answers mean something)."""
    from openpyxl import Workbook

    assert _bad_csv_cells([["=1+1", "-5", "'=x", "+81 3"]]) == ["=1+1", "+81 3"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    sheet.append(["=1+1"])  # what a plain str cell becomes in openpyxl
    path = tmp_path / "formula.xlsx"
    book.save(path)
    assert _formulas(path) == ["<f>1+1</f>"]
