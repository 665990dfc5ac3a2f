"""The scope rules themselves, checked against facts of the demo data computed independently here from the
whole object graph (not through portal.people.scoping), through the real REST API and screens."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from portal.app.db import db
from portal.models import Affiliation, Employer, Site, SiteWorkerRegistration, StructureLink, Worker, WorkerPersonal
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token, login_of


def graph(app):
    """Independent oracle: the demo's facts from the unscoped object graph."""
    with app.app_context(), using_scope(db.session, ALL):
        s = db.session
        emp = {e.employer_id: e.id for e in s.execute(select(Employer)).scalars()}
        sites = {x.site_id: (x.id, x.prime_employer_id) for x in s.execute(select(Site)).scalars()}
        links = [(l.site_id, l.upper_employer_id, l.lower_employer_id, l.status) for l in s.execute(select(StructureLink)).scalars()]
        regs = [(r.site_id, r.worker_id, r.employer_id) for r in s.execute(select(SiteWorkerRegistration)).scalars()]
        affs = [(a.worker_id, a.employer_id, a.status) for a in s.execute(select(Affiliation)).scalars()]
        workers = {w.worker_id: w.id for w in s.execute(select(Worker)).scalars()}
        return emp, sites, links, regs, affs, workers


def get_all(client, headers, resource):
    out, page = {}, 0
    while True:
        r = client.get(f"/api/v1/{resource}/?q=(page_size:100,page:{page})", headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        body = r.get_json()
        out.update(zip(body["ids"], body["result"]))
        if len(out) >= body["count"] or not body["ids"]:
            return out
        page += 1


def as_role(app, role, index=0):
    entry = login_of(app, role, index)
    client = app.test_client()
    return client, {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}, entry


def below(links, site, root):
    found, todo = {root}, [root]
    while todo:
        top = todo.pop()
        for s, upper, lower, status in links:
            if s == site and upper == top and status == "承認済" and lower not in found:
                found.add(lower)
                todo.append(lower)
    return found


def test_first_tier_sees_its_branch_but_not_the_sibling_branch(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    client, headers, entry = as_role(demo_app, "employer")  # (株)基金一次建設, 1次 on A現場工事
    me = emp[entry["employer_id"]]
    site_a = sites["36265810102371"][0]
    mine = below(links, site_a, me)
    own = {w for w, e, st in affs if e == me and st == "承認済"}
    expected = own | {w for s, w, e in regs if s == site_a and e in mine}
    sibling = {w for s, w, e in regs if s == site_a and e not in mine and e != sites["36265810102371"][1]}
    got = set(get_all(client, headers, "workers"))
    assert got == expected
    assert workers["30154216388821"] in got and workers["17788930382321"] in got  # 目黒, 広尾 (2次 below it)
    assert sibling and not (sibling & got)
    # personal items only of its own current workers: 目黒 and 広尾 are roster-visible, not personal-visible
    personal_ids = set(get_all(client, headers, "worker-personal"))
    with demo_app.app_context(), using_scope(db.session, ALL):
        owners = {p.id: p.worker_id for p in db.session.execute(select(WorkerPersonal)).scalars()}
    assert {owners[i] for i in personal_ids} == own
    assert workers["30154216388821"] not in {owners[i] for i in personal_ids}


def test_prime_sees_whole_tree_of_its_sites_only(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    client, headers, entry = as_role(demo_app, "prime")  # (株)元請A
    me = emp[entry["employer_id"]]
    my_sites = {sid for sid, prime in sites.values() if prime == me}
    got_sites = {row["site_id"] for row in get_all(client, headers, "sites").values()}
    assert got_sites == {code for code, (sid, prime) in sites.items() if prime == me}
    roster = {w for s, w, e in regs if s in my_sites}
    own = {w for w, e, st in affs if e == me and st == "承認済"}
    from portal.models import EntryExitEvent

    with demo_app.app_context(), using_scope(db.session, ALL):
        at_gates = {w for s, w in db.session.execute(select(EntryExitEvent.site_id, EntryExitEvent.worker_id))
                    if s in my_sites and w is not None}
    assert set(get_all(client, headers, "workers")) == roster | own | at_gates
    # affiliations: only its own links, never another employer's
    affiliation_rows = get_all(client, headers, "affiliations")
    assert affiliation_rows and {row["employer"]["employer_id"] for row in affiliation_rows.values()} == {entry["employer_id"]}


def test_site_manager_is_limited_to_assigned_sites(demo_app):
    client, headers, entry = as_role(demo_app, "site_manager")
    got = {row["site_id"] for row in get_all(client, headers, "sites").values()}
    assert got == set(entry["site_ids"]) == {"36265810102371"}
    prime_client, prime_headers, _ = as_role(demo_app, "prime")
    assert len(get_all(prime_client, prime_headers, "sites")) > len(got)


def test_worker_sees_only_itself(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    client, headers, entry = as_role(demo_app, "worker")
    assert set(get_all(client, headers, "workers")) == {workers[entry["worker_id"]]}
    assert len(get_all(client, headers, "worker-personal")) == 1
    assert {row["site_id"] for row in get_all(client, headers, "sites").values()} == set(entry["site_ids"])


def test_past_employer_loses_access(demo_app):
    """A worker whose old link is 取消: the old employer sees neither the worker nor the new employer's link."""
    emp, sites, links, regs, affs, workers = graph(demo_app)
    cancelled = [(w, e) for w, e, st in affs if st == "取消"]
    assert cancelled
    by_employer = {}
    for entry in demo_app.logins:
        if entry["role"] in ("employer", "prime"):
            by_employer[emp[entry["employer_id"]]] = entry
    checked = 0
    for worker_pk, old in cancelled:
        entry = by_employer.get(old)
        on_old_sites = any(w == worker_pk for s, w, e in regs
                           if any(prime == old for sid, prime in sites.values() if sid == s))
        if entry is None or on_old_sites:
            continue
        client = demo_app.test_client()
        headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
        assert client.get(f"/api/v1/workers/{worker_pk}", headers=headers).status_code == 404
        rows = get_all(client, headers, "affiliations").values()
        assert {row["employer"]["employer_id"] for row in rows} <= {entry["employer_id"]}
        checked += 1
    assert checked >= 1


def test_employer_cannot_write_outside_its_scope(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    client, headers, entry = as_role(demo_app, "employer")
    other = emp["41522937006822"]  # (株)元請A
    r = client.post("/api/v1/sites/", headers=headers, json={
        "site_id": "12345678901271", "name": "他社名義の現場", "prime_employer": other,
        "hazardous_substances": False, "approved": True})
    assert r.status_code == 403 and r.get_json()["code"] == "out_of_scope"
    admin, admin_headers, _ = as_role(demo_app, "admin")
    assert "12345678901271" not in {row["site_id"] for row in get_all(admin, admin_headers, "sites").values()}
    # its own site as prime: allowed
    r = client.post("/api/v1/sites/", headers=headers, json={
        "site_id": "12345678901271", "name": "自社元請の現場", "prime_employer": emp[entry["employer_id"]],
        "hazardous_substances": False, "approved": True})
    assert r.status_code == 201, r.get_data(as_text=True)


def test_invited_company_approves_and_gains_the_site(demo_app):
    """施工体制: the upper company invites; the link exists (and gives access) only once the lower approves."""
    emp, sites, links, regs, affs, workers = graph(demo_app)
    site_a, prime = sites["36265810102371"]
    pending = [(s, u, l) for s, u, l, st in links if s == site_a and st == "招待中"]
    assert pending
    lower = pending[0][2]
    entry = next(e for e in demo_app.logins if e.get("employer_id") and emp[e["employer_id"]] == lower)
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
    link_rows = get_all(client, headers, "structure-links")
    link_id = next(i for i, row in link_rows.items() if row["status"] == "招待中")
    before = set(get_all(client, headers, "workers"))
    r = client.put(f"/api/v1/structure-links/{link_id}", headers=headers, json={"status": "承認済"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "36265810102371" in {row["site_id"] for row in get_all(client, headers, "sites").values()}
    assert set(get_all(client, headers, "workers")) >= before


@pytest.mark.parametrize("payload,code", [
    ({"worker_id": "12345"}, "invalid_worker_id"),
    ({"worker_id": "1234567890123a"}, "invalid_worker_id"),
])
def test_bad_worker_id_on_api_changes_nothing(demo_app, payload, code):
    client, headers, _ = as_role(demo_app, "admin")
    before = len(get_all(client, headers, "workers"))
    r = client.post("/api/v1/workers/", headers=headers, json={"name": "試験 太郎", "level": 1, "registration_type": "詳細型",
                                                              "identity_document": True, **payload})
    assert r.status_code == 422 and r.get_json()["code"] == code
    assert "14桁" in r.get_json()["message"]
    assert len(get_all(client, headers, "workers")) == before


def entry_employer(app, worker_code):
    """The 事業者ID of a worker's current employer."""
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(Employer.employer_id).join(Affiliation, Affiliation.employer_id == Employer.id)
                                  .join(Worker, Worker.id == Affiliation.worker_id)
                                  .where(Worker.worker_id == worker_code, Affiliation.status == "承認済")).scalar_one()


def test_duplicate_and_dangling_and_wrong_dates_are_refused(demo_app):
    client, headers, _ = as_role(demo_app, "admin")
    emp, sites, links, regs, affs, workers = graph(demo_app)
    r = client.post("/api/v1/workers/", headers=headers, json={"worker_id": "93845751166921", "name": "重複", "level": 1,
                                                              "registration_type": "詳細型", "identity_document": True})
    assert r.status_code == 409 and r.get_json()["code"] == "integrity_error"
    before = len(get_all(client, headers, "site-workers"))
    r = client.post("/api/v1/site-workers/", headers=headers, json={"site": 999999, "worker": workers["30154216388821"],
                                                                   "employer": emp[entry_employer(demo_app, "30154216388821")],
                                                                   "hazardous_work": False})
    assert r.status_code in (409, 422) and r.get_json()["code"] in ("integrity_error", "employer_not_in_structure")
    assert len(get_all(client, headers, "site-workers")) == before
    r = client.put(f"/api/v1/sites/{sites['36265810102371'][0]}", headers=headers, json={
        "accumulation_start": "2026-10-01", "accumulation_end": "2026-09-01"})
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_accumulation_period"
    got = client.get(f"/api/v1/sites/{sites['36265810102371'][0]}", headers=headers).get_json()["result"]
    assert got["accumulation_end"] != "2026-09-01"
    assert datetime.date.fromisoformat(got["accumulation_start"]) <= datetime.date.today()


def test_roster_needs_an_approved_affiliation_and_a_place_in_the_structure(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    client, headers, entry = as_role(demo_app, "admin")
    site_a = sites["36265810102371"][0]
    cancelled_worker, old_employer = next((w, e) for w, e, st in affs if st == "取消")
    before = len(get_all(client, headers, "site-workers"))
    r = client.post("/api/v1/site-workers/", headers=headers, json={
        "site": site_a, "worker": cancelled_worker, "employer": old_employer, "hazardous_work": False})
    assert r.status_code == 422 and r.get_json()["code"] == "worker_not_affiliated"
    outsider = next(e for code, e in emp.items() if e not in {x for s, u, l, st in links if s == site_a for x in (u, l)}
                    and e != sites["36265810102371"][1])
    outsider_worker = next(w for w, e, st in affs if e == outsider and st == "承認済")
    r = client.post("/api/v1/site-workers/", headers=headers, json={
        "site": site_a, "worker": outsider_worker, "employer": outsider, "hazardous_work": False})
    assert r.status_code == 422 and r.get_json()["code"] == "employer_not_in_structure"
    assert len(get_all(client, headers, "site-workers")) == before


def test_only_the_lower_company_approves_an_invitation(demo_app):
    emp, sites, links, regs, affs, workers = graph(demo_app)
    site_a, prime = sites["36265810102371"]
    client, headers, entry = as_role(demo_app, "prime")
    rows = get_all(client, headers, "structure-links")
    pending = next(i for i, row in rows.items() if row["status"] == "招待中")
    r = client.put(f"/api/v1/structure-links/{pending}", headers=headers, json={"status": "承認済"})
    assert r.status_code == 403 and r.get_json()["code"] == "out_of_scope"
    assert get_all(client, headers, "structure-links")[pending]["status"] == "招待中"
    # a new invitation gets its tier from the inviting company, and starts as 招待中 only
    lower = next(e for e in emp.values() if e not in {x for s, u, l, st in links if s == site_a for x in (u, l)}
                 and e != prime)
    r = client.post("/api/v1/structure-links/", headers=headers, json={
        "site": site_a, "upper_employer": prime, "lower_employer": lower, "tier": 1, "status": "承認済"})
    assert r.status_code in (403, 422)  # status is not even a field of an invitation
    r = client.post("/api/v1/structure-links/", headers=headers, json={
        "site": site_a, "upper_employer": prime, "lower_employer": lower, "tier": 3})
    assert r.status_code == 201, r.get_data(as_text=True)
    created = get_all(client, headers, "structure-links")[r.get_json()["id"]]
    assert created["tier"] == 1 and created["status"] == "招待中"


def test_prime_sees_who_came_through_its_gates(demo_app):
    """A worker not on the roster who tapped at the prime's site: the prime sees who it was (ID, name), not the
    worker's personal items."""
    from portal.models import EntryExitEvent

    emp, sites, links, regs, affs, workers = graph(demo_app)
    site_a, prime = sites["36265810102371"]
    rostered = {w for s, w, e in regs if s == site_a}
    stranger = next(w for code, w in workers.items() if w not in rostered and
                    not any(e == prime for ww, e, st in affs if ww == w))
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.add(EntryExitEvent(device_event_id="gate-test-1", site_id=site_a, worker_id=stranger,
                                      kind="entry", method="IC", occurred_at=datetime.datetime(2026, 11, 2, 8, 0,
                                      tzinfo=datetime.timezone.utc), work_date=datetime.date(2026, 11, 2)))
        db.session.commit()
    client, headers, entry = as_role(demo_app, "prime")
    assert stranger in get_all(client, headers, "workers")
    with demo_app.app_context(), using_scope(db.session, ALL):
        personal_of_stranger = db.session.execute(select(WorkerPersonal.id).where(WorkerPersonal.worker_id == stranger)).scalar()
    assert personal_of_stranger not in get_all(client, headers, "worker-personal")
