"""監査ログ: views, exports and changes of workers' personal data by anyone but the worker are logged (who,
when, what, from where), through screens and the REST API alike; the worker reads who looked; administrators
search the log and nobody edits or deletes it."""
from __future__ import annotations

import pytest
from flask import Response, g
from flask_appbuilder import ModelRestApi, ModelView
from sqlalchemy import func, select

from portal.people import audit
from portal.app.db import db
from portal.app.errors import ScopeError
from portal.models import AuditLog, PortalUser, Worker, WorkerPersonal
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token, login_of


def logs(app, **where):
    with app.app_context():
        with using_scope(db.session, ALL):
            stmt = select(AuditLog).order_by(AuditLog.id)
            for column, value in where.items():
                stmt = stmt.where(getattr(AuditLog, column) == value)
            rows = db.session.execute(stmt).scalars().all()
            db.session.expunge_all()
            return rows


def personal_of(app, worker_code):
    with app.app_context():
        with using_scope(db.session, ALL):
            return db.session.execute(select(WorkerPersonal.id, Worker.id).join(Worker).where(
                Worker.worker_id == worker_code)).one()


def test_employer_views_are_logged_per_worker(client_for, demo_app):
    client, entry = client_for("employer", 1)  # (株)基金建設: 目黒 一郎's employer
    before = len(logs(demo_app))
    earlier = len(logs(demo_app, username=entry["login"]))  # the landing page after login is logged too
    page = client.get("/workerpersonalview/list/")
    assert page.status_code == 200
    rows = logs(demo_app, username=entry["login"])[earlier:]
    assert rows and len(logs(demo_app)) - before == len(rows)
    assert {r.action for r in rows} == {"view"}
    assert all(r.remote_addr == "127.0.0.1" and r.worker_id for r in rows)
    assert sum("WorkerPersonal" in r.object_type for r in rows) >= 3
    assert all(r.detail.startswith("GET /workerpersonalview/list/") for r in rows)
    assert len({r.worker_id for r in rows}) == len(rows), "one row per worker and request"
    personal_id, meguro = personal_of(demo_app, "30154216388821")
    assert client.get(f"/workerpersonalview/show/{personal_id}").status_code == 200
    shown = logs(demo_app, username=entry["login"], worker_id=meguro)[-1]
    assert "WorkerPersonal" in shown.object_type and "Worker" in shown.object_type
    assert shown.employer_id is not None and shown.user_id is not None


def test_changes_through_screens_and_api_are_logged(client_for, demo_app):
    client, entry = client_for("employer", 1)
    personal_id, meguro = personal_of(demo_app, "30154216388821")
    r = client.post(f"/workerpersonalview/edit/{personal_id}", data={"address": "東京都港区芝公園4-2-8",
                                                                       "sex": "男", "nationality": "日本"})
    assert r.status_code in (200, 302)
    changed = [x for x in logs(demo_app, worker_id=meguro, action="change") if x.username == entry["login"]]
    assert changed and "WorkerPersonal" in changed[-1].object_type
    api = demo_app.test_client()
    token = api_token(api, entry["login"], entry["password"])
    r = api.get(f"/api/v1/worker-personal/{personal_id}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    viewed = logs(demo_app, worker_id=meguro, action="view")
    assert viewed[-1].detail.startswith(f"GET /api/v1/worker-personal/{personal_id}")
    assert viewed[-1].username == entry["login"]


def test_the_worker_itself_is_not_logged_and_sees_who_looked(client_for, demo_app):
    employer, _e = client_for("employer", 1)
    employer.get("/workerpersonalview/list/")
    worker, entry = client_for("worker", 1)  # 目黒 一郎
    with demo_app.app_context():
        with using_scope(db.session, ALL):
            me = db.session.execute(select(Worker.id).where(Worker.worker_id == entry["login"])).scalar_one()
    before = len(logs(demo_app))
    assert worker.get("/workerpersonalview/list/").status_code == 200
    assert len(logs(demo_app)) == before
    # the worker reads its rows on 390_閲覧記録 (companies and Tokyo times), not the administrators' log with
    # staff login IDs and addresses (issue 9)
    assert worker.get("/auditlogview/list/").status_code in (302, 403)
    page = worker.get("/worker/390").get_data(as_text=True)
    about_me = logs(demo_app, worker_id=me)
    assert about_me and "(株)基金建設" in page and "閲覧" in page
    assert f">{about_me[0].username}<" not in page and "127.0.0.1" not in page


def test_export_marks_and_failure_withholds(demo_app, monkeypatch):
    entry = login_of(demo_app, "employer", 1)
    with demo_app.test_request_context("/reports/az6.csv"):
        with using_scope(db.session, ALL):
            g.user = db.session.execute(select(PortalUser).where(PortalUser.username == entry["login"])).scalar_one()
            audit.mark_export("作業員名簿 CSV")
            workers = db.session.execute(select(Worker).limit(3)).scalars().all()
        audit.flush_request(Response("ok"))
    rows = logs(demo_app, username=entry["login"])
    assert {r.action for r in rows} == {"export"} and {r.worker_id for r in rows} == {w.id for w in workers}
    assert "作業員名簿 CSV" in rows[0].detail

    client = demo_app.test_client()
    from portal.demo.testing import login

    login(client, entry["login"], entry["password"])

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    r = client.get("/workerpersonalview/list/")
    assert r.status_code == 500 and "目黒" not in r.get_data(as_text=True)


def test_no_screen_or_api_edits_or_deletes_the_log(demo_app, client_for):
    views = [v for v in demo_app.appbuilder.baseviews
             if isinstance(v, (ModelView, ModelRestApi)) and getattr(v, "datamodel", None) is not None
             and v.datamodel.obj is AuditLog]
    assert views, "the administrators' audit log screen exists"
    for v in views:
        assert set(v.base_permissions) <= {"can_list", "can_show", "can_get", "can_info"}, v
    employer, _e = client_for("employer", 1)
    employer.get("/workerpersonalview/list/")
    admin, _a = client_for("admin")
    first = logs(demo_app)[0]
    page = admin.get(f"/auditlogview/list/?_flt_0_username={_e['login']}")
    assert page.status_code == 200 and _e["login"] in page.get_data(as_text=True)
    for url in (f"/auditlogview/edit/{first.id}", f"/auditlogview/delete/{first.id}"):
        assert admin.get(url).status_code in (302, 403, 404, 405)
        admin.post(url, data={"detail": "消去"})
    assert logs(demo_app, id=first.id)[0].detail == first.detail
    with demo_app.app_context():
        with using_scope(db.session, ALL):  # not even the administrator's scope, not even from code
            row = db.session.get(AuditLog, first.id)
            row.detail = "改ざん"
            with pytest.raises(ScopeError):
                db.session.flush()
            db.session.rollback()
            db.session.delete(db.session.get(AuditLog, first.id))
            with pytest.raises(ScopeError):
                db.session.flush()
            db.session.rollback()
            assert db.session.execute(select(func.count()).select_from(AuditLog)).scalar() == len(logs(demo_app))
