"""The access holes of issue 9 ("Access that is open today"), each closed and proved through the screens and
the REST API, per role: the row scope shows no more than portal.people.disclosure allows, 退会 ends every company's
view at once, a cancelled affiliation stays cancelled, registration facts are not the employer's to set, the
employer directory is name, ID and address, a lower company cannot rewrite its link's terms, the worker's
閲覧記録 names companies in Tokyo time, and every "today" is Tokyo's."""
from __future__ import annotations

import datetime
import json

import pytest
from sqlalchemy import insert, select, update

from ingest_world import MEGURO, SITE_A, event, new_device, recent_day
from portal.app import clock
from portal.people import disclosure, worker_requests
from portal.app.db import db
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
from portal.people.scoping import ALL, scope_for_user, using_scope
from portal.demo.testing import api_token, login, login_of

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
    item portal.people.disclosure.may_see allows that principal (for the prime, the 1次, the 現場管理者, a worker)."""
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


# --- 取消 is final; a new link is the worker's request; the status is a choice -----------------------------------

def cancelled_link_with_login(app):
    """(affiliation id, former employer's login, worker pk) of a 取消 link whose employer has a login."""
    logins = {e["employer_id"] for e in app.logins if e["role"] in ("employer", "prime")}
    for aff_id, code, worker in fact(app, select(Affiliation.id, Employer.employer_id, Affiliation.worker_id).join(
            Employer, Employer.id == Affiliation.employer_id).where(Affiliation.status == "取消").order_by(Affiliation.id)):
        if code in logins:
            return aff_id, code, worker
    raise AssertionError("the demo has no cancelled link of an employer with a login")


def status_of(app, aff_id: int) -> str:
    return fact(app, select(Affiliation.status).where(Affiliation.id == aff_id))[0][0]


def test_a_former_employer_cannot_re_link_itself_and_the_status_is_a_choice(demo_app):
    aff_id, former, worker = cancelled_link_with_login(demo_app)
    client, headers = rest(demo_app, former)
    r = client.put(f"/api/v1/affiliations/{aff_id}", headers=headers, json={"status": "承認済"})
    assert r.status_code == 422 and r.get_json()["code"] == "affiliation_final", r.get_data(as_text=True)
    assert "元に戻せません" in r.get_json()["message"]
    r = client.put(f"/api/v1/affiliations/{aff_id}", headers=headers, json={"ended_on": None})
    assert r.status_code == 422 and r.get_json()["code"] == "affiliation_final"
    r = client.put(f"/api/v1/affiliations/{aff_id}", headers=headers, json={"status": "再開"})
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_affiliation_status"
    assert client.post("/api/v1/affiliations/", headers=headers, json={
        "worker": worker, "employer": employer_pk(demo_app, former), "status": "承認済"}).status_code in (403, 405)
    admin, admin_headers = rest(demo_app, "admin")  # final for everybody
    r = admin.put(f"/api/v1/affiliations/{aff_id}", headers=admin_headers, json={"status": "承認済"})
    assert r.status_code == 422 and r.get_json()["code"] == "affiliation_final"
    # the screen: a select of the allowed changes (取消 allows none), and a forged POST changes nothing
    page = screen(demo_app, former)
    form = page.get(f"/affiliationview/edit/{aff_id}").get_data(as_text=True)
    assert '<select' in form and 'name="status"' in form
    assert '<option selected value="取消">' in form or 'value="取消"' in form
    assert 'value="承認済"' not in form
    r = page.post(f"/affiliationview/edit/{aff_id}", data={"status": "承認済", "is_primary": "y"}, follow_redirects=True)
    assert "元に戻せません" in r.get_data(as_text=True)
    assert status_of(demo_app, aff_id) == "取消"
    # a current link: the form offers 承認済 → 取消 only
    current = fact(demo_app, select(Affiliation.id).join(Employer, Employer.id == Affiliation.employer_id).where(
        Employer.employer_id == former, Affiliation.status == "承認済"))[0][0]
    form = page.get(f"/affiliationview/edit/{current}").get_data(as_text=True)
    assert 'value="承認済"' in form and 'value="取消"' in form


def test_a_new_link_to_a_former_employer_needs_the_workers_request(demo_app):
    """The worker asks (350_変更 → 所属事業者) and the employer accepts: a NEW link; the old one stays 取消."""
    aff_id, former, worker = cancelled_link_with_login(demo_app)
    code = fact(demo_app, select(Worker.worker_id).where(Worker.id == worker))[0][0]
    with demo_app.app_context():
        me = scope_of(demo_app, code) if any(e["login"] == code for e in demo_app.logins) else None
        from portal.people.scoping import worker_scope

        with using_scope(db.session, ALL):
            me = me or worker_scope(db.session, worker)
        req = worker_requests.file_change(db.session, me, "employer", {"employer_id": former})
        db.session.commit()
        req_id = req.id
    client, headers = rest(demo_app, former)
    page = screen(demo_app, former)
    r = page.post(f"/change-requests/{req_id}", data={"decision": "approve"}, follow_redirects=True)
    assert r.status_code == 200
    rows = fact(demo_app, select(Affiliation.id, Affiliation.status).where(
        Affiliation.worker_id == worker, Affiliation.employer_id == employer_pk(demo_app, former)).order_by(Affiliation.id))
    assert (aff_id, "取消") in rows and any(i != aff_id and st == "承認済" for i, st in rows)


# --- registration facts are not the employer's to set ------------------------------------------------------------

REGISTRATION_CHANGES = [{"level": 4}, {"level_since": "2026-01-01"}, {"registration_type": "簡略型"},
                        {"card_expires_on": "2035-01-01"}]


def registration_of(app, pk: int) -> tuple:
    return fact(app, select(Worker.level, Worker.level_since, Worker.registration_type, Worker.card_expires_on)
                .where(Worker.id == pk))[0]


@pytest.mark.parametrize("change", REGISTRATION_CHANGES)
def test_the_employer_cannot_set_level_registration_type_or_card_expiry(demo_app, change):
    pk = worker_pk(demo_app, MEGURO)
    employer_of_meguro = fact(demo_app, select(Employer.employer_id).join(
        Affiliation, Affiliation.employer_id == Employer.id).where(
        Affiliation.worker_id == pk, Affiliation.status == "承認済"))[0][0]
    stored = registration_of(demo_app, pk)
    client, headers = rest(demo_app, employer_of_meguro)
    r = client.put(f"/api/v1/workers/{pk}", headers=headers, json=change)
    assert r.status_code == 403 and r.get_json()["code"] == "set_by_registration", r.get_data(as_text=True)
    assert "事業者は変更できません" in r.get_json()["message"]
    for role in ("site_manager", "worker"):
        other, other_headers = rest(demo_app, login_of(demo_app, role)["login"])
        assert other.put(f"/api/v1/workers/{pk}", headers=other_headers, json=change).status_code in (403, 404, 405)
    # the screen's form has no such field; a forged one is ignored
    page = screen(demo_app, employer_of_meguro)
    form = page.get(f"/workerview/edit/{pk}").get_data(as_text=True)
    assert 'name="name"' in form
    for field in change:
        assert f'name="{field}"' not in form
    page.post(f"/workerview/edit/{pk}", data={"name": "目黒 一郎", **change})
    assert page.get(f"/workerregistrationview/edit/{pk}").status_code in (302, 403)
    assert registration_of(demo_app, pk) == stored
    admin, admin_headers = rest(demo_app, "admin")  # the administrator (or an import) sets them
    r = admin.put(f"/api/v1/workers/{pk}", headers=admin_headers, json=change)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert registration_of(demo_app, pk) != stored
    assert 'name="level"' in screen(demo_app, "admin").get(f"/workerregistrationview/edit/{pk}").get_data(as_text=True)


# --- a lower company cannot change its upper link's terms; amounts are never negative ---------------------------

def kikin1_link(app) -> int:
    return fact(app, select(StructureLink.id).where(StructureLink.site_id == site_a_pk(app),
                                                    StructureLink.lower_employer_id == employer_pk(app, KIKIN1)))[0][0]


def terms_of(app, link_id: int) -> tuple:
    return fact(app, select(StructureLink.work_scope, StructureLink.contract_amount_yen)
                .where(StructureLink.id == link_id))[0]


def test_the_lower_company_cannot_change_the_terms_and_amounts_are_not_negative(demo_app):
    link_id = kikin1_link(demo_app)
    prime, prime_headers = rest(demo_app, PRIME_A)
    r = prime.put(f"/api/v1/structure-links/{link_id}", headers=prime_headers,
                  json={"work_scope": "躯体工事", "contract_amount_yen": 12_000_000})
    assert r.status_code == 200, r.get_data(as_text=True)
    lower, lower_headers = rest(demo_app, KIKIN1)
    for change in ({"contract_amount_yen": 99_000_000}, {"work_scope": "全工事"}):
        r = lower.put(f"/api/v1/structure-links/{link_id}", headers=lower_headers, json=change)
        assert r.status_code == 403 and r.get_json()["code"] == "link_terms_upper_only", r.get_data(as_text=True)
    page = screen(demo_app, KIKIN1)
    r = page.post(f"/structurelinkview/edit/{link_id}", data={"status": "承認済", "work_scope": "全工事",
                                                              "contract_amount_yen": "99000000"}, follow_redirects=True)
    assert "上位事業者が設定します" in r.get_data(as_text=True)
    assert terms_of(demo_app, link_id) == ("躯体工事", 12_000_000)
    r = prime.put(f"/api/v1/structure-links/{link_id}", headers=prime_headers, json={"contract_amount_yen": -1})
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_contract_amount"
    assert "0以上" in r.get_json()["message"]
    page = screen(demo_app, PRIME_A)
    r = page.post(f"/structurelinkview/edit/{link_id}", data={"status": "承認済", "work_scope": "躯体工事",
                                                              "contract_amount_yen": "-5"}, follow_redirects=True)
    assert "0以上" in r.get_data(as_text=True)
    assert terms_of(demo_app, link_id) == ("躯体工事", 12_000_000)


# --- the employer directory: name, ID and address only ------------------------------------------------------------

SECRETS = {"representative": "秘密 代表者", "kentaikyo_contract_number": "KTK-SECRET-9",
           "health_insurance_office_no": "健保-SECRET-1", "pension_office_no": "年金-SECRET-2",
           "employment_insurance_office_no": "雇用-SECRET-3"}


def test_the_employer_directory_shows_name_id_and_address_only(demo_app):
    from portal.models import EmployerDetail

    kikin1 = employer_pk(demo_app, KIKIN1)
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.execute(update(EmployerDetail).where(EmployerDetail.employer_id == kikin1).values(**SECRETS))
        db.session.commit()
    link_id = kikin1_link(demo_app)

    def leaks(body: str) -> list:
        return [v for v in SECRETS.values() if v in body]

    for role in ("prime", "site_manager", "worker"):
        entry = login_of(demo_app, role)
        client, headers = rest(demo_app, entry["login"])
        for path in ("/api/v1/employers/?q=(page_size:100)", f"/api/v1/employers/{kikin1}",
                     "/api/v1/structure-links/?q=(page_size:100)", f"/api/v1/structure-links/{link_id}",
                     "/api/v1/affiliations/?q=(page_size:100)", "/api/v1/site-workers/?q=(page_size:100)",
                     "/api/v1/sites/?q=(page_size:100)", "/api/v1/structure-links/related/lower_employer",
                     "/api/v1/employer-details/?q=(page_size:100)", f"/api/v1/employer-details/{kikin1}"):
            r = client.get(path, headers=headers)
            assert r.status_code in (200, 403, 404, 405), (role, path, r.status_code)
            assert not leaks(r.get_data(as_text=True)), (role, path)
        shown = client.get(f"/api/v1/employers/{kikin1}", headers=headers).get_json()["result"]
        assert shown["name"] == "(株)基金一次建設" and shown["address"] and "representative" not in shown
        r = client.get("/api/v1/employers/?q=(filters:!((col:kentaikyo_contract_number,opr:eq,value:'KTK-SECRET-9')))",
                       headers=headers)
        assert r.status_code == 400 or r.get_json()["count"] == 0  # no oracle through a filter either
        page = screen(demo_app, entry["login"])
        for path in ("/employerview/list/", f"/employerview/show/{kikin1}", "/structurelinkview/list/",
                     "/structurelinkview/add", "/employerdetailview/list/", f"/employerdetailview/show/{kikin1}",
                     "/worker/310/50?q=基金"):
            r = page.get(path)
            assert not leaks(r.get_data(as_text=True)), (role, path)
        assert "(株)基金一次建設" in page.get(f"/employerview/show/{kikin1}").get_data(as_text=True)
    # the employer itself (and the administrator) reads and keeps its own registration
    own, own_headers = rest(demo_app, KIKIN1)
    mine = api_rows(own, own_headers, "employer-details")
    assert len(mine) == 1 and set(SECRETS.values()) <= {v for v in mine[0].values() if isinstance(v, str)}
    assert "KTK-SECRET-9" in screen(demo_app, KIKIN1).get("/employerdetailview/list/").get_data(as_text=True)
    admin, admin_headers = rest(demo_app, "admin")
    assert len(api_rows(admin, admin_headers, "employer-details")) == len(fact(demo_app, select(Employer.id)))
    detail_id = fact(demo_app, select(EmployerDetail.id).where(EmployerDetail.employer_id == kikin1))[0][0]
    r = own.put(f"/api/v1/employer-details/{detail_id}", headers=own_headers, json={"capital_yen": -1})
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_capital"
    r = own.put(f"/api/v1/employer-details/{detail_id}", headers=own_headers, json={"capital_yen": 30_000_000})
    assert r.status_code == 200, r.get_data(as_text=True)


# --- the worker's 閲覧記録 names the company and the Tokyo time ----------------------------------------------------

def test_the_workers_viewing_record_names_companies_and_tokyo_times_not_logins_or_addresses(demo_app):
    from portal.models import AuditLog

    pk = worker_pk(demo_app, MEGURO)
    site_manager = login_of(demo_app, "site_manager")["login"]  # genba-a, staff of (株)元請A
    screen(demo_app, site_manager).get(f"/worker-information/{MEGURO}")
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.add(AuditLog(at=datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.timezone.utc),
                                user_id=1, username="admin", employer_id=None, action="export",
                                object_type="WorkerInsurance,Worker", worker_id=pk, remote_addr="198.51.100.7"))
        db.session.commit()
    page = screen(demo_app, MEGURO).get("/worker/390").get_data(as_text=True)
    assert "(株)元請A" in page and "閲覧" in page and "技能者情報" in page
    assert "2026/12/01 08:30" in page and "システム管理者" in page and "社会保険" in page  # 23:30 UTC = 08:30 Tokyo
    for secret in (site_manager, "198.51.100.7", "127.0.0.1", ">admin<", "WorkerInsurance"):
        assert secret not in page, secret
    assert screen(demo_app, MEGURO).get("/auditlogview/list/").status_code in (302, 403)


# --- every "today" is Tokyo's, also on a server whose clock runs in UTC ----------------------------------------------

@pytest.fixture
def utc_server(monkeypatch):
    """The process runs in UTC, at 20:00 UTC: the system's date is still D while Tokyo is already at D+1 05:00.
    portal.app.clock.now is the one place the portal reads the clock; it is moved there."""
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    utc_day = datetime.datetime.now(datetime.timezone.utc).date()
    moment = datetime.datetime.combine(utc_day, datetime.time(20, 0), tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: moment)
    try:
        yield utc_day, utc_day + datetime.timedelta(days=1)
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_a_roster_row_starting_today_in_tokyo_counts_on_a_utc_server(demo_app, utc_server):
    utc_day, tokyo_day = utc_server
    assert clock.tokyo_today() == tokyo_day and datetime.date.today() == utc_day  # the two dates differ
    kikin = fact(demo_app, select(SiteWorkerRegistration.employer_id).where(
        SiteWorkerRegistration.worker_id == worker_pk(demo_app, MEGURO)))[0][0]
    on_prime_sites = select(SiteWorkerRegistration.worker_id).join(Site, Site.id == SiteWorkerRegistration.site_id).where(
        Site.prime_employer_id == employer_pk(demo_app, PRIME_A))
    newcomer, code = fact(demo_app, select(Worker.id, Worker.worker_id).join(
        Affiliation, Affiliation.worker_id == Worker.id).where(
        Affiliation.employer_id == kikin, Affiliation.status == "承認済", Worker.id.not_in(on_prime_sites)))[0]
    with demo_app.app_context(), using_scope(db.session, ALL):
        db.session.add(SiteWorkerRegistration(site_id=site_a_pk(demo_app), worker_id=newcomer, employer_id=kikin,
                                              position="一般", hazardous_work=False, start_date=tokyo_day))
        db.session.commit()
    client, headers = rest(demo_app, PRIME_A)
    assert code in insured_worker_codes(client, headers)  # the row scope: on the roster today (Tokyo)
    info = screen(demo_app, PRIME_A).get(f"/worker-information/{code}", follow_redirects=True).get_data(as_text=True)
    assert "健康保険" in info and "表示できる技能者情報がありません" not in info  # the disclosure rule, the same day


def test_the_migration_moves_every_employer_value_to_its_detail_row(database):
    """acc3ss: the non-public columns move to employer_details without losing a value (SQLite and PostgreSQL)."""
    from sqlalchemy import create_engine, inspect, text

    from portal.app.migrate import upgrade

    upgrade(database.url, "h0tpath")
    engine = create_engine(database.url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO employers (employer_id, name, corporate_type, address, representative, "
                           "kentaikyo_contract_number, capital_yen, registered_on) VALUES ('41522937006822', '(株)元請A', "
                           "'法人', '東京都千代田区', '元請 太郎', '1001', 500000000, '2019-04-01'), "
                           "('66679345433022', '(株)基金一次建設', '法人', NULL, NULL, NULL, NULL, NULL)"))
        upgrade(database.url)
        with engine.connect() as c:
            rows = c.execute(text("SELECT e.employer_id, e.name, e.address, d.representative, d.kentaikyo_contract_number, "
                                  "d.capital_yen FROM employers e JOIN employer_details d ON d.employer_id = e.id "
                                  "ORDER BY e.employer_id")).all()
            columns = {col["name"] for col in inspect(c).get_columns("employers")}
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("41522937006822", "(株)元請A", "東京都千代田区", "元請 太郎", "1001", 500000000),
                                        ("66679345433022", "(株)基金一次建設", None, None, None, None)]
    assert "representative" not in columns and "kentaikyo_contract_number" not in columns
