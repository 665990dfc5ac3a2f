"""The worker's calendar tells, day by day, why a day does not count (or not toward the level) and who can fix
it; the level progress says what is missing (portal.output.day_notes)."""
from __future__ import annotations

import datetime

from sqlalchemy import func, select

from portal.output import day_notes
from portal.app.db import db
from portal.models import WorkHistory
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import login, login_of


def test_each_day_says_why_and_who_fixes_it(demo_app):
    entry = login_of(demo_app, "worker")
    with demo_app.app_context(), using_scope(db.session, ALL):
        worker_pk = db.session.execute(select(WorkHistory.worker_id).join(
            WorkHistory.worker).where(WorkHistory.worker.has(worker_id=entry["worker_id"]))).scalars().first()
        last = db.session.execute(select(func.max(WorkHistory.work_date)).where(WorkHistory.worker_id == worker_pk)).scalar()
        first = last.replace(day=1)
        notes = day_notes.notes(db.session, worker_pk, first, last)
        missing = day_notes.missing_for_evaluation(db.session, worker_pk)
        stored = db.session.execute(select(WorkHistory).where(WorkHistory.worker_id == worker_pk,
                                                              WorkHistory.work_date >= first)).scalars().all()
    assert len(notes) == len(stored) > 0
    for n in notes:
        assert n.work_date.month == first.month
        if not n.valid:  # every day that does not count, or not for the evaluation, says why and who fixes it
            assert n.why and n.fixes and len(n.why) == len(n.fixes), n
        else:
            assert not n.why
    invalid = [h for h in stored if h.counted and not h.valid_for_evaluation]
    if invalid:
        assert missing and all(days > 0 and "所属事業者" in fix for _label, days, fix in missing)

    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    page = client.get(f"/work-calendar/?ym={first:%Y-%m}").get_data(as_text=True)
    assert page.count('class="panel') >= len(notes) and "ccus-day-list" in page
    assert "/corrections/fix/" in page  # a day opens the correction form filled in
    for label, days, fix in missing:
        assert f"{label}の登録なし: {days}日" in page and fix in page


def test_a_reason_each_fix_knows():
    from portal.models.histories import NOT_COUNTED_REASONS

    assert set(day_notes.FIXES) == set(NOT_COUNTED_REASONS)  # a new reason must say who can fix it
    history = WorkHistory(counted=True, valid_for_evaluation=False, invalid_reason="職種、資格なし",
                          work_date=datetime.date(2026, 11, 2))
    assert day_notes.missing_of(history) == ["trade", "qualification"]


def test_the_site_board_links_each_row_to_its_fix(client_for):
    import re

    client, _entry = client_for("prime")
    page = client.get("/site-board/").get_data(as_text=True)
    sites = set(re.findall(r'<option value="(\d+)"', page)) or {""}
    fixes = set()
    for site in sites:
        board = client.get(f"/site-board/?site={site}").get_data(as_text=True)
        fixes |= set(re.findall(r'class="ccus-fix" href="([^"]+)"', board))
        assert "JST" in board  # the page's own time says its zone
    assert fixes, "the demo's prime sites have days to fix"
    for href in fixes:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_the_correction_form_offers_the_workers_sites_and_warns(client_for):
    client, _entry = client_for("worker")
    page = client.get("/corrections/new").get_data(as_text=True)
    assert 'id="site_pick"' in page and "★ " in page  # recent sites first, marked
    assert "data-warning=" in page and 'id="site-warning"' in page


def test_on_the_first_of_a_month_the_calendar_opens_on_last_month(demo_app, monkeypatch):
    from portal.app import clock

    entry = login_of(demo_app, "worker")
    with demo_app.app_context(), using_scope(db.session, ALL):
        worker_pk = db.session.execute(select(WorkHistory.worker_id).where(
            WorkHistory.worker.has(worker_id=entry["worker_id"]))).scalars().first()
        last = db.session.execute(select(func.max(WorkHistory.work_date)).where(WorkHistory.worker_id == worker_pk)).scalar()
    first_of_next = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    monkeypatch.setattr(clock, "now", lambda: datetime.datetime.combine(first_of_next, datetime.time(1, 0), clock.UTC))
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    page = client.get("/work-calendar/").get_data(as_text=True)
    assert f'value="{last:%Y-%m}"' in page  # the month with its days, not the empty new one
    assert f'value="{first_of_next:%Y-%m}"' in client.get(f"/work-calendar/?ym={first_of_next:%Y-%m}").get_data(as_text=True)
