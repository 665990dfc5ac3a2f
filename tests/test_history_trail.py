"""Every change of a stored history leaves a trail (issue 9): one WorkHistoryChange per insert, update or delete,
with the changed fields before and after, the cause and who, on both ingest paths, only for rows that changed;
scoped like the histories; the worker sees it on his calendar screen. And the fast path's roster cache: a
roster change that commits while a batch is validated is not overwritten by that batch."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from ingest_world import MEGURO, SITE_A, TOKYO, event, history, new_device, recent_day, send, site_pk, worker_pk
from portal.history import histories
from portal.app.db import db
from portal.devices import hookimpl
from portal.models import SiteWorkerRegistration, WorkHistoryChange
from portal.people.scoping import ALL, employer_scope, using_scope, worker_scope


def trail(app, worker: str, day: datetime.date) -> list:
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(WorkHistoryChange).where(
            WorkHistoryChange.worker_id == worker_pk(app, worker), WorkHistoryChange.work_date == day)
            .order_by(WorkHistoryChange.id)).scalars().all()


def test_taps_leave_a_trail_only_when_the_row_changes(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    entry = event(MEGURO, day, 8)
    send(demo_app, device, [entry])
    [added] = trail(demo_app, MEGURO, day)
    assert (added.action, added.cause, added.actor, added.before) == ("added", "tap", f"機器 {device}", None)
    assert added.after["methods"] == "API" and added.after["first_entry_at"] is not None
    send(demo_app, device, [entry])  # a replay
    send(demo_app, device, [event(MEGURO, day, 12, "work")])  # changes nothing of the row
    assert len(trail(demo_app, MEGURO, day)) == 1
    send(demo_app, device, [event(MEGURO, day, 17, "exit")])
    changed = trail(demo_app, MEGURO, day)[-1]
    assert (changed.action, changed.cause) == ("changed", "tap")
    assert set(changed.before) == {"last_exit_at"} and changed.before["last_exit_at"] is None
    assert changed.after["last_exit_at"] is not None
    assert changed.employer_id == history(demo_app, MEGURO, SITE_A, day)["employer_id"]


def test_a_roster_change_and_a_rebuild_name_their_cause(demo_app):
    device, _key = new_device(demo_app)
    today = histories.tokyo_today()
    send(demo_app, device, [event(MEGURO, today, 0, mm=1)])
    w, s = worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s)).scalar_one().position = "班長"
        db.session.commit()
    last = trail(demo_app, MEGURO, today)[-1]
    assert last.cause == "roster" and last.before["position"] == "職長" and last.after["position"] == "班長"
    with demo_app.app_context(), using_scope(db.session, ALL):
        from sqlalchemy import update

        from portal.models import WorkHistory

        db.session.execute(update(WorkHistory.__table__).where(
            WorkHistory.worker_id == w, WorkHistory.work_date == today).values(work_content="手で書換え"))
        histories.rebuild(db.session, f"{today:%Y-%m}")
        db.session.commit()
    last = trail(demo_app, MEGURO, today)[-1]
    assert last.cause == "rebuild" and last.before == {"work_content": "手で書換え"}


def test_the_trail_is_scoped_like_the_histories(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MEGURO, day, 8)])
    w = worker_pk(demo_app, MEGURO)
    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            employer = history(demo_app, MEGURO, SITE_A, day)["employer_id"]
            from portal.models import Employer, Site, Worker

            other_worker = s.execute(select(Worker.id).where(Worker.id != w).order_by(Worker.id)).scalars().first()
            prime = s.execute(select(Site.prime_employer_id).where(Site.site_id == SITE_A)).scalar_one()
            stranger = s.execute(select(Employer.id).where(Employer.id.not_in([employer, prime]))
                                 .order_by(Employer.id.desc())).scalars().first()
            scopes = {"worker": worker_scope(s, w), "other": worker_scope(s, other_worker),
                      "employer": employer_scope(s, employer), "prime": employer_scope(s, prime)}
        seen = {}
        for name, scope in scopes.items():
            with using_scope(s, scope):
                seen[name] = s.execute(select(WorkHistoryChange.id).where(WorkHistoryChange.worker_id == w,
                                                                          WorkHistoryChange.work_date == day)).all()
        with using_scope(s, ALL):
            stranger_scope = employer_scope(s, stranger)
            on_a = s.execute(select(Site.id).where(Site.site_id == SITE_A)).scalar_one()
        with using_scope(s, stranger_scope):
            seen["stranger"] = [] if on_a in stranger_scope.prime_site_ids else s.execute(
                select(WorkHistoryChange.id).where(WorkHistoryChange.worker_id == w,
                                                   WorkHistoryChange.work_date == day,
                                                   WorkHistoryChange.employer_id != stranger)).all()
    assert seen["worker"] and seen["employer"] and seen["prime"]
    assert seen["other"] == [] and seen["stranger"] == []


def test_the_worker_sees_the_trail_of_a_day_on_his_calendar(demo_app, client_for):
    client, entry = client_for("worker")
    code = entry["login"]  # a worker logs in with its 技能者ID
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(code, day, 8), event(code, day, 17, "exit")])
    page = client.get(f"/work-calendar/?ym={day:%Y-%m}&day={day.isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "就業履歴の変更記録" in text and f"{day:%Y年%m月%d日}" in text
    assert "打刻" in text and "退場時刻" in text and "17:00" in text  # cause, field label, Tokyo time


# --- the roster cache and a roster change during a batch ------------------------------------------------------

class SlowFace:
    """Resolves a credential to 目黒 and, while the batch waits for it (face matching takes a while), lets the
    employer change 目黒's roster in another connection and commit."""

    def __init__(self, app):
        self.app, self.during = app, None

    @hookimpl
    def ccus_resolve_worker(self, device, credential):
        if credential == "FACE-MEGURO":
            if self.during is not None:
                self.during()
                self.during = None
            return MEGURO
        return None


def test_a_roster_change_committed_during_a_batch_is_not_overwritten(demo_app):
    now = datetime.datetime.now(TOKYO)
    if now.hour < 6:
        pytest.skip("needs a daytime tap today (a night tap takes the slow path anyway)")
    today = now.date()
    plugin = SlowFace(demo_app)
    demo_app.extensions["ccus_plugins"].register(plugin)
    device, _key = new_device(demo_app)
    at = lambda minutes: (now - datetime.timedelta(minutes=minutes)).isoformat()  # noqa: E731
    first = {"event_id": "race-1", "credential": "FACE-MEGURO", "site_id": SITE_A, "kind": "entry", "time": at(30)}
    send(demo_app, device, [first])  # the site's roster is now cached with 職長
    assert history(demo_app, MEGURO, SITE_A, today)["position"] == "職長"
    w, s = worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)

    def change_roster():
        with demo_app.app_context():
            other = db.session.session_factory()  # its own connection and transaction
            try:
                with using_scope(other, ALL):
                    other.execute(select(SiteWorkerRegistration).where(
                        SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s)
                    ).scalar_one().position = "班長"
                    other.commit()
            finally:
                other.close()

    plugin.during = change_roster
    second = {"event_id": "race-2", "credential": "FACE-MEGURO", "site_id": SITE_A, "kind": "exit", "time": at(1)}
    assert send(demo_app, device, [second]).results[0]["result"] == "accepted"
    assert plugin.during is None  # the change happened during the batch
    h = history(demo_app, MEGURO, SITE_A, today)
    assert h["position"] == "班長" and h["last_exit_at"] is not None
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert [d for d in histories.rebuild(db.session, f"{today:%Y-%m}", write=False) if d.key[0] == w] == []
