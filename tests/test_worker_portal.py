"""The worker's own portal (menus 310–400) per role: the numbered menus, change requests approved by the employer
(転職 by the new employer, which cancels the old link at once), card reissue, withdrawal with its stated effects,
and the page of who looked at the worker's data."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.people import worker_requests
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import Affiliation, AuditLog, PortalUser, Worker, WorkerPersonal
from portal.models.applications import CardReissueRequest, ChangeRequest
from portal.people.scoping import ALL, using_scope, worker_scope
from portal.demo.testing import login

MEGURO = "30154216388821"
KIKIN1 = "66679345433022"


def text(client, url, **kw):
    r = client.get(url, follow_redirects=True, **kw)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def query(app, stmt):
    with app.app_context():
        with using_scope(db.session, ALL):
            rows = db.session.execute(stmt).all()
            db.session.expunge_all()
            return rows


def test_menus_numbered_as_in_the_seed_and_usable_on_a_phone(client_for):
    worker, entry = client_for("worker", 1)
    html = text(worker, "/worker/")
    for code, label in [("310", "閲覧"), ("320", "就業履歴"), ("340", "施工体制登録"), ("350", "変更"),
                        ("360", "カード再発行"), ("380", "開示設定"), ("400", "退会")]:
        assert code in html and label in html
    for sub in ["技能者情報", "所属事業者情報", "施工体制登録情報", "事業者の検索", "申請情報の検索"]:
        assert sub in html
    assert 'name="viewport" content="width=device-width' in html and "@media (max-width: 600px)" in html
    for url in ["/worker/310/10", "/worker/310/20", "/worker/310/30", "/worker/310/40", "/worker/310/60",
                "/worker/320", "/worker/340", "/worker/350", "/worker/360", "/worker/390", "/worker/400"]:
        text(worker, url)
    assert "A現場工事" in text(worker, "/worker/310/40") and "(株)基金建設" in text(worker, "/worker/310/30")


def test_other_roles_have_no_worker_menu(client_for):
    for role in ("employer", "prime", "site_manager"):
        client, _ = client_for(role)
        r = client.get("/worker/")
        assert r.status_code in (302, 403)


def test_employer_search_shows_registry_fields_only(client_for):
    worker, _ = client_for("worker", 1)
    html = text(worker, "/worker/310/50?q=元請")
    assert "(株)元請A" in html and "41522937006822" in html
    assert "03-1111-0001" not in html and "丸の内" not in html  # no phone or address


def test_address_change_goes_to_the_employer_for_approval(client_for, demo_app):
    worker, _ = client_for("worker", 1)
    worker.post("/worker/350", data={"kind": "address", "postal_code": "105-0011", "address": "東京都港区芝公園4-2-8"})
    again = worker.post("/worker/350", data={"kind": "address", "address": "東京都港区芝公園1-1"}, follow_redirects=True)
    assert "審査中" in again.get_data(as_text=True)
    assert "申請中" in text(worker, "/worker/310/60")
    (req,), = query(demo_app, select(ChangeRequest))
    assert req.kind == "address" and req.status == "申請中"

    prime, _ = client_for("prime", 0)  # not the approver: does not even see it
    assert "芝公園" not in text(prime, "/change-requests/")
    prime.post(f"/change-requests/{req.id}", data={"decision": "approve"})
    assert query(demo_app, select(ChangeRequest.status))[0][0] == "申請中"

    employer, entry = client_for("employer", 1)  # (株)基金建設
    assert "芝公園4-2-8" in text(employer, "/change-requests/")
    employer.post(f"/change-requests/{req.id}", data={"decision": "approve"})
    address = query(demo_app, select(WorkerPersonal.address).join(Worker).where(Worker.worker_id == MEGURO))[0][0]
    assert address == "東京都港区芝公園4-2-8"
    assert query(demo_app, select(ChangeRequest.status))[0][0] == "承認"
    changes = query(demo_app, select(AuditLog).where(AuditLog.action == "change", AuditLog.username == entry["login"]))
    assert any("WorkerPersonal" in r.object_type for (r,) in changes)


def test_photo_and_birth_date_cannot_be_changed_by_request(demo_app):
    with demo_app.app_context():
        session = db.session
        with using_scope(session, ALL):
            pk = session.execute(select(Worker.id).where(Worker.worker_id == MEGURO)).scalar_one()
        scope = worker_scope(session, pk)
        for values in ({"birth_date": "1990-01-01"}, {"photo": "x.jpg"}):
            with pytest.raises(DomainError) as e:
                worker_requests.file_change(session, scope, "address", {"address": "x", **values})
            assert e.value.code == "not_changeable"
        with pytest.raises(DomainError) as e:
            worker_requests.file_change(session, scope, "employer", {"employer_id": "123"})
        assert e.value.code in ("invalid_id", "invalid_ccus_id") or "14" in e.value.message
    assert "生年月日" in worker_requests.NOT_CHANGEABLE.values()


def test_changing_employer_cancels_the_old_link_at_once(client_for, demo_app):
    worker, _ = client_for("worker", 1)
    old, _ = client_for("employer", 1)  # (株)基金建設
    assert "目黒 一郎" in text(old, f"/worker-information/{MEGURO}")
    worker.post("/worker/350", data={"kind": "employer", "employer_id": KIKIN1})
    new, _ = client_for("employer", 0)  # (株)基金一次建設, the new employer, approves
    (req,), = query(demo_app, select(ChangeRequest))
    new.post(f"/change-requests/{req.id}", data={"decision": "approve"})
    links = dict((e, s) for e, s in query(demo_app, select(Affiliation.employer_id, Affiliation.status).join(Worker)
                                          .where(Worker.worker_id == MEGURO)))
    assert sorted(links.values()) == ["取消", "承認済"]
    assert "表示できる技能者情報がありません" in text(old, f"/worker-information/{MEGURO}")
    assert "目黒 一郎" in text(new, f"/worker-information/{MEGURO}")
    html = text(worker, "/worker/310/30")
    assert "過去の所属事業者（取消）" in html and "(株)基金一次建設" in html


def test_card_reissue_request(client_for, demo_app):
    worker, _ = client_for("worker", 1)
    worker.post("/worker/360", data={"reason": "紛失", "note": "現場で紛失"})
    dup = worker.post("/worker/360", data={"reason": "紛失"}, follow_redirects=True)
    assert "処理中" in dup.get_data(as_text=True)
    bad = worker.post("/worker/360", data={"reason": "なんとなく"}, follow_redirects=True)
    assert "再発行の理由" in bad.get_data(as_text=True)
    admin, _ = client_for("admin")
    (req,), = query(demo_app, select(CardReissueRequest))
    assert "現場で紛失" in text(admin, "/card-reissue/")
    admin.post(f"/card-reissue/{req.id}")
    assert query(demo_app, select(CardReissueRequest.status))[0][0] == "発行済"
    assert "発行済" in text(worker, "/worker/310/60")


def test_withdrawal_states_and_does_what_it_says(client_for, demo_app):
    worker, entry = client_for("worker", 1)
    html = text(worker, "/worker/400")
    for line in worker_requests.WITHDRAWAL_TERMS["immediately"] + worker_requests.WITHDRAWAL_TERMS["retained"]:
        assert line in html
    r = worker.post("/worker/400", data={"password": entry["password"]}, follow_redirects=True)
    assert "同意してください" in r.get_data(as_text=True)
    r = worker.post("/worker/400", data={"agree": "yes", "password": "wrong-password-9"}, follow_redirects=True)
    assert "パスワードが正しくありません" in r.get_data(as_text=True)
    worker.post("/worker/400", data={"agree": "yes", "password": entry["password"]})
    (w,), = query(demo_app, select(Worker).where(Worker.worker_id == MEGURO))
    assert w.withdrawn_at is not None
    assert query(demo_app, select(WorkerPersonal).where(WorkerPersonal.worker_id == w.id)) == []
    assert {s for (s,) in query(demo_app, select(Affiliation.status).where(Affiliation.worker_id == w.id))} == {"取消"}
    assert query(demo_app, select(PortalUser.active).where(PortalUser.username == MEGURO))[0][0] is False
    assert worker.get("/worker/").status_code == 302
    fresh = demo_app.test_client()
    login(fresh, entry["login"], entry["password"])
    assert fresh.get("/worker/").status_code == 302
    employer, _ = client_for("employer", 1)
    assert "表示できる技能者情報がありません" in text(employer, f"/worker-information/{MEGURO}")


def test_worker_sees_who_looked(client_for):
    employer, entry = client_for("employer", 1)
    text(employer, f"/worker-information/{MEGURO}")
    worker, _ = client_for("worker", 1)
    html = text(worker, "/worker/390")
    # the company and the action; not the staff member's login ID (issue 9: the 閲覧記録 names companies)
    assert "(株)基金建設" in html and "閲覧" in html and f">{entry['login']}<" not in html


def test_application_rows_are_scoped(client_for, demo_app):
    from portal.models.accounts import WorkerAccount
    from portal.people.scoping import employer_scope

    for i in (0, 1):
        worker, _ = client_for("worker", i)
        worker.post("/worker/350", data={"kind": "contact", "phone_mobile": f"090-0000-000{i}"})
        worker.post("/worker/360", data={"reason": "破損・故障"})
    with demo_app.app_context():
        session = db.session
        with using_scope(session, ALL):
            requests = session.execute(select(ChangeRequest)).scalars().all()
            assert len(requests) == 2
            accounts = len(session.execute(select(WorkerAccount)).scalars().all())
            assert accounts >= 2
        for req in requests:
            scope = worker_scope(session, req.worker_id)
            with using_scope(session, scope):
                assert {r.worker_id for r in session.execute(select(ChangeRequest)).scalars()} == {req.worker_id}
                assert {r.worker_id for r in session.execute(select(CardReissueRequest)).scalars()} == {req.worker_id}
                assert session.execute(select(WorkerAccount)).scalars().all() == []  # not even its own hash
            approver = employer_scope(session, req.employer_id)
            with using_scope(session, approver):
                assert req.id in {r.id for r in session.execute(select(ChangeRequest)).scalars()}
                assert session.execute(select(WorkerAccount)).scalars().all() == []
            session.rollback()
