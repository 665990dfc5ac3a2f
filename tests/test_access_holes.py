"""The access holes of issue 9 ("Access that is open today"), each closed and proved through the screens and
the REST API, per role: the row scope shows no more than portal.disclosure allows, 退会 ends every company's
view at once, a cancelled affiliation stays cancelled, registration facts are not the employer's to set, the
employer directory is name, ID and address, a lower company cannot rewrite its link's terms, the worker's
閲覧記録 names companies in Tokyo time, and every "today" is Tokyo's."""
from __future__ import annotations

import datetime
import json

import pytest
from sqlalchemy import insert, select, update

from ingest_world import MEGURO, SITE_A, event, new_device, recent_day
from portal import clock, disclosure, worker_requests
from portal.db import db
from portal.models import (
    Affiliation,
    Employer,
    EntryExitEvent,
    PortalUser,
    Site,
    SiteWorkerRegistration,
    StructureLink,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
    WorkHistory,
)
from portal.models.disclosure import MODEL_ITEMS
from portal.scoping import ALL, scope_for_user, using_scope
from portal.testing import api_token, login, login_of

PRIME_A = "41522937006822"  # (株)元請A, prime of A現場工事
KIKIN1 = "66679345433022"  # (株)基金一次建設, 1次 on A現場工事
ITEM_MODELS = (WorkerInsurance, WorkerQualification, WorkerTrade, WorkerAward, WorkerPersonal)


# --- helpers -------------------------------------------------------------------------------------------------

def rest(app, login_name: str):
    client = app.test_client()
    entry = next(e for e in app.logins if e["login"] == login_name)
    return client, {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}


def screen(app, login_name: str):
    client = app.test_client()
    entry = next(e for e in app.logins if e["login"] == login_name)
    assert login(client, entry["login"], entry["password"]).status_code == 200
    return client


def api_rows(client, headers, resource: str) -> list[dict]:
    out, page = [], 0
    while True:
        r = client.get(f"/api/v1/{resource}/?q=(page_size:100,page:{page})", headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        body = r.get_json()
        out += body["result"]
        if len(out) >= body["count"] or not body["ids"]:
            return out
        page += 1


def insured_worker_codes(client, headers) -> set:
    """The 技能者ID of every worker whose 社会保険 row the principal reads through the REST API."""
    return {row["worker"]["worker_id"] for row in api_rows(client, headers, "worker-insurance")}


def fact(app, stmt):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(stmt).all()


def worker_pk(app, code: str) -> int:
    return fact(app, select(Worker.id).where(Worker.worker_id == code))[0][0]


def employer_pk(app, code: str) -> int:
    return fact(app, select(Employer.id).where(Employer.employer_id == code))[0][0]


def site_a_pk(app) -> int:
    return fact(app, select(Site.id).where(Site.site_id == SITE_A))[0][0]


def rostered_on_site_a(app, employer_code: str) -> list[str]:
    """Workers that ``employer_code`` put on A現場工事's roster and still employs."""
    e = employer_pk(app, employer_code)
    return [code for (code,) in fact(app, select(Worker.worker_id).join(
        SiteWorkerRegistration, SiteWorkerRegistration.worker_id == Worker.id).join(
        Affiliation, (Affiliation.worker_id == Worker.id) & (Affiliation.employer_id == e)).where(
        SiteWorkerRegistration.site_id == site_a_pk(app), SiteWorkerRegistration.employer_id == e,
        Affiliation.status == "承認済"))]


def kentaikyo_number(app, code: str) -> str | None:
    return fact(app, select(WorkerInsurance.kentaikyo_number).where(
        WorkerInsurance.worker_id == worker_pk(app, code)))[0][0]


def scope_of(app, login_name: str):
    with app.app_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == login_name)).scalar_one()
        return scope_for_user(db.session, user)


# --- the row scope never shows more than the disclosure rule ----------------------------------------------------

def stranger_of_prime_a(app) -> str:
    """A worker with a 建退共 number who is on no roster of (株)元請A's sites and not employed by it."""
    prime = employer_pk(app, PRIME_A)
    prime_sites = select(Site.id).where(Site.prime_employer_id == prime)
    on_sites = select(SiteWorkerRegistration.worker_id).where(SiteWorkerRegistration.site_id.in_(prime_sites))
    tapped = select(EntryExitEvent.worker_id).where(EntryExitEvent.site_id.in_(prime_sites),
                                                    EntryExitEvent.worker_id.is_not(None))
    own = select(Affiliation.worker_id).where(Affiliation.employer_id == prime)
    return fact(app, select(Worker.worker_id).join(WorkerInsurance, WorkerInsurance.worker_id == Worker.id).where(
        Worker.id.not_in(on_sites), Worker.id.not_in(tapped), Worker.id.not_in(own),
        WorkerInsurance.kentaikyo_number.is_not(None)).order_by(Worker.id))[0][0]


def test_a_tap_at_the_gate_shows_the_prime_who_it_was_never_the_insurance_or_qualifications(demo_app):
    """A prime registers a device and posts one entry for any worker ID: it learns who that was (ID, name),
    not the worker's insurance, 建退共 number, qualifications or trades, through the API or the screens."""
    stranger = stranger_of_prime_a(demo_app)
    number = kentaikyo_number(demo_app, stranger)
    _device, key = new_device(demo_app)
    r = demo_app.test_client().post("/api/v1/events", data=json.dumps({"events": [event(stranger, recent_day(2), 8)]}),
                                    headers={"Authorization": f"Bearer {key}"}, content_type="application/json")
    assert r.get_json()["accepted"] == 1
    client, headers = rest(demo_app, PRIME_A)
    pk = worker_pk(demo_app, stranger)
    shown = client.get(f"/api/v1/workers/{pk}", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["result"]["worker_id"] == stranger  # identity
    assert stranger not in insured_worker_codes(client, headers)
    assert number not in shown.get_data(as_text=True)
    page = screen(demo_app, PRIME_A)
    for path in ("/workerinsuranceview/list/", "/workerqualificationview/list/", "/workertradeview/list/"):
        body = page.get(path + "?psize_x=10000").get_data(as_text=True)
        assert stranger not in body and number not in body, path
    assert page.get(f"/workerview/show/{pk}").status_code == 200  # who it was
    info = page.get(f"/worker-information/{stranger}", follow_redirects=True).get_data(as_text=True)
    assert number not in info and "表示できる技能者情報がありません" in info


def test_a_tier_that_left_the_structure_or_is_only_invited_gives_the_prime_no_items(demo_app):
    """Roster items reach the prime only through the APPROVED structure: an ended (解除) link or an
    invitation not yet accepted (招待中) does not carry its company's workers' insurance to it."""
    site = site_a_pk(demo_app)
    client, headers = rest(demo_app, PRIME_A)
    first_tier = fact(demo_app, select(StructureLink.id, StructureLink.lower_employer_id).where(
        StructureLink.site_id == site, StructureLink.tier == 2, StructureLink.upper_employer_id != employer_pk(
            demo_app, KIKIN1)))
    link_id, second = first_tier[0]
    second_code = fact(demo_app, select(Employer.employer_id).where(Employer.id == second))[0][0]
    elsewhere = {w for (w,) in fact(demo_app, select(Worker.worker_id).join(
        SiteWorkerRegistration, SiteWorkerRegistration.worker_id == Worker.id).where(SiteWorkerRegistration.site_id != site))}
    leaving = [w for w in rostered_on_site_a(demo_app, second_code) if w not in elsewhere]
    assert leaving and set(leaving) <= insured_worker_codes(client, headers)  # on the roster: the prime sees them
    # an invited company whose workers sit on the roster (imported before the invitation was answered)
    invited = fact(demo_app, select(StructureLink.lower_employer_id).where(
        StructureLink.site_id == site, StructureLink.status == "招待中"))[0][0]
    invited_worker = fact(demo_app, select(Affiliation.worker_id).where(
        Affiliation.employer_id == invited, Affiliation.status == "承認済"))[0][0]
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(update(StructureLink).where(StructureLink.id == link_id).values(status="解除"))
        db.session.execute(insert(SiteWorkerRegistration.__table__).values(
            site_id=site, worker_id=invited_worker, employer_id=invited, position="一般", hazardous_work=False,
            start_date=datetime.date(2026, 1, 1)))
        db.session.commit()
    client, headers = rest(demo_app, PRIME_A)
    seen = insured_worker_codes(client, headers)
    assert not set(leaving) & seen
    invited_code = fact(demo_app, select(Worker.worker_id).where(Worker.id == invited_worker))[0][0]
    assert invited_code not in seen
    with demo_app.app_context(), using_scope(db.session, scope_of(demo_app, PRIME_A)):
        assert not disclosure.may_see(db.session, scope_of(demo_app, PRIME_A), worker_pk(demo_app, leaving[0]),
                                      "social_insurance")


def test_the_prime_reads_only_the_roster_items_of_its_roster(demo_app):
    """表彰 is not a 作業員名簿 item: the prime does not read a rostered worker's awards; its employer does."""
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.add(WorkerAward(worker_id=worker_pk(demo_app, MEGURO), name="優秀技能者表彰",
                                   awarded_on=datetime.date(2024, 11, 1)))
        db.session.commit()
    employer_of_meguro = fact(demo_app, select(Employer.employer_id).join(
        Affiliation, Affiliation.employer_id == Employer.id).where(
        Affiliation.worker_id == worker_pk(demo_app, MEGURO), Affiliation.status == "承認済"))[0][0]
    prime = screen(demo_app, PRIME_A).get("/workerawardview/list/").get_data(as_text=True)
    assert "優秀技能者表彰" not in prime
    assert "目黒 一郎" in screen(demo_app, PRIME_A).get("/workerinsuranceview/list/?psize_x=10000").get_data(as_text=True)
    assert "優秀技能者表彰" in screen(demo_app, employer_of_meguro).get("/workerawardview/list/").get_data(as_text=True)


@pytest.mark.parametrize("login_name", [PRIME_A, KIKIN1, "genba-a", MEGURO])
def test_every_item_row_the_scope_shows_is_one_may_see_allows(demo_app, login_name):
    """One rule: each row of an item-bearing model that the row scope lets a principal read is one whose every
    item portal.disclosure.may_see allows that principal (for the prime, the 1次, the 現場管理者, a worker)."""
    scope = scope_of(demo_app, login_name)
    checked = 0
    with demo_app.app_context(), using_scope(db.session, scope):
        for model in ITEM_MODELS:
            worker_ids = set(db.session.execute(select(model.worker_id)).scalars())
            for worker_id in worker_ids:
                for item in MODEL_ITEMS[model.__name__]:
                    assert disclosure.may_see(db.session, scope, worker_id, item), (model.__name__, worker_id, item)
                    checked += 1
    assert checked > 0


# --- 退会 ends every company's view at once ---------------------------------------------------------------------

def test_withdrawal_ends_every_companys_view_of_the_items_and_keeps_the_records(demo_app):
    pk = worker_pk(demo_app, MEGURO)
    employer_of_meguro = fact(demo_app, select(Employer.employer_id).join(
        Affiliation, Affiliation.employer_id == Employer.id).where(
        Affiliation.worker_id == pk, Affiliation.status == "承認済"))[0][0]
    viewers = (PRIME_A, KIKIN1, employer_of_meguro, "genba-a")
    for login_name in viewers:
        client, headers = rest(demo_app, login_name)
        assert MEGURO in insured_worker_codes(client, headers), login_name  # before: the roster or the employer
    histories = len(fact(demo_app, select(WorkHistory.id).where(WorkHistory.worker_id == pk)))
    assert histories > 0
    with demo_app.app_context():
        worker_requests.withdraw(db.session, pk)
        db.session.commit()
    for login_name in viewers:
        client, headers = rest(demo_app, login_name)
        assert MEGURO not in insured_worker_codes(client, headers), login_name
        page = screen(demo_app, login_name)
        for path in ("/workerinsuranceview/list/", "/workerqualificationview/list/", "/workertradeview/list/",
                     "/workerpersonalview/list/"):
            r = page.get(path + "?psize_x=10000")
            assert r.status_code in (200, 302, 403) and "目黒 一郎" not in r.get_data(as_text=True), (login_name, path)
        info = page.get(f"/worker-information/{MEGURO}", follow_redirects=True).get_data(as_text=True)
        assert "表示できる技能者情報がありません" in info, login_name
    assert len(fact(demo_app, select(WorkHistory.id).where(WorkHistory.worker_id == pk))) == histories
    admin, admin_headers = rest(demo_app, "admin")
    assert MEGURO in insured_worker_codes(admin, admin_headers)  # kept: the administrator still reads it
