"""The safety documents in English for a user who chose English (FAB's language switch): the 安全書類 menu's
headings, and the headings of the one-list forms (AZ3, AZ7, 第7号) in the files, read back by openpyxl and
pypdf, made directly and as a background job; a Japanese user still gets Japanese; the data stays as entered."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from portal.app import i18n
from portal.app.db import db
from portal.demo.testing import demo_copy, login, login_of
from portal.models import SiteWorkerRegistration
from portal.people.scoping import ALL, using_scope
from reports.safety import headings, induction, insurance, ledger
from tests.safety_world import seed
from tests.test_reports import wait_job

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
HELD_ON = datetime.date(2026, 4, 6)


@pytest.fixture(scope="module")
def english_world(tmp_path_factory):
    with demo_copy(tmp_path_factory.mktemp("safety-en"), tmp_path_factory) as app:
        world = seed(app)
        kikin = world["employers"][login_of(app, "employer", 1)["employer_id"]]
        with app.app_context(), using_scope(db.session, ALL):
            for reg in db.session.execute(select(SiteWorkerRegistration).where(
                    SiteWorkerRegistration.site_id == world["site"], SiteWorkerRegistration.employer_id == kikin)).scalars():
                reg.entry_education_on = HELD_ON
            db.session.commit()
        yield app, world["site"], kikin


def _client(app, role, index, lang):
    entry = login_of(app, role, index)
    client = app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200
    client.get(f"/lang/{lang}")  # FAB's language switch: kept in the session
    return client


def _headings(data: bytes) -> list[str]:
    """The heading cells of a one-list form's Excel file: the title row, the labels of the header and footer lines
    (column A of a two-cell row) and the column-label rows (bold cells), as openpyxl reads them."""
    ws = load_workbook(io.BytesIO(data)).active
    found = []
    for row in ws.iter_rows():
        cells = [c for c in row if c.value not in (None, "")]
        found += [str(c.value) for c in cells if c.font is not None and c.font.b]
    return found


def test_the_forms_headings_follow_the_users_language(english_world, tmp_path):
    app, site, kikin = english_world
    english = _client(app, "employer", 1, "en")
    japanese = _client(app, "employer", 1, "ja")
    paths = {"AZ3": f"/safety/engineers/{site}", "AZ7": f"/safety/insurance/{site}/{kikin}",
             "No7": f"/safety/induction/{site}/{kikin}"}
    titles = {"AZ3": ledger.ENGINEERS_TITLE, "AZ7": insurance.TITLE, "No7": induction.TITLE}
    query = {"No7": f"?held_on={HELD_ON.isoformat()}"}
    for form, path in paths.items():
        r = english.get(f"{path}.xlsx{query.get(form, '')}")
        assert r.status_code == 200, form
        found = _headings(r.data)
        assert found[0] == i18n.translate(titles[form], "en") != titles[form], form
        assert [h for h in found if JAPANESE.search(h)] == [], form  # every heading is English
        same = _headings(japanese.get(f"{path}.xlsx{query.get(form, '')}").data)
        assert same[0] == titles[form] and len(same) == len(found), form
        # every Japanese heading of the made form is a collected msgid with an English translation
        assert set(same) <= headings.MSGIDS, set(same) - headings.MSGIDS
        pdf = english.get(f"{path}.pdf{query.get(form, '')}")
        (tmp_path / f"{form}.pdf").write_bytes(pdf.data)
        text = "".join(p.extract_text() for p in PdfReader(str(tmp_path / f"{form}.pdf")).pages)
        assert i18n.translate(titles[form], "en") in text and titles[form] not in text, form
    ws = load_workbook(io.BytesIO(english.get(f"{paths['No7']}.xlsx?held_on={HELD_ON.isoformat()}").data)).active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "Kind of training" in values and "新規入場時" in values  # the data itself stays as entered
    assert "Attendee's signature" in values and "Date held" in values


def test_a_background_job_keeps_the_language_it_was_asked_in(english_world):
    app, site, kikin = english_world
    for lang, title in (("en", "Social insurance enrolment"), ("ja", insurance.TITLE)):
        client = _client(app, "employer", 1, lang)
        r = client.post("/safety/jobs/AZ7", data={"site": site, "employer": kikin, "format": "xlsx"})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        status = wait_job(client, int(r.headers["Location"].rstrip("/").split("/")[-1]))
        assert status["status"] == "done", status
        found = _headings(client.get(status["download"]).data)
        assert found[0] == title and (lang == "ja") == any(JAPANESE.search(h) for h in found), lang


def test_the_menu_is_in_the_users_language(english_world):
    app, _site, _kikin = english_world
    page = _client(app, "employer", 1, "en").get("/safety/").get_data(as_text=True)
    body = page[page.find("<h2>"):page.find("</table>")]
    for heading in ("Safety documents", "Worker roster (Form 5)", "Social insurance enrolment", "Submission and approval",
                    "Create in the background", "Zenken unified forms 6th revision (October 2024)"):
        assert heading in body, heading
    columns = re.findall(r"<th>([^<]*)</th>", body)
    assert columns and [h for h in columns if JAPANESE.search(h)] == []
    japanese = _client(app, "employer", 1, "ja").get("/safety/").get_data(as_text=True)
    assert "作業員名簿（第5号）" in japanese and "Worker roster (Form 5)" not in japanese
