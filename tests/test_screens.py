"""Bad input on the generated screens: a Japanese message on the form, nothing stored changes."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.app.db import db
from portal.models import Employer, Site, Worker
from portal.people.scoping import ALL, using_scope


def count(app, model) -> int:
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_invalid_and_duplicate_worker_ids_on_the_form(client_for, demo_app):
    client, _ = client_for("admin")
    before = count(demo_app, Worker)
    form = {"name": "試験 太郎", "level": "1", "registration_type": "詳細型", "identity_document": "y"}
    page = client.post("/workerview/add", data={**form, "worker_id": "12-34"}, follow_redirects=True)
    assert "技能者IDは14桁の数字で入力してください" in page.get_data(as_text=True)
    page = client.post("/workerview/add", data={**form, "worker_id": "93845751166921"}, follow_redirects=True)
    assert "既に登録されています" in page.get_data(as_text=True)
    assert count(demo_app, Worker) == before
    page = client.post("/workerview/add", data={**form, "worker_id": "１２３４５６７８９０１２２１"}, follow_redirects=True)
    assert count(demo_app, Worker) == before + 1  # full-width digits are the same digits
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert db.session.execute(select(Worker).where(Worker.worker_id == "12345678901221")).scalar_one()


def test_duplicate_is_refused_even_when_the_holder_is_outside_the_scope(client_for, demo_app):
    """The uniqueness check looks at the whole table without showing the row it found."""
    client, entry = client_for("prime")
    with demo_app.app_context(), using_scope(db.session, ALL):
        other_site = db.session.execute(select(Site).where(Site.site_id != "36265810102371")
                                        .where(Site.prime_employer_id != db.session.execute(
                                            select(Employer.id).where(Employer.employer_id == entry["employer_id"])).scalar())
                                        ).scalars().first()
        me = db.session.execute(select(Employer.id).where(Employer.employer_id == entry["employer_id"])).scalar()
        code = other_site.site_id
    before = count(demo_app, Site)
    page = client.post("/siteview/add", data={"site_id": code, "name": "重複現場", "prime_employer": str(me)},
                       follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "既に登録されています" in html and other_site.name not in html
    assert count(demo_app, Site) == before


def test_wrong_dates_on_the_form(client_for, demo_app):
    client, entry = client_for("prime")
    with demo_app.app_context(), using_scope(db.session, ALL):
        me = db.session.execute(select(Employer.id).where(Employer.employer_id == entry["employer_id"])).scalar()
    before = count(demo_app, Site)
    page = client.post("/siteview/add", data={"site_id": "11112222333371", "name": "期間誤り", "prime_employer": str(me),
                                              "accumulation_start": "2026-12-01", "accumulation_end": "2026-11-01"},
                       follow_redirects=True)
    assert "終了日が開始日より前です" in page.get_data(as_text=True)
    assert count(demo_app, Site) == before


def test_employer_cannot_register_a_site_for_another_prime(client_for, demo_app):
    client, entry = client_for("employer")  # (株)基金一次建設: sees (株)元請A as the prime of its site
    with demo_app.app_context(), using_scope(db.session, ALL):
        prime_a = db.session.execute(select(Employer.id).where(Employer.employer_id == "41522937006822")).scalar()
    before = count(demo_app, Site)
    page = client.post("/siteview/add", data={"site_id": "11112222444471", "name": "他社名義", "prime_employer": str(prime_a)},
                       follow_redirects=True)
    assert "権限がありません" in page.get_data(as_text=True)
    assert count(demo_app, Site) == before
