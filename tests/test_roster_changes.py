"""Stored histories follow a change of the roster, a site, the structure, an affiliation or a qualification at
once (portal.history.roster_changes), without anyone calling histories.recompute, and the site's roster_version moves;
a refused change moves neither. Afterwards the stored rows are what a rebuild gives."""
from __future__ import annotations

import contextlib
import datetime

import pytest
from sqlalchemy import select

from ingest_world import (
    MEGURO, MIRAI, SITE_A, event, history, new_device, recent_day, send, site_pk, snapshot, worker_pk,
)
from portal.history import histories
from portal.app.db import db
from portal.models import (
    Affiliation, Employer, Qualification, Site, SiteWorkerRegistration, StructureLink, Worker, WorkerQualification,
    WorkHistory,
)
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token, login_of

KIKIN1 = "66679345433022"  # (株)基金一次建設: 1次 on site A, above 目黒's employer (株)基金建設


@contextlib.contextmanager
def orm(app):
    """A change through the ORM session (the path screens and the API take), committed at the end."""
    with app.app_context(), using_scope(db.session, ALL):
        yield db.session
        db.session.commit()


def versions(app) -> dict:
    with app.app_context(), using_scope(db.session, ALL):
        return dict(db.session.execute(select(Site.site_id, Site.roster_version)).all())


def raised(before: dict, after: dict) -> set:
    """The sites whose roster_version moved, each by exactly one."""
    assert all(after[s] - before[s] in (0, 1) for s in before)
    return {s for s in before if after[s] != before[s]}


def rebuild_differences(app) -> list:
    """What a rebuild would still write: the open days' differences (a closed day's stored row is kept whatever
    a change of its facts says: its differences come back frozen, never written)."""
    with app.app_context(), using_scope(db.session, ALL):
        return [d for d in histories.rebuild(db.session, write=False) if not d.frozen]


def registration(session, worker: str, site: str = SITE_A) -> SiteWorkerRegistration:
    return session.execute(select(SiteWorkerRegistration).join(Worker, Worker.id == SiteWorkerRegistration.worker_id)
                           .join(Site, Site.id == SiteWorkerRegistration.site_id)
                           .where(Worker.worker_id == worker, Site.site_id == site)).scalar_one()


@pytest.fixture
def tapped(demo_app):
    """目黒 (鉄筋工・職長, qualified, counted and valid) tapped on site A on a day of its own."""
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MEGURO, day, 8), event(MEGURO, day, 17, "exit")])
    h = history(demo_app, MEGURO, SITE_A, day)
    assert h["counted"] and h["valid_for_evaluation"] and h["position"] == "職長"
    return day


# --- 作業員名簿 ------------------------------------------------------------------------------------------------

def test_a_roster_change_shows_at_once_even_on_loaded_rows(demo_app, tapped):
    """The edit takes effect today (a new fact): today's loaded row follows at once, the past day keeps its own."""
    device, _key = new_device(demo_app)
    today = histories.tokyo_today()
    send(demo_app, device, [event(MEGURO, today, 0, mm=1)])
    before, w, site_a = versions(demo_app), worker_pk(demo_app, MEGURO), site_pk(demo_app, SITE_A)
    with orm(demo_app) as s:
        loaded = s.execute(select(WorkHistory).where(WorkHistory.worker_id == w, WorkHistory.work_date == today)
                           ).scalar_one()
        site = s.get(Site, site_a)
        assert loaded.position == "職長" and site.roster_version == before[SITE_A]
        reg = s.execute(select(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == w,
                                                             SiteWorkerRegistration.site_id == site_a)).scalar_one()
        reg.position, reg.work_content, reg.hazardous_work = "班長", "配筋", True
        s.flush()
        # the same transaction, before the commit: loaded objects were expired, not left stale
        assert (loaded.position, loaded.work_content, loaded.hazardous_work) == ("班長", "配筋", True)
        assert site.roster_version == before[SITE_A] + 1
    assert raised(before, versions(demo_app)) == {SITE_A}
    h = history(demo_app, MEGURO, SITE_A, today)
    assert (h["position"], h["work_content"], h["hazardous_work"]) == ("班長", "配筋", True)
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert (h["position"], h["work_content"], h["hazardous_work"]) == ("職長", "鉄筋工事", False)
    assert rebuild_differences(demo_app) == []


def test_a_removed_roster_row_makes_the_day_not_counted(demo_app, tapped):
    before = versions(demo_app)
    with orm(demo_app) as s:
        s.delete(registration(s, MEGURO))
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert h["not_counted_reason"] == "worker_not_registered" and not h["counted"]
    assert h["position"] is None and not h["valid_for_evaluation"]
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


def test_a_new_roster_row_counts_the_day_it_covers(demo_app):
    """A worker of a company in site A's structure, not on its roster yet, taps; then the employer registers it."""
    site = site_pk(demo_app, SITE_A)
    with demo_app.app_context(), using_scope(db.session, ALL):
        rt, at = SiteWorkerRegistration.__table__, Affiliation.__table__
        on_a = select(rt.c.worker_id).where(rt.c.site_id == site)
        employers = select(rt.c.employer_id).where(rt.c.site_id == site)
        worker_id, employer_id = db.session.execute(
            select(at.c.worker_id, at.c.employer_id).where(at.c.status == "承認済", at.c.employer_id.in_(employers),
                                                           at.c.worker_id.not_in(on_a)).order_by(at.c.id)).first()
        code = db.session.get(Worker, worker_id).worker_id
    device, _key = new_device(demo_app)
    day = recent_day(4)
    send(demo_app, device, [event(code, day, 8)])
    assert history(demo_app, code, SITE_A, day)["not_counted_reason"] == "worker_not_registered"
    before = versions(demo_app)
    with orm(demo_app) as s:
        s.add(SiteWorkerRegistration(site_id=site, worker_id=worker_id, employer_id=employer_id, position="一般",
                                     work_content="応援", start_date=day - datetime.timedelta(days=1)))
    h = history(demo_app, code, SITE_A, day)
    assert h["counted"] and h["not_counted_reason"] is None
    assert (h["employer_id"], h["position"], h["work_content"]) == (employer_id, "一般", "応援")
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


def test_a_roster_row_moved_to_another_site_changes_both(demo_app, tapped):
    meguro = worker_pk(demo_app, MEGURO)
    with demo_app.app_context(), using_scope(db.session, ALL):
        kikin = db.session.execute(select(Affiliation.employer_id).where(
            Affiliation.worker_id == meguro, Affiliation.status == "承認済")).scalar_one()
        lt = StructureLink.__table__
        other = db.session.execute(select(Site.id, Site.site_id).join(lt, lt.c.site_id == Site.id).where(
            lt.c.lower_employer_id == kikin, lt.c.status == "承認済", Site.site_id != SITE_A)).first()
    assert other is not None
    before = versions(demo_app)
    with orm(demo_app) as s:
        registration(s, MEGURO).site_id = other.id
    assert raised(before, versions(demo_app)) == {SITE_A, other.site_id}
    assert history(demo_app, MEGURO, SITE_A, tapped)["not_counted_reason"] == "worker_not_registered"
    assert rebuild_differences(demo_app) == []


# --- 施工体制 ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["解除", "delete"])
def test_a_tier_leaving_the_structure_keeps_its_past_days_unless_erased(demo_app, tapped, how):
    """A tier that finished (解除: ended yesterday) keeps its workers' past days, with trade and role; a link
    deleted as if it never was leaves a gap on the open days."""
    before, site_a = versions(demo_app), site_pk(demo_app, SITE_A)
    with orm(demo_app) as s:
        kikin1 = s.execute(select(Employer.id).where(Employer.employer_id == KIKIN1)).scalar_one()
        link = s.execute(select(StructureLink).where(StructureLink.site_id == site_a,
                                                     StructureLink.lower_employer_id == kikin1)).scalar_one()
        if how == "delete":
            s.delete(link)
        else:
            link.status = "解除"
    h = history(demo_app, MEGURO, SITE_A, tapped)
    if how == "delete":
        assert h["not_counted_reason"] == "structure_gap" and h["trade_id"] is None and h["position"] is None
    else:
        assert h["counted"] and h["trade_id"] is not None and h["position"] == "職長"
        with demo_app.app_context(), using_scope(db.session, ALL):
            ended = db.session.execute(select(StructureLink.ended_on).where(
                StructureLink.site_id == site_a, StructureLink.lower_employer_id == kikin1)).scalar_one()
        assert ended == histories.tokyo_today() - datetime.timedelta(days=1)
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


def test_an_invitation_moves_nothing_until_it_is_approved(demo_app, tapped):
    """An invitation (招待中) is not part of the structure histories read; its approval is."""
    site_a = site_pk(demo_app, SITE_A)
    with demo_app.app_context(), using_scope(db.session, ALL):
        lt = StructureLink.__table__
        prime = db.session.get(Site, site_a).prime_employer_id
        on_a = select(lt.c.lower_employer_id).where(lt.c.site_id == site_a)
        outsider = db.session.execute(select(Employer.id).where(Employer.id.not_in(on_a), Employer.id != prime)
                                      .order_by(Employer.id)).scalars().first()
    before, stored = versions(demo_app), snapshot(demo_app)[1]
    with orm(demo_app) as s:
        s.add(StructureLink(site_id=site_a, upper_employer_id=prime, lower_employer_id=outsider, status="招待中"))
    assert raised(before, versions(demo_app)) == set()
    assert snapshot(demo_app)[1] == stored
    with orm(demo_app) as s:
        s.execute(select(StructureLink).where(StructureLink.site_id == site_a, StructureLink.lower_employer_id == outsider)
                  ).scalar_one().status = "承認済"
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


# --- 現場 ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,reason", [
    ({"approved": False}, "site_unapproved"),
    ({"accumulation_end": "day-1"}, "outside_period"),
    ({"accumulation_start": "day+1"}, "outside_period"),
    ({"prime_employer_id": "another prime"}, "structure_gap"),
])
def test_a_site_change_shows_on_its_histories(demo_app, tapped, change, reason):
    before, site_a = versions(demo_app), site_pk(demo_app, SITE_A)
    with orm(demo_app) as s:
        site = s.get(Site, site_a)
        for field, value in change.items():
            if value == "day-1":
                value = tapped - datetime.timedelta(days=1)
            elif value == "day+1":
                value = tapped + datetime.timedelta(days=1)
            elif value == "another prime":
                value = s.execute(select(Site.prime_employer_id).where(Site.prime_employer_id != site.prime_employer_id)
                                  ).scalars().first()
            setattr(site, field, value)
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert h["not_counted_reason"] == reason and not h["counted"] and not h["valid_for_evaluation"]
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


def test_a_site_change_histories_do_not_read_moves_nothing(demo_app, tapped):
    before, stored, site_a = versions(demo_app), snapshot(demo_app)[1], site_pk(demo_app, SITE_A)
    with orm(demo_app) as s:
        site = s.get(Site, site_a)
        site.site_agent, site.work_content = "別の 代理人", "改修工事"
        site.approved = site.approved  # set to the same value: no change
    assert raised(before, versions(demo_app)) == set()
    assert snapshot(demo_app)[1] == stored


# --- 所属・保有資格 -------------------------------------------------------------------------------------------

def test_a_cancelled_affiliation_keeps_the_days_it_held(demo_app, tapped):
    """取消 ends the link yesterday: the days before stay valid; a link ended (explicitly) before the day does not
    hold that day."""
    before, w = versions(demo_app), worker_pk(demo_app, MEGURO)
    with orm(demo_app) as s:
        aff = s.execute(select(Affiliation).where(Affiliation.worker_id == w,
                                                  Affiliation.status == "承認済")).scalar_one()
        aff.status = "取消"
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert h["counted"] and h["valid_for_evaluation"]
    assert raised(before, versions(demo_app)) == {SITE_A}  # 目黒 is on site A's roster only
    with orm(demo_app) as s:
        s.execute(select(Affiliation).where(Affiliation.worker_id == w)).scalar_one().ended_on = \
            tapped - datetime.timedelta(days=1)
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert h["counted"] and not h["valid_for_evaluation"] and h["invalid_reason"] == "所属事業者なし"
    assert rebuild_differences(demo_app) == []


def test_an_affiliation_change_reaches_a_site_the_worker_is_not_registered_on(demo_app):
    """A worker off site A's roster taps there (employer shown: its primary affiliation). Its affiliation ends: the
    day follows; site A's version stays (its roster copy never held this worker), its own sites' move."""
    site = site_pk(demo_app, SITE_A)
    with demo_app.app_context(), using_scope(db.session, ALL):
        rt, at = SiteWorkerRegistration.__table__, Affiliation.__table__
        worker_id, employer_id = db.session.execute(
            select(at.c.worker_id, at.c.employer_id).where(
                at.c.status == "承認済", at.c.worker_id.in_(select(rt.c.worker_id)),  # on another site's roster
                at.c.worker_id.not_in(select(rt.c.worker_id).where(rt.c.site_id == site))).order_by(at.c.id)).first()
        code = db.session.get(Worker, worker_id).worker_id
        own_sites = set(db.session.execute(select(Site.site_id).join(rt, rt.c.site_id == Site.id)
                                           .where(rt.c.worker_id == worker_id)).scalars())
    device, _key = new_device(demo_app)
    day = recent_day(4)
    send(demo_app, device, [event(code, day, 8)])
    assert history(demo_app, code, SITE_A, day)["employer_id"] == employer_id
    before = versions(demo_app)
    with orm(demo_app) as s:  # ended before the day (取消 alone ends it yesterday: the day would keep it)
        aff = s.execute(select(Affiliation).where(Affiliation.worker_id == worker_id,
                                                  Affiliation.employer_id == employer_id)).scalar_one()
        aff.status, aff.ended_on = "取消", day - datetime.timedelta(days=1)
    h = history(demo_app, code, SITE_A, day)
    assert h["employer_id"] is None and h["not_counted_reason"] == "worker_not_registered"
    assert own_sites and SITE_A not in own_sites
    assert raised(before, versions(demo_app)) == own_sites
    assert rebuild_differences(demo_app) == []


def test_a_qualification_removed_or_added_shows_at_once(demo_app, tapped):
    w = worker_pk(demo_app, MEGURO)
    before = versions(demo_app)
    with orm(demo_app) as s:
        held = s.execute(select(WorkerQualification).where(WorkerQualification.worker_id == w)).scalar_one()
        qualification_id = held.qualification_id
        s.delete(held)
    h = history(demo_app, MEGURO, SITE_A, tapped)
    assert h["qualifications"] == [] and not h["valid_for_evaluation"] and h["invalid_reason"] == "資格なし"
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []

    before = versions(demo_app)
    with orm(demo_app) as s:  # obtained after the day: still not held that day
        s.add(WorkerQualification(worker_id=w, qualification_id=qualification_id,
                                  obtained_on=tapped + datetime.timedelta(days=1)))
    assert history(demo_app, MEGURO, SITE_A, tapped)["qualifications"] == []
    assert raised(before, versions(demo_app)) == {SITE_A}
    with orm(demo_app) as s:
        s.execute(select(WorkerQualification).where(WorkerQualification.worker_id == w)).scalar_one().obtained_on = tapped
    h = history(demo_app, MEGURO, SITE_A, tapped)
    code = _code(demo_app, qualification_id)
    assert h["qualifications"] == [code] and h["valid_for_evaluation"] and h["invalid_reason"] is None
    assert rebuild_differences(demo_app) == []


def _code(app, qualification_id: int) -> str:
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.get(Qualification, qualification_id).code


# --- through the screens and the REST API, as a logged-in user ----------------------------------------------------

def test_an_employer_makes_its_worker_職長_on_the_roster_screen(demo_app, client_for):
    """(株)基金一次建設 edits 建設 未来's roster row on site A (班長 → 職長) on the 作業員名簿 screen."""
    device, _key = new_device(demo_app)
    day = recent_day(3)
    send(demo_app, device, [event(MIRAI, day, 8)])
    assert history(demo_app, MIRAI, SITE_A, day)["position"] == "班長"
    client, entry = client_for("employer")
    assert entry["employer_id"] == KIKIN1
    with demo_app.app_context(), using_scope(db.session, ALL):
        reg = registration(db.session, MIRAI)
        reg_id, start, education = reg.id, reg.start_date, reg.entry_education_on
    before = versions(demo_app)
    page = client.post(f"/siteworkerregistrationview/edit/{reg_id}", data={
        "position": "職長", "work_content": "左官工事", "start_date": start.isoformat(),
        "entry_education_on": education.isoformat() if education else ""}, follow_redirects=True)
    assert page.status_code == 200
    # a new fact from today (適用開始日 defaults to today): the past day keeps 班長, the roster has both rows
    h = history(demo_app, MIRAI, SITE_A, day)
    assert h["position"] == "班長" and h["counted"]
    with demo_app.app_context(), using_scope(db.session, ALL):
        rows = db.session.execute(select(SiteWorkerRegistration.position, SiteWorkerRegistration.start_date,
                                         SiteWorkerRegistration.end_date).where(
            SiteWorkerRegistration.worker_id == worker_pk(demo_app, MIRAI), SiteWorkerRegistration.site_id ==
            site_pk(demo_app, SITE_A)).order_by(SiteWorkerRegistration.start_date)).all()
    today = histories.tokyo_today()
    assert [tuple(r) for r in rows] == [("班長", start, today - datetime.timedelta(days=1)), ("職長", today, None)]
    assert raised(before, versions(demo_app)) == {SITE_A}
    assert rebuild_differences(demo_app) == []


def _api(app, role: str):
    entry = login_of(app, role)
    client = app.test_client()
    return client, {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}


def test_the_admin_unapproves_a_site_through_the_api(demo_app, tapped):
    client, headers = _api(demo_app, "admin")
    before = versions(demo_app)
    r = client.put(f"/api/v1/sites/{site_pk(demo_app, SITE_A)}", headers=headers, json={"approved": False})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert history(demo_app, MEGURO, SITE_A, tapped)["not_counted_reason"] == "site_unapproved"
    assert raised(before, versions(demo_app)) == {SITE_A}
    r = client.put(f"/api/v1/sites/{site_pk(demo_app, SITE_A)}", headers=headers, json={"approved": True})
    assert r.status_code == 200
    assert history(demo_app, MEGURO, SITE_A, tapped)["counted"]
    assert versions(demo_app)[SITE_A] == before[SITE_A] + 2
    assert rebuild_differences(demo_app) == []


@pytest.mark.parametrize("role,resource,payload,code", [
    ("admin", "sites", {"accumulation_start": "2026-10-01", "accumulation_end": "2026-09-01"}, "invalid_accumulation_period"),
    ("employer", "site-workers", {"position": "社長"}, "invalid_position"),
])
def test_a_refused_change_moves_nothing(demo_app, tapped, role, resource, payload, code):
    client, headers = _api(demo_app, role)
    pk = site_pk(demo_app, SITE_A)
    if resource == "site-workers":
        with demo_app.app_context(), using_scope(db.session, ALL):
            pk = registration(db.session, MIRAI).id
    before, stored = versions(demo_app), snapshot(demo_app)[1]
    r = client.put(f"/api/v1/{resource}/{pk}", headers=headers, json=payload)
    assert r.status_code == 422 and r.get_json()["code"] == code
    assert versions(demo_app) == before
    assert snapshot(demo_app)[1] == stored
