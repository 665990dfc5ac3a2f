"""Work histories derived from events: roster details, counted / not counted with the reason, validity for
evaluation, the shift across midnight, recompute on a roster change, day inputs of other modules, rebuild."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select, update

from ingest_world import (
    HIROO, MEGURO, MIRAI, SITE_A, event, history, new_device, quiet_worker, recent_day, send, site_pk, worker_pk,
)
from portal.history import histories
from portal.app.db import db
from portal.models import Employer, Site, SiteWorkerRegistration, StructureLink, Worker, WorkHistory
from portal.people.scoping import ALL, using_scope


def test_a_day_takes_its_details_from_the_roster_never_from_the_device(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(2)
    out = send(demo_app, device, [event(MEGURO, day, 8, "entry", position="一般", trade="99-99"),
                                  event(MEGURO, day, 12, "work"), event(MEGURO, day, 17, "exit"),
                                  event(MEGURO, day, 18, "entry")])
    assert [r["result"] for r in out.results] == ["accepted"] * 4
    h = history(demo_app, MEGURO, SITE_A, day)
    assert h["trade_code"] == "10-01" and h["position"] == "職長" and h["work_content"] == "鉄筋工事"
    assert h["counted"] and h["not_counted_reason"] is None
    assert h["valid_for_evaluation"] and h["invalid_reason"] is None and h["qualifications"] == ["40040"]
    assert h["methods"] == "API"
    assert histories.aware(h["first_entry_at"]).astimezone(histories.TOKYO).hour == 8
    assert histories.aware(h["last_exit_at"]).astimezone(histories.TOKYO).hour == 17


def test_invalid_for_evaluation_says_what_is_missing(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(2)
    send(demo_app, device, [event(MIRAI, day, 8)])
    h = history(demo_app, MIRAI, SITE_A, day)
    assert h["counted"] and not h["valid_for_evaluation"]
    assert "職種" in h["invalid_reason"] and "資格" in h["invalid_reason"] and "立場" not in h["invalid_reason"]


@pytest.mark.parametrize("reverse", [False, True])
def test_a_night_shift_belongs_to_the_day_it_started_whatever_the_arrival_order(demo_app, reverse):
    device, _key = new_device(demo_app)
    day, HIROO = recent_day(4), quiet_worker(demo_app)  # noqa: N806  (no demo taps on the Monday either)
    nxt = day + datetime.timedelta(days=1)
    batch = [event(HIROO, day, 22, "entry"), event(HIROO, nxt, 2, "work"), event(HIROO, nxt, 3, "exit"),
             event(HIROO, nxt, 6, "entry"), event(HIROO, nxt, 9, "entry")]
    for e in (reversed(batch) if reverse else batch):  # one event per request: arrival order matters here
        assert send(demo_app, device, [e]).results[0]["result"] == "accepted"
    first = history(demo_app, HIROO, SITE_A, day)
    second = history(demo_app, HIROO, SITE_A, nxt)
    assert first["not_counted_reason"] == "worker_not_registered"
    assert histories.aware(first["last_exit_at"]).astimezone(histories.TOKYO) == \
        datetime.datetime.combine(nxt, datetime.time(3), histories.TOKYO)
    # the 06:00 entry came 3 hours after the exit closed the night: it opens the next day, with the 09:00 one
    assert histories.aware(second["first_entry_at"]).astimezone(histories.TOKYO).hour == 6
    assert second["last_exit_at"] is None


def test_an_early_tap_without_an_open_shift_is_its_own_day(demo_app):
    device, _key = new_device(demo_app)
    day, HIROO = recent_day(6), quiet_worker(demo_app)  # noqa: N806
    send(demo_app, device, [event(HIROO, day, 17, "exit"), event(HIROO, day + datetime.timedelta(days=1), 3, "entry")])
    assert history(demo_app, HIROO, SITE_A, day + datetime.timedelta(days=1))["first_entry_at"] is not None


def _set(app, model, where, **values):
    with app.app_context(), using_scope(db.session, ALL):
        db.session.execute(update(model.__table__).where(where).values(**values))
        db.session.commit()


def _recompute(app, keys):
    with app.app_context(), using_scope(db.session, ALL):
        diffs = histories.recompute(db.session, keys)
        db.session.commit()
        return diffs


def test_not_counted_reasons(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    site = site_pk(demo_app, SITE_A)
    # a worker of another employer, not on site A's roster
    with demo_app.app_context(), using_scope(db.session, ALL):
        on_a = set(db.session.execute(select(SiteWorkerRegistration.worker_id).where(
            SiteWorkerRegistration.site_id == site)).scalars())
        stranger = db.session.execute(select(Worker.worker_id).where(Worker.id.not_in(on_a)).order_by(Worker.id)).scalars().first()
    send(demo_app, device, [event(stranger, day, 8), event(MEGURO, day, 8)])
    assert history(demo_app, stranger, SITE_A, day)["not_counted_reason"] == "worker_not_registered"
    assert not history(demo_app, stranger, SITE_A, day)["valid_for_evaluation"]

    # a tier above the employer leaves the structure: 目黒's employer (基金建設) hangs below 基金一次建設
    with demo_app.app_context(), using_scope(db.session, ALL):
        kikin1 = db.session.execute(select(Employer.id).where(Employer.employer_id == "66679345433022")).scalar_one()
    _set(demo_app, StructureLink, (StructureLink.site_id == site) & (StructureLink.lower_employer_id == kikin1), status="解除")
    _recompute(demo_app, [(worker_pk(demo_app, MEGURO), site, day)])
    h = history(demo_app, MEGURO, SITE_A, day)
    assert h["not_counted_reason"] == "structure_gap" and h["trade_id"] is None and h["position"] is None

    _set(demo_app, Site, Site.id == site, accumulation_end=day - datetime.timedelta(days=1))
    _recompute(demo_app, [(worker_pk(demo_app, MEGURO), site, day)])
    assert history(demo_app, MEGURO, SITE_A, day)["not_counted_reason"] == "outside_period"

    _set(demo_app, Site, Site.id == site, approved=False)
    diffs = _recompute(demo_app, [(worker_pk(demo_app, MEGURO), site, day)])
    assert history(demo_app, MEGURO, SITE_A, day)["not_counted_reason"] == "site_unapproved"
    assert [d.changes["not_counted_reason"] for d in diffs if d.key[2] == day] == [("outside_period", "site_unapproved")]


def test_recompute_follows_a_roster_change(demo_app):
    """A roster edit is a new fact from today: the past day keeps what held then, today's day takes the new one
    (at once: nobody calls recompute)."""
    device, _key = new_device(demo_app)
    day, today = recent_day(3), histories.tokyo_today()
    send(demo_app, device, [event(MEGURO, day, 8), event(MEGURO, today, 0, mm=1)])
    w, s = worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)
    assert history(demo_app, MEGURO, SITE_A, day)["position"] == "職長"
    with demo_app.app_context(), using_scope(db.session, ALL):  # through the ORM: portal.history.roster_changes follows it
        reg = db.session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.worker_id == w, SiteWorkerRegistration.site_id == s)).scalar_one()
        reg.position, reg.work_content = "班長", "配筋"
        db.session.commit()
    assert (history(demo_app, MEGURO, SITE_A, day)["position"]) == "職長"
    h = history(demo_app, MEGURO, SITE_A, today)
    assert (h["position"], h["work_content"]) == ("班長", "配筋")


def test_unknown_workers_are_stored_but_make_no_history(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    out = send(demo_app, device, [event("12345678901221", day, 8), event(None, day, 8, credential="CAFE0001")])
    assert [r["result"] for r in out.results] == ["accepted", "accepted"]
    with demo_app.app_context(), using_scope(db.session, ALL):
        from portal.models import EntryExitEvent

        rows = db.session.execute(select(EntryExitEvent).where(EntryExitEvent.id.in_(out.stored_ids))).scalars().all()
        assert {(r.worker_id, r.worker_code) for r in rows} == {(None, "12345678901221"), (None, None)}
        assert [r.credential_hash is not None for r in rows].count(True) == 1
        assert "CAFE0001" not in str([r.credential_hash for r in rows])
        assert db.session.execute(select(WorkHistory).where(WorkHistory.work_date == day,
                                                            WorkHistory.worker_id.is_(None))).first() is None


def test_day_inputs_of_another_module_are_honoured(demo_app):
    """A later module (direct input and correction) contributes approved inputs through the registry."""
    device, _key = new_device(demo_app)
    day, forgotten = recent_day(3), recent_day(5)
    w, s = worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)
    send(demo_app, device, [event(MEGURO, day, 8)])

    def approved(session, keys, date_range):
        inputs = {(w, s, day): [histories.DayInput(position="班長")], (w, s, forgotten): [histories.DayInput()],
                  (w, None, forgotten): [histories.DayInput()]}
        if keys is None:
            return {k: v for k, v in inputs.items() if date_range[0] <= k[2] <= date_range[1]}
        return {k: v for k, v in inputs.items() if k in set(keys)}

    histories.register_day_inputs(approved)
    try:
        _recompute(demo_app, [(w, s, day), (w, s, forgotten), (w, None, forgotten)])
        h = history(demo_app, MEGURO, SITE_A, day)
        assert h["position"] == "班長" and h["methods"] == "API,直接" and h["counted"]
        added = history(demo_app, MEGURO, SITE_A, forgotten)
        assert added["methods"] == "直接" and added["counted"] and added["first_entry_at"] is None
        with demo_app.app_context(), using_scope(db.session, ALL):
            unregistered = db.session.execute(select(WorkHistory).where(
                WorkHistory.worker_id == w, WorkHistory.site_id.is_(None))).scalar_one()
            assert unregistered.not_counted_reason == "site_unregistered" and not unregistered.counted
        with demo_app.app_context(), using_scope(db.session, ALL):
            diffs = histories.rebuild(db.session, f"{forgotten:%Y-%m}", write=False)
            assert diffs == [], [str(d) for d in diffs[:5]]
    finally:
        histories.DAY_INPUT_PROVIDERS.remove(approved)
    _recompute(demo_app, [(w, s, day), (w, s, forgotten)])
    assert history(demo_app, MEGURO, SITE_A, day)["position"] == "職長"
    assert history(demo_app, MEGURO, SITE_A, forgotten) is None


def test_rebuild_reports_and_repairs_differences(demo_app):
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MEGURO, day, 8), event(HIROO, day, 8)])
    month = f"{day:%Y-%m}"
    ghost_day = next(d for d in (day - datetime.timedelta(days=7), day + datetime.timedelta(days=7)) if d.month == day.month)
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert histories.rebuild(db.session, month) == []
        h = db.session.execute(select(WorkHistory).where(WorkHistory.work_date == day,
                                                         WorkHistory.worker_id == worker_pk(demo_app, MEGURO))).scalar_one()
        db.session.execute(update(WorkHistory.__table__).where(WorkHistory.id == h.id).values(position="一般", counted=False))
        ghost = WorkHistory.__table__.insert().values(worker_id=worker_pk(demo_app, HIROO), site_id=h.site_id,
                                                      work_date=ghost_day, methods="IC")
        db.session.execute(ghost)
        db.session.commit()
        diffs = histories.rebuild(db.session, month)
        db.session.commit()
        assert sorted(d.action for d in diffs) == ["changed", "removed"]
        changed = next(d for d in diffs if d.action == "changed")
        assert changed.changes["position"] == ("一般", "職長") and changed.changes["counted"] == (False, True)
        assert histories.rebuild(db.session) == []
