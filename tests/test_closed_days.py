"""Closed days stay closed (issue 9): after a day's correction deadline (the end of the month after it, Tokyo)
no ingest, recompute, master-data edit or rebuild changes its stored history; a late device event is stored and
shown as not counted (補正期限経過); a rebuild of a closed month reproduces what is stored."""
from __future__ import annotations

import datetime

from sqlalchemy import func, select

from ingest_world import MEGURO, SITE_A, event, new_device, send, site_pk, worker_pk
from portal.history import corrections, histories
from portal.app.db import db
from portal.models import EntryExitEvent, SiteWorkerRegistration, WorkHistory, WorkHistoryChange
from portal.models.histories import NOT_COUNTED_REASONS
from portal.people.scoping import ALL, using_scope


def test_one_correction_deadline_for_every_module():
    assert corrections.deadline is histories.correction_deadline
    assert histories.correction_deadline(datetime.date(2026, 9, 15)) == datetime.date(2026, 10, 31)
    assert histories.correction_deadline(datetime.date(2026, 12, 31)) == datetime.date(2027, 1, 31)
    assert not histories.is_closed(datetime.date(2026, 10, 31), datetime.date(2026, 11, 30))
    assert histories.is_closed(datetime.date(2026, 10, 31), datetime.date(2026, 12, 1))
    assert histories.first_open_day(datetime.date(2026, 12, 1)) == datetime.date(2026, 11, 1)
    assert NOT_COUNTED_REASONS["deadline_passed"] == "補正期限経過"


def _closed_days(app):
    """A closed demo day with 目黒's stored history at site A, and a closed Sunday without one."""
    today = histories.tokyo_today()
    w, s = worker_pk(app, MEGURO), site_pk(app, SITE_A)
    with app.app_context(), using_scope(db.session, ALL):
        days = set(db.session.execute(select(WorkHistory.work_date).where(
            WorkHistory.worker_id == w, WorkHistory.site_id == s)).scalars())
    stored = max(d for d in days if histories.is_closed(d, today))
    sunday = max(d for d in (stored - datetime.timedelta(days=n) for n in range(40))
                 if d.weekday() == 6 and d not in days and histories.is_closed(d, today))
    return w, s, stored, sunday


def _row(app, w, s, day):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(WorkHistory.__table__).where(
            WorkHistory.worker_id == w, WorkHistory.site_id == s, WorkHistory.work_date == day)).one_or_none()


def _count(app, model, *where):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_a_late_device_event_is_stored_but_changes_no_closed_day(demo_app):
    w, s, stored, sunday = _closed_days(demo_app)
    before = _row(demo_app, w, s, stored)
    events_before = _count(demo_app, EntryExitEvent)
    trail_of_day = (WorkHistoryChange.worker_id == w, WorkHistoryChange.work_date == stored)
    trail_before = _count(demo_app, WorkHistoryChange, *trail_of_day)
    device, _key = new_device(demo_app)
    out = send(demo_app, device, [event(MEGURO, stored, 21, "exit"), event(MEGURO, sunday, 8),
                                  event(MEGURO, sunday, 17, "exit")])
    assert [r["result"] for r in out.results] == ["accepted"] * 3  # stored, never lost
    assert _count(demo_app, EntryExitEvent) == events_before + 3
    assert _row(demo_app, w, s, stored) == before  # the closed row is not rewritten (its exit stays)
    late = _row(demo_app, w, s, sunday)
    assert late.not_counted_reason == "deadline_passed" and not late.counted and not late.valid_for_evaluation
    assert late.first_entry_at is not None and late.last_exit_at is not None  # both late taps, in one row
    assert _count(demo_app, WorkHistoryChange, *trail_of_day) == trail_before  # nothing changed: no trail
    with demo_app.app_context(), using_scope(db.session, ALL):
        diffs = histories.rebuild(db.session, f"{stored:%Y-%m}", write=False)
    assert diffs == [], [str(d) for d in diffs[:5]]


def test_no_master_data_edit_recompute_or_rebuild_changes_a_closed_day(demo_app):
    w, s, stored, _sunday = _closed_days(demo_app)
    before = _row(demo_app, w, s, stored)
    month = f"{stored:%Y-%m}"
    with demo_app.app_context(), using_scope(db.session, ALL):
        reg = db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s)).scalar_one()
        reg.position = "一般"  # an edit: a new fact from today
        db.session.commit()
    assert _row(demo_app, w, s, stored) == before
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert histories.rebuild(db.session, month, write=False) == []
        # a fact rewritten in the past (the roster rows deleted): the closed day keeps its stored row
        for r in db.session.execute(select(SiteWorkerRegistration).where(
                SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s)).scalars():
            db.session.delete(r)
        db.session.commit()
    assert _row(demo_app, w, s, stored) == before
    with demo_app.app_context(), using_scope(db.session, ALL):
        diffs = histories.recompute(db.session, [(w, s, stored)])
        db.session.commit()
        assert [d.frozen for d in diffs if d.key == (w, s, stored)] == [True]
        diffs = histories.rebuild(db.session, month)
        db.session.commit()
        assert diffs and all(d.frozen for d in diffs if d.key[0] == w)
    assert _row(demo_app, w, s, stored) == before


def test_a_day_still_open_follows_its_facts(demo_app):
    """The same recompute writes a day whose deadline has not passed (today = its deadline)."""
    w, s, stored, _sunday = _closed_days(demo_app)
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(SiteWorkerRegistration.__table__.delete().where(
            SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s))
        diffs = histories.recompute(db.session, [(w, s, stored)], neighbours=False,
                                    today=histories.correction_deadline(stored))
        db.session.commit()
    assert [d.frozen for d in diffs] == [False]
    assert _row(demo_app, w, s, stored).not_counted_reason == "worker_not_registered"
