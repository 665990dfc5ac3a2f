"""Events and histories keep no foreign-key constraints (portal.models.events): what they name cannot be deleted,
and the ingest's in-memory copy of a site's roster (histories.site_roster) gives exactly what the database gives
until sites.roster_version moves."""
from __future__ import annotations

from sqlalchemy import func, select, update

from ingest_world import MEGURO, MIRAI, SITE_A, event, new_device, quiet_worker, recent_day, send, site_pk, worker_pk
from portal.history import histories
from portal.app.db import db
from portal.models import Device, EntryExitEvent, Site, SiteWorkerRegistration, Worker, WorkHistory
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token, login_of


def _count(app, model, **where):
    with app.app_context(), using_scope(db.session, ALL):
        t = model.__table__
        return db.session.execute(select(func.count()).select_from(t).where(
            *[t.c[k] == v for k, v in where.items()])).scalar()


def test_a_worker_site_or_device_named_by_records_cannot_be_deleted(demo_app):
    device, _key = new_device(demo_app)
    send(demo_app, device, [event(MEGURO, recent_day(2), 8)])
    w, s = worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)
    events, days = _count(demo_app, EntryExitEvent, worker_id=w), _count(demo_app, WorkHistory, worker_id=w)
    assert events > 0 and days > 0
    entry = login_of(demo_app, "admin")
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
    r = client.delete(f"/api/v1/workers/{w}", headers=headers)
    assert r.status_code == 409 and r.get_json()["code"] == "in_use_by_records"
    assert "削除できません" in r.get_json()["message"]
    r = client.delete(f"/api/v1/sites/{s}", headers=headers)
    assert r.status_code == 409 and r.get_json()["code"] == "in_use_by_records"
    assert _count(demo_app, Worker, id=w) == 1 and _count(demo_app, Site, id=s) == 1
    assert _count(demo_app, EntryExitEvent, worker_id=w) == events and _count(demo_app, WorkHistory, worker_id=w) == days
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.delete(db.session.get(Device, device))
        try:
            db.session.flush()
            raise AssertionError("a device with events was deleted")
        except Exception as e:  # noqa: BLE001
            assert getattr(e, "code", None) == "in_use_by_records"
        db.session.rollback()
    assert _count(demo_app, Device, id=device) == 1


def test_a_device_without_records_can_still_be_deleted(demo_app):
    device, _key = new_device(demo_app)
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.delete(db.session.get(Device, device))
        db.session.commit()  # nothing names this device: no in_use_by_records
    assert _count(demo_app, Device, id=device) == 0


def _derived(ctx, w, s, day):
    return histories.derive(ctx, w, s, day, [histories.Tap(histories.day_start(day), "entry", "API")], [])


def test_the_site_roster_copy_derives_what_the_database_says_until_its_version_moves(demo_app):
    day = recent_day(2)
    registered, stranger = worker_pk(demo_app, MEGURO), worker_pk(demo_app, quiet_worker(demo_app))
    mirai = worker_pk(demo_app, MIRAI)
    s = site_pk(demo_app, SITE_A)
    with demo_app.app_context(), using_scope(db.session, ALL):
        session = db.session
        version = session.execute(select(Site.roster_version).where(Site.id == s)).scalar_one()
        fresh = histories.Context(session, [registered, stranger, mirai], [s])
        cached = histories.site_roster(session, s, version, [registered, stranger, mirai])
        for w in (registered, stranger, mirai):  # a stranger (not on the roster) is read for the call only
            assert _derived(cached, w, s, day) == _derived(fresh, w, s, day)
        assert _derived(cached, stranger, s, day)["not_counted_reason"] == "worker_not_registered"
        assert _derived(cached, mirai, s, day)["employer_id"] is not None
        # a change that does not raise the version is not seen (the contract roster_changes keeps) …
        rt = SiteWorkerRegistration.__table__
        session.execute(update(rt).where(rt.c.worker_id == registered, rt.c.site_id == s).values(position="一般"))
        assert _derived(histories.site_roster(session, s, version, [registered]), registered, s, day)["position"] == "職長"
        # … and a moved version reads the roster again
        again = histories.site_roster(session, s, version + 1, [registered])
        assert _derived(again, registered, s, day)["position"] == "一般"
        assert histories.site_roster(session, s, version + 1, [registered]) is again
        session.rollback()


def test_remembered_facts_equal_the_facts_of_every_day(demo_app):
    """Context.facts remembers a day's facts for the stretch in which no period of the worker begins or ends: on
    every day of two years, for every worker of the demo's sites, it gives what _facts computes for that day."""
    import datetime

    with demo_app.app_context(), using_scope(db.session, ALL):
        session = db.session
        rt = SiteWorkerRegistration.__table__
        pairs = session.execute(select(rt.c.worker_id, rt.c.site_id).distinct()).all()
        ctx = histories.Context(session, {w for w, _s in pairs}, {s for _w, s in pairs})
        # a change on some days: a roster row ending, an affiliation ending, a qualification obtained
        first = datetime.date.today() - datetime.timedelta(days=500)
        days = [first + datetime.timedelta(days=n) for n in range(0, 730, 3)]
        checked = 0
        for w, s in pairs[::7]:
            for day in days:
                assert ctx.facts(w, s, day) == histories._facts(ctx, w, s, day, [], False), (w, s, day)
                checked += 1
        bounded = [b for b in ctx._bounds.values() if b]
        assert checked > 1000 and bounded  # periods exist, so the stretches are really tested
