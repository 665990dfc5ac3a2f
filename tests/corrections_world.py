"""A small, fixed world for the correction, calendar, site-board and evaluation tests (dates fixed, unlike the
demo, which follows today's date):

  site X (現場X, prime P, approved)       P ─ S1 (1次) ─ S2 (2次)
  site Y (現場Y, prime Q)                 Q ─ O (1次)
  w1: S1's worker, on X's roster as 職長 (鉄筋工), w2: S2's worker on X as 一般, w3: O's worker on Y.
Logins: admin, p, p-genba (現場管理者 of P assigned to X), s1, s2, o, q, and the three workers.
"""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from portal.people import codes
from portal.demo import DEMO_PASSWORD, add_login, add_worker, link, new_employer, register_on_site
from portal.models import PortalUser, Site, SiteManagerAssignment, Trade
from portal.people.scoping import ALL, ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, scope_for_user, using_scope

START = datetime.date(2026, 1, 1)
IDS = {"P": "41522937006822", "S1": "66679345433022", "S2": "12345678901222", "O": "23456789012322",
       "Q": "34567890123422", "X": "36265810102371", "Y": "45678901234571",
       "w1": "30154216388821", "w2": "17788930382321", "w3": "93845751166921"}


def trade(session, major, minor) -> Trade:
    return session.execute(select(Trade).where(Trade.major_code == major, Trade.minor_code == minor)).scalar_one()


def build(app) -> dict:
    """Seed the world into the app's empty schema; returns primary keys by name."""
    from portal.app.db import db

    s, sm = db.session, app.appbuilder.sm
    app.config["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"  # test logins: a cheap hash keeps tests fast
    with using_scope(s, ALL):
        codes.seed(s)
        emp = {k: new_employer(employer_id=IDS[k], name=f"(株){k}建設", corporate_type="法人",
                               kentaikyo_contract_number="1321") for k in ("P", "S1", "S2", "O", "Q")}
        s.add_all(emp.values())
        s.flush()
        x = Site(site_id=IDS["X"], name="現場X", prime_employer_id=emp["P"].id, approved=True,
                 accumulation_start=START, accumulation_end=datetime.date(2027, 12, 31),
                 work_category="建築・住宅工事", work_content="駅舎新築工事")
        y = Site(site_id=IDS["Y"], name="現場Y", prime_employer_id=emp["Q"].id, approved=True,
                 accumulation_start=START, accumulation_end=datetime.date(2027, 12, 31))
        s.add_all([x, y])
        s.flush()
        link(s, x, emp["P"], emp["S1"], 1)
        link(s, x, emp["S1"], emp["S2"], 2)
        link(s, y, emp["Q"], emp["O"], 1)
        rebar, tobi = trade(s, "10", "01"), trade(s, "06", "01")
        w1 = add_worker(s, worker_id=IDS["w1"], name="目黒 一郎", kana="メグロ イチロウ", employer=emp["S1"],
                        birth=datetime.date(1980, 5, 10), trades=[rebar], qualification_codes=["40040"],
                        level=1, kentaikyo=True)
        w2 = add_worker(s, worker_id=IDS["w2"], name="広尾 二郎", kana="ヒロオ ジロウ", employer=emp["S2"],
                        birth=datetime.date(1984, 8, 20), trades=[tobi], level=2)
        w3 = add_worker(s, worker_id=IDS["w3"], name="建設 未来", kana="ケンセツ ミライ", employer=emp["O"],
                        birth=datetime.date(1986, 4, 1), trades=[tobi])
        register_on_site(s, x, w1, emp["S1"], rebar, "職長", "鉄筋工事", START)
        register_on_site(s, x, w2, emp["S2"], tobi, "一般", "土工", START)
        register_on_site(s, y, w3, emp["O"], tobi, "班長", "足場組立", START)
        s.commit()
        ids = {k: e.id for k, e in emp.items()} | {"X": x.id, "Y": y.id, "w1": w1.id, "w2": w2.id, "w3": w3.id,
                                                   "rebar": rebar.id, "tobi": tobi.id}
        add_login(sm, "admin", DEMO_PASSWORD, ROLE_ADMIN, first_name="管理", last_name="者")
        for k in ("P", "S1", "S2", "O", "Q"):
            add_login(sm, k.lower(), DEMO_PASSWORD, ROLE_EMPLOYER, first_name=k, last_name="責任者", employer=emp[k])
        manager = add_login(sm, "p-genba", DEMO_PASSWORD, ROLE_SITE_MANAGER, first_name="X", last_name="管理者",
                            employer=emp["P"])
        s.add(SiteManagerAssignment(site_id=x.id, user_id=manager.id))
        for k, w in (("w1", w1), ("w2", w2), ("w3", w3)):
            add_login(sm, k, DEMO_PASSWORD, ROLE_WORKER, first_name=w.name.split()[0], last_name=w.name.split()[1],
                      worker=w)
        s.commit()
    return ids


def user(session, username: str) -> PortalUser:
    with using_scope(session, ALL):
        return session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()


class As:
    """``with As(session, "p") as actor:`` runs the block under that login's scope, with its Actor."""

    def __init__(self, session, username: str):
        from portal.history.corrections import actor_of

        self.session = session
        u = user(session, username)
        with using_scope(session, ALL):
            self.scope = scope_for_user(session, u)
        self.actor = actor_of(u)
        self._cm = None

    def __enter__(self):
        self._cm = using_scope(self.session, self.scope)
        self._cm.__enter__()
        return self.actor

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def add_history(session, ids, worker, day, *, site="X", employer="S1", trade="rebar", position="職長",
                methods="IC", counted=True, reason=None, valid=True, **kw):
    """A work history row written directly (the derivation itself is portal.history.histories' and tested there)."""
    from portal.models import WorkHistory

    with using_scope(session, ALL):
        h = WorkHistory(worker_id=ids[worker], site_id=ids[site] if site else None, work_date=day,
                        employer_id=ids[employer] if employer else None, trade_id=ids[trade] if trade else None,
                        position=position, work_content=kw.pop("work_content", "鉄筋工事"), methods=methods,
                        counted=counted, not_counted_reason=reason, valid_for_evaluation=valid and counted, **kw)
        session.add(h)
        session.commit()
        return h.id


def add_device(session, ids, site="X", *, name="ゲート", created=datetime.datetime(2026, 9, 1, tzinfo=datetime.timezone.utc),
               revoked=None):
    from portal.models import Device

    with using_scope(session, ALL):
        utc = datetime.timezone.utc  # stored in UTC, as the portal does (SQLite keeps no offset)
        d = Device(site_id=ids[site], device_type="api", name=name, key_prefix=f"k{name}{site}"[:16],
                   key_hash="x" * 64, created_at=created.astimezone(utc), revoked_at=revoked and revoked.astimezone(utc))
        session.add(d)
        session.commit()
        return d.id


def add_event(session, ids, device_id, at: datetime.datetime, *, worker="w1", site="X", kind="entry", code=None):
    from portal.models import EntryExitEvent
    from zoneinfo import ZoneInfo

    with using_scope(session, ALL):
        e = EntryExitEvent(device_id=device_id, device_event_id=f"{device_id}-{at.isoformat()}-{worker}-{kind}",
                           site_id=ids[site], worker_id=ids[worker] if worker else None, worker_code=code,
                           kind=kind, occurred_at=at.astimezone(datetime.timezone.utc), work_date=at.astimezone(ZoneInfo("Asia/Tokyo")).date(), method="IC",
                           received_at=at.astimezone(datetime.timezone.utc))  # sent at once (the world's dates are fixed)
        session.add(e)
        session.commit()
        return e.id


KEPT_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role"}


@pytest.fixture(scope="module")
def world_app(tmp_path_factory):
    """One app per test module (creating an app costs seconds); each test empties its tables (``world``)."""
    from portal.demo.testing import Database, empty_app

    base = tmp_path_factory.mktemp("world")
    database = Database(base)
    with empty_app(database, base / "instance") as application:
        yield application
    database.drop()


def empty(session) -> None:
    """Delete every row but FAB's roles and permissions (built once with the app), children first."""
    from flask_appbuilder import Model

    for table in reversed(Model.metadata.sorted_tables):
        if table.name not in KEPT_TABLES:
            session.execute(table.delete())
    session.commit()


@pytest.fixture
def world(world_app):
    """(ids, session) over a freshly built world, inside an app context."""
    from portal.app.db import db

    with world_app.app_context():
        empty(db.session)
        ids = build(world_app)
        yield ids, db.session
        db.session.rollback()


@pytest.fixture
def built(world_app):
    """The world's ids, built in an app context that is closed again: for screen tests, whose requests must each
    get their own app context (and ``g``), as in production. Use ``with world_app.app_context():`` to look."""
    from portal.app.db import db

    with world_app.app_context():
        empty(db.session)
        ids = build(world_app)
        db.session.remove()
    return ids
