"""The scope binds no id lists: a prime that may see more than 65,535 workers, roster rows and gate workers
(psycopg refuses a statement of more parameters) still gets its pages and REST lists, and sees exactly
those rows (PostgreSQL only: the limit is psycopg's; the rows are made with generate_series in seconds)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from portal.app.db import db
from portal.models import Employer, Site, SiteWorkerRegistration, Worker
from portal.people.scoping import ALL, IdSet, employer_scope, using_scope
from portal.demo.testing import PG_URL, api_token, login, login_of
from portal.output.work_calendar import PICK_LIMIT

postgresql_only = pytest.mark.skipif(not PG_URL, reason="psycopg's 65,535-parameter limit: PostgreSQL only")

MANY = 70_000  # above 65,535


def _grow(app) -> tuple[int, int]:
    """MANY new workers employed by site A's prime, on site A's roster and tapped at its gate."""
    manager = login_of(app, "site_manager")
    with app.app_context(), using_scope(db.session, ALL):
        s = db.session
        prime = s.execute(select(Employer.id).where(Employer.employer_id == manager["employer_id"])).scalar_one()
        site = s.execute(select(Site.id).where(Site.site_id == manager["site_ids"][0])).scalar_one()
        params = {"n": MANY, "prime": prime, "site": site}
        s.execute(text("INSERT INTO workers (worker_id, name, level, registration_type, identity_document) "
                       "SELECT '9' || lpad(g::text, 13, '0'), '大量 太郎' || g, 1, '簡略型', true "
                       "FROM generate_series(1, :n) g"), params)
        new = "SELECT id FROM workers WHERE worker_id LIKE '9%'"
        s.execute(text(f"INSERT INTO affiliations (worker_id, employer_id, status, is_primary, created_at) "
                       f"SELECT id, :prime, '承認済', true, now() FROM ({new}) w"), params)
        s.execute(text(f"INSERT INTO site_worker_registrations (site_id, worker_id, employer_id, hazardous_work, "
                       f"start_date) SELECT :site, id, :prime, false, current_date - 30 FROM ({new}) w"), params)
        s.execute(text(f"INSERT INTO entry_exit_events (device_event_id, site_id, worker_id, kind, occurred_at, "
                       f"work_date, method, received_at) SELECT 'bulk-' || id, :site, id, '入場', now() - interval '3 days', "
                       f"current_date - 3, 'api', now() FROM ({new}) w"), params)
        s.commit()
        s.execute(text("ANALYZE"))  # what autovacuum does soon after such a load
        s.commit()
    return prime, site


@postgresql_only
def test_a_prime_above_the_parameter_limit_gets_its_pages_and_lists(demo_app):
    prime, site = _grow(demo_app)
    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            everyone = s.execute(select(func.count(Worker.id))).scalar()
        scope = employer_scope(s, prime)
        assert isinstance(scope.worker_ids, IdSet)
        with using_scope(s, scope):  # the scope is SQL: nothing is bound per worker
            seen = s.execute(select(func.count(Worker.id))).scalar()
            rows = s.execute(select(func.count(SiteWorkerRegistration.id))).scalar()
            last = s.execute(select(Worker.id).order_by(Worker.id.desc()).limit(1)).scalar()
        assert MANY < seen < everyone and rows > MANY
        assert last in scope.worker_ids and last in scope.own_worker_ids and last in scope.roster_worker_ids
        s.rollback()

    prime_login = next(e for e in demo_app.logins if e["role"] == "prime"
                       and e["employer_id"] == login_of(demo_app, "site_manager")["employer_id"])
    for entry in (prime_login, login_of(demo_app, "site_manager")):
        client = demo_app.test_client()
        assert login(client, entry["login"], entry["password"]).status_code == 200
        for page in ("/", "/workerview/list/", f"/site-board/?site={site}", "/work-calendar/", "/employer-month/",
                     "/siteworkerregistrationview/list/"):
            r = client.get(page, follow_redirects=True)
            assert r.status_code == 200, (entry["role"], page, r.get_data(as_text=True)[:300])
            if page == "/work-calendar/":  # the dropdown searches as you type: it does not list 70,000 workers
                assert r.get_data(as_text=True).count("<option") <= PICK_LIMIT + 1
        found = client.get("/work-calendar/workers?q=大量 太郎6999").get_json()
        assert {w["label"].split("（")[0] for w in found} >= {"大量 太郎6999", "大量 太郎69999"}
        headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
        for api in ("workers", "site-workers", "worker-insurance", "work-histories"):
            r = client.get(f"/api/v1/{api}/?q=(page_size:20,page:0)", headers=headers)
            assert r.status_code == 200, (entry["role"], api, r.get_data(as_text=True)[:300])
            if api in ("workers", "site-workers"):
                assert r.get_json()["count"] > MANY, (entry["role"], api)


def test_the_worker_dropdown_searches_within_the_scope(demo_app, client_for):
    """The calendar's worker search answers only workers of the viewer's scope that match what was typed."""
    client, _entry = client_for("employer")
    with demo_app.app_context(), using_scope(db.session, ALL):
        admin_sees = {w.id: w for w in db.session.execute(select(Worker)).scalars()}
    mine = client.get("/work-calendar/workers?q=").get_json()
    assert mine and len(mine) < len(admin_sees)  # its own and roster workers, not everybody
    some = admin_sees[mine[0]["id"]]
    typed = client.get(f"/work-calendar/workers?q={some.worker_id[-6:]}").get_json()
    assert some.id in {w["id"] for w in typed} and {w["id"] for w in typed} <= {w["id"] for w in mine}
    stranger = next(w for pk, w in admin_sees.items() if pk not in {m["id"] for m in mine})
    assert client.get(f"/work-calendar/workers?q={stranger.worker_id}").get_json() == []
    assert client.get("/work-calendar/workers?q=%25_%25").get_json() == []  # LIKE wildcards are plain text


def test_membership_asks_the_same_select_that_filters(demo_app):
    """``value in scope.X`` (the write rules) and ``col.in_(scope.X)`` (the read rules) agree, for every kind of
    employer login; the sets cannot be iterated (that would load them whole)."""
    from portal.models import PortalUser
    from portal.people.scoping import scope_for_user

    with demo_app.app_context():
        s = db.session
        with using_scope(s, ALL):
            every = set(s.execute(select(Worker.id)).scalars())
            users = [s.execute(select(PortalUser).where(PortalUser.username == login_of(demo_app, role)["login"]))
                     .scalar_one() for role in ("prime", "employer", "site_manager")]
            for user in users:
                scope = scope_for_user(s, user)
                for ids in (scope.worker_ids, scope.own_worker_ids, scope.roster_worker_ids):
                    if not isinstance(ids, IdSet):
                        assert ids == frozenset()
                        continue
                    selected = set(s.execute(select(Worker.id).where(Worker.id.in_(ids))).scalars())
                    assert {w for w in every if w in ids} == selected and bool(ids) == bool(selected)
                    with pytest.raises(TypeError):
                        list(ids)
                assert set(s.execute(select(Worker.id).where(Worker.id.in_(scope.worker_ids))).scalars()) < every
        s.rollback()
