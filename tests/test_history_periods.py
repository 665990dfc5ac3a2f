"""Facts have periods, and a day's history reads the facts of that day (issue 9): a 転職 keeps the days before it
with the old employer, a roster edit is a new fact from today, a qualification without 取得年月日 counts from the
day it was registered, and a direct input for a day before a 転職 belongs to the employer of that day."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from corrections_world import IDS, As, built, world, world_app  # noqa: F401  (fixtures)
from ingest_world import MEGURO, MIRAI, SITE_A, event, history, new_device, recent_day, send, site_pk, worker_pk
from portal.history import corrections as C
from portal.history import histories
from portal.people import worker_requests
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import (
    Affiliation, Employer, Qualification, SiteWorkerRegistration, WorkerQualification, WorkHistory,
)
from portal.people.scoping import ALL, employer_scope, using_scope, worker_scope

TODAY = datetime.date(2026, 11, 5)  # the fixed-date world's today


def _closed_day(app, worker: str, site: str = SITE_A) -> datetime.date:
    """A demo day of the worker at the site in a month already closed (two months back)."""
    today = histories.tokyo_today()
    with app.app_context(), using_scope(db.session, ALL):
        days = db.session.execute(select(WorkHistory.work_date).where(
            WorkHistory.worker_id == worker_pk(app, worker), WorkHistory.site_id == site_pk(app, site),
            WorkHistory.counted.is_(True)).order_by(WorkHistory.work_date)).scalars().all()
    closed = [d for d in days if histories.is_closed(d, today)]
    assert closed, "the demo has days in a closed month"
    return closed[-1]


def test_a_job_change_through_the_worker_portal_keeps_the_days_before_with_the_old_employer(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MEGURO, day, 8), event(MEGURO, day, 17, "exit")])
    closed = _closed_day(demo_app, MEGURO)
    w = worker_pk(demo_app, MEGURO)
    before_open, before_closed = history(demo_app, MEGURO, SITE_A, day), history(demo_app, MEGURO, SITE_A, closed)
    assert before_open["valid_for_evaluation"] and before_closed["valid_for_evaluation"]
    today = histories.tokyo_today()
    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            old = s.execute(select(Affiliation.employer_id).where(Affiliation.worker_id == w,
                                                                  Affiliation.status == "承認済")).scalar_one()
            new_code = s.execute(select(Employer.employer_id).where(Employer.id != old).order_by(Employer.id)
                                 ).scalars().first()
            scope = worker_scope(s, w)
        req = worker_requests.file_change(s, scope, "employer", {"employer_id": new_code})
        with using_scope(s, ALL):
            worker_requests.decide(s, ALL, req.id, True, "テスト", today=today)
        s.commit()
        with using_scope(s, ALL):
            links = s.execute(select(Affiliation.employer_id, Affiliation.status, Affiliation.ended_on,
                                     Affiliation.started_on).where(Affiliation.worker_id == w)
                              .order_by(Affiliation.id)).all()
    ended = [r for r in links if r.employer_id == old]
    assert ended[0].status == "取消" and ended[0].ended_on == today - datetime.timedelta(days=1)
    assert [r for r in links if r.status == "承認済"][0].started_on == today
    for d, before in ((day, before_open), (closed, before_closed)):
        h = history(demo_app, MEGURO, SITE_A, d)
        assert h["employer_id"] == old and h["valid_for_evaluation"] and h["invalid_reason"] is None
        assert (h["counted"], h["trade_id"], h["position"]) == (before["counted"], before["trade_id"], before["position"])


def _班長_pair(app):
    """A roster row that says 班長, with a closed and an open demo day of its worker on its site."""
    today = histories.tokyo_today()
    with app.app_context(), using_scope(db.session, ALL):
        rt, ht = SiteWorkerRegistration.__table__, WorkHistory.__table__
        for r in db.session.execute(select(rt.c.id, rt.c.worker_id, rt.c.site_id, rt.c.employer_id).where(
                rt.c.position == "班長").order_by(rt.c.id)).all():
            days = db.session.execute(select(ht.c.work_date).where(
                ht.c.worker_id == r.worker_id, ht.c.site_id == r.site_id, ht.c.counted.is_(True),
                ht.c.position == "班長")).scalars().all()
            closed = [d for d in days if histories.is_closed(d, today)]
            open_ = [d for d in days if not histories.is_closed(d, today) and d < today]
            if closed and open_:
                return r, closed[-1], open_[-1]
    pytest.fail("no 班長 roster row with closed and open days in the demo")


def _row(app, worker_id, site_id, day):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(WorkHistory.__table__).where(
            WorkHistory.worker_id == worker_id, WorkHistory.site_id == site_id, WorkHistory.work_date == day)).one()


def test_a_roster_edit_today_changes_no_past_day(demo_app):
    """The employer makes its worker 職長 today: the closed month's days and this window's past days stay 班長 (no
    silent leader days); the edit is a new row from today, the old one ends yesterday."""
    reg, closed, open_day = _班長_pair(demo_app)
    before = {d: _row(demo_app, reg.worker_id, reg.site_id, d) for d in (closed, open_day)}
    today = histories.tokyo_today()
    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            scope = employer_scope(s, reg.employer_id)
        with using_scope(s, scope):
            s.get(SiteWorkerRegistration, reg.id).position = "職長"
            s.commit()
        with using_scope(s, ALL):
            rows = s.execute(select(SiteWorkerRegistration.position, SiteWorkerRegistration.start_date,
                                    SiteWorkerRegistration.end_date).where(
                SiteWorkerRegistration.worker_id == reg.worker_id, SiteWorkerRegistration.site_id == reg.site_id)
                .order_by(SiteWorkerRegistration.start_date)).all()
    assert [r.position for r in rows] == ["班長", "職長"]
    assert rows[0].end_date == today - datetime.timedelta(days=1) and rows[1].start_date == today
    for d in (closed, open_day):
        assert _row(demo_app, reg.worker_id, reg.site_id, d) == before[d]


def test_a_roster_edit_effective_before_today_is_refused(demo_app):
    reg, _closed, open_day = _班長_pair(demo_app)
    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            scope = employer_scope(s, reg.employer_id)
        with using_scope(s, scope):
            row = s.get(SiteWorkerRegistration, reg.id)
            row.position, row.effective_from = "職長", open_day
            with pytest.raises(DomainError) as e:
                s.flush()
            s.rollback()
    assert e.value.code == "retroactive_roster_change" and "事後補正" in e.value.message
    assert _row(demo_app, reg.worker_id, reg.site_id, open_day).position == "班長"


def test_a_roster_edit_through_the_api_is_a_new_fact_from_today(demo_app):
    from portal.demo.testing import api_token, login_of

    entry = login_of(demo_app, "employer")
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
    with demo_app.app_context(), using_scope(db.session, ALL):
        reg = db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.worker_id == worker_pk(demo_app, MIRAI),
            SiteWorkerRegistration.site_id == site_pk(demo_app, SITE_A))).scalar_one()
        reg_id = reg.id
    r = client.put(f"/api/v1/site-workers/{reg_id}", headers=headers, json={"position": "職長"})
    assert r.status_code == 200, r.get_data(as_text=True)
    with demo_app.app_context(), using_scope(db.session, ALL):
        rows = db.session.execute(select(SiteWorkerRegistration.position, SiteWorkerRegistration.start_date).where(
            SiteWorkerRegistration.worker_id == worker_pk(demo_app, MIRAI),
            SiteWorkerRegistration.site_id == site_pk(demo_app, SITE_A)).order_by(SiteWorkerRegistration.start_date)).all()
    assert [r.position for r in rows] == ["班長", "職長"] and rows[1].start_date == histories.tokyo_today()


def test_a_qualification_without_a_date_counts_from_the_day_it_was_registered(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MIRAI, day, 8)])
    assert history(demo_app, MIRAI, SITE_A, day)["qualifications"] == []
    w = worker_pk(demo_app, MIRAI)
    with demo_app.app_context(), using_scope(db.session, ALL):
        q = db.session.execute(select(Qualification).order_by(Qualification.id)).scalars().first()
        code = q.code
        db.session.add(WorkerQualification(worker_id=w, qualification_id=q.id))  # no 取得年月日
        db.session.commit()
    h = history(demo_app, MIRAI, SITE_A, day)
    assert h["qualifications"] == [] and "資格" in h["invalid_reason"]
    today = histories.tokyo_today()
    send(demo_app, device, [event(MIRAI, today, 0, mm=1)])
    assert history(demo_app, MIRAI, SITE_A, today)["qualifications"] == [code]


def test_a_qualification_holds_until_its_expiry(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MIRAI, day, 8), event(MIRAI, day + datetime.timedelta(days=1), 8)])
    w = worker_pk(demo_app, MIRAI)
    with demo_app.app_context(), using_scope(db.session, ALL):
        q = db.session.execute(select(Qualification).order_by(Qualification.id)).scalars().first()
        db.session.add(WorkerQualification(worker_id=w, qualification_id=q.id, obtained_on=datetime.date(2020, 4, 1),
                                           expires_on=day))
        db.session.commit()
        code = q.code
    assert history(demo_app, MIRAI, SITE_A, day)["qualifications"] == [code]
    assert history(demo_app, MIRAI, SITE_A, day + datetime.timedelta(days=1))["qualifications"] == []


# --- 直接入力 for a day before a 転職 (the fixed-date world: DAY in October, TODAY in November) -----------------

def _change_job(s, ids, today=TODAY):
    """w1 leaves S1 for O (approved on ``today``); w1's roster row on X is gone (so no roster names the day)."""
    with using_scope(s, ALL):
        worker_requests.change_employer(s, ids["w1"], ids["O"], today)
        for r in s.execute(select(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == ids["w1"])).scalars():
            s.delete(r)
        s.commit()


def _file(s, ids, who: str, day: datetime.date) -> int:
    with As(s, who) as actor:
        cid = C.request_direct_input(s, actor, worker_id=ids["w1"], work_date=day, reason="card_forgotten",
                                     site_code=IDS["X"], position="一般", trade_id=ids["rebar"], today=TODAY).id
        s.commit()
    return cid


def test_a_direct_input_for_a_day_before_a_job_change_belongs_to_the_old_employer_and_counts(world):
    ids, s = world
    _change_job(s, ids)
    day = datetime.date(2026, 10, 20)
    cid = _file(s, ids, "w1", day)
    with using_scope(s, ALL):
        assert s.get(C.WorkCorrection, cid).employer_id == ids["S1"]
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    with using_scope(s, ALL):
        h = s.execute(select(WorkHistory).where(WorkHistory.worker_id == ids["w1"], WorkHistory.work_date == day)).scalar_one()
        assert (h.employer_id, h.counted, h.valid_for_evaluation, h.methods) == (ids["S1"], True, True, "直接")
        # the trail: the pending request added the day (its filer), the prime's approval changed it
        from portal.models import WorkHistoryChange

        steps = s.execute(select(WorkHistoryChange.action, WorkHistoryChange.cause, WorkHistoryChange.actor,
                                 WorkHistoryChange.after).where(WorkHistoryChange.worker_id == ids["w1"],
                                                                WorkHistoryChange.work_date == day)
                          .order_by(WorkHistoryChange.id)).all()
        assert [(a, c, who) for a, c, who, _after in steps] == [("added", "correction", "w1"),
                                                                ("changed", "correction", "p")]
        assert steps[1].after["counted"] is True


def test_the_old_employer_files_for_its_own_past_day_and_the_new_one_cannot(world):
    ids, s = world
    _change_job(s, ids)
    day = datetime.date(2026, 10, 21)
    cid = _file(s, ids, "s1", day)
    with As(s, "s1"):  # it sees the request it filed (its own day), not the worker's other records
        assert s.execute(select(C.WorkCorrection.id).where(C.WorkCorrection.id == cid)).scalar() == cid
    with As(s, "o") as actor, pytest.raises(DomainError) as e:  # the new employer: not its day
        C.request_direct_input(s, actor, worker_id=ids["w1"], work_date=day + datetime.timedelta(days=1),
                               reason="card_forgotten", site_code=IDS["X"], today=TODAY)
    assert e.value.code == "requester_not_allowed"
    s.rollback()
    with As(s, "s1") as actor, pytest.raises(DomainError) as e:  # a day after the worker left: not S1's day
        C.request_direct_input(s, actor, worker_id=ids["w1"], work_date=TODAY, reason="card_forgotten",
                               site_code=IDS["X"], today=TODAY)
    assert e.value.code in ("requester_not_allowed", "unknown_worker")
    s.rollback()
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    with using_scope(s, ALL):
        h = s.execute(select(WorkHistory).where(WorkHistory.worker_id == ids["w1"], WorkHistory.work_date == day)).scalar_one()
        assert (h.employer_id, h.counted, h.valid_for_evaluation) == (ids["S1"], True, True)


def test_the_old_employer_files_on_screen_for_a_worker_who_left(world_app, built):
    """s1 (the old employer) sees its former worker in the request form and files for a day it employed him."""
    from portal.demo import DEMO_PASSWORD
    from portal.demo.testing import login

    ids = built
    today = C.today_in_tokyo()
    day = today - datetime.timedelta(days=2)
    with world_app.app_context():
        with using_scope(db.session, ALL):
            worker_requests.change_employer(db.session, ids["w1"], ids["O"], today)
            db.session.commit()
    c = world_app.test_client()
    assert login(c, "s1", DEMO_PASSWORD).status_code == 200
    page = c.get("/corrections/new").get_data(as_text=True)
    assert "（元所属）" in page and IDS["w1"] in page
    done = c.post("/corrections/new", data={"worker_id": str(ids["w1"]), "work_date": day.isoformat(),
                                            "site_code": IDS["X"], "reason": "card_forgotten"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    with world_app.app_context(), using_scope(db.session, ALL):
        c_row = db.session.execute(select(C.WorkCorrection).order_by(C.WorkCorrection.id.desc())).scalars().first()
        assert (c_row.worker_id, c_row.employer_id, c_row.work_date) == (ids["w1"], ids["S1"], day)
