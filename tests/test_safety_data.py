"""The safety-document data (portal.models.safety): who reads and writes it, per role, through the real REST API
and screens; its checks; and the privacy rule (no 基礎年金番号 / 健康保険の記号・番号 column, the 雇用保険 number
only as its last 4 digits)."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import select

import portal.models  # noqa: F401
from portal.app.db import db
from portal.models import WorkerInsurance
from portal.models.safety import SiteStaff, WorkerSafetyRecord
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import login, login_of
from tests.safety_world import EMPLOYMENT_NUMBER, KIKIN1, MEGURO, PRIME_A, seed
from tests.test_scope_rules import as_role, get_all


def test_no_column_can_hold_a_pension_or_health_insurance_number():
    """A schema check: nothing named like the numbers the law forbids asking for, and the 雇用保険 column is 4 wide."""
    suspicious = ("pension_number", "basic_pension", "nenkin", "health_insurance_number", "health_symbol",
                  "insured_number", "hoken_bango", "kigo")
    names = [f"{t.name}.{c.name}" for t in Model.metadata.tables.values() for c in t.columns]
    assert not [n for n in names if any(word in n.lower() for word in suspicious)]
    assert WorkerInsurance.__table__.c.employment_number_last4.type.length == 4


def test_the_full_employment_insurance_number_is_refused_and_nothing_is_stored(demo_app):
    seed(demo_app)
    client, headers, _ = as_role(demo_app, "employer", 1)  # 基金建設, 目黒's employer
    rows = get_all(client, headers, "worker-insurance")
    pk = next(pk for pk, r in rows.items() if r["worker"]["worker_id"] == MEGURO)
    for bad in (EMPLOYMENT_NUMBER, "50123456789", "123", "１２３４"):
        r = client.put(f"/api/v1/worker-insurance/{pk}", json={"employment_number_last4": bad}, headers=headers)
        assert r.status_code in (400, 422), (bad, r.get_data(as_text=True))
        assert r.get_json()["code"] in ("employment_number_last4", "validation_error", "invalid_value")
    r = client.put(f"/api/v1/worker-insurance/{pk}", json={"employment_number_last4": "4321"}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    with demo_app.app_context(), using_scope(db.session, ALL):
        stored = db.session.get(WorkerInsurance, pk).employment_number_last4
    assert stored == "4321"


def test_site_persons_are_read_on_the_branch_and_written_by_their_company(demo_app):
    world = seed(demo_app)
    emp = world["employers"]
    code = {role_index: login_of(demo_app, *role_index)["employer_id"] for role_index in
            (("prime", 0), ("employer", 0), ("employer", 1), ("employer", 2))}
    seen = {}
    for role, index in (("prime", 0), ("employer", 0), ("employer", 1), ("employer", 2), ("site_manager", 0)):
        client, headers, entry = as_role(demo_app, role, index)
        rows = get_all(client, headers, "site-staff")
        seen[(role, index)] = {r["employer"]["employer_id"] for r in rows.values()}
    tree = {c for c, pk in emp.items() if pk in world["members"]}
    assert seen[("prime", 0)] == tree  # the prime: the whole tree of its site
    assert seen[("site_manager", 0)] == tree  # its 現場管理者 on the assigned site
    assert seen[("employer", 0)] == {code[("employer", 0)], code[("employer", 1)]}  # 1次: itself and its 2次
    assert seen[("employer", 1)] == {code[("employer", 1)]}  # 2次: only itself
    assert code[("employer", 2)] in seen[("employer", 2)]  # the sibling 1次 (東建工): its own branch only
    assert not seen[("employer", 2)] & {PRIME_A, KIKIN1, code[("employer", 1)]}
    client, headers, _ = as_role(demo_app, "worker", 0)
    assert client.get("/api/v1/site-staff/", headers=headers).status_code in (401, 403)

    # the 1次 adds its own person; it cannot add one for its 2次 nor for the prime
    client, headers, _ = as_role(demo_app, "employer", 0)
    ok = client.post("/api/v1/site-staff/", json={"site": world["site"], "employer": emp[KIKIN1], "role": "職長",
                                                 "person_name": "職長 一"}, headers=headers)
    assert ok.status_code == 201, ok.get_data(as_text=True)
    for other in (emp[PRIME_A], emp[code[("employer", 1)]]):
        r = client.post("/api/v1/site-staff/", json={"site": world["site"], "employer": other, "role": "職長",
                                                    "person_name": "なりすまし"}, headers=headers)
        assert r.status_code == 403, r.get_data(as_text=True)
    bad = client.post("/api/v1/site-staff/", json={"site": world["site"], "employer": emp[KIKIN1], "role": "社長",
                                                  "person_name": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_staff_role", bad.get_data(as_text=True)
    assert "役割" in bad.get_json()["message"]
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert not db.session.execute(select(SiteStaff).where(SiteStaff.person_name.in_(["なりすまし", "x"]))).first()


def test_licences_are_public_to_companies_and_written_only_by_their_own(demo_app):
    world = seed(demo_app)
    client, headers, _ = as_role(demo_app, "employer", 2)  # 東建工, not on 基金's branch
    rows = get_all(client, headers, "construction-licenses")
    assert len(rows) == len(world["members"])
    pk = next(pk for pk, r in rows.items() if r["employer"]["employer_id"] == KIKIN1)
    r = client.put(f"/api/v1/construction-licenses/{pk}", json={"number": "13-999999"}, headers=headers)
    assert r.status_code in (403, 404)
    client, headers, _ = as_role(demo_app, "employer", 0)
    r = client.put(f"/api/v1/construction-licenses/{pk}", json={"number": "13-999999"}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.put(f"/api/v1/construction-licenses/{pk}", json={"authority": "市長"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_license_authority"


def test_roster_items_reach_the_prime_and_the_foreign_status_does_not(demo_app):
    world = seed(demo_app)
    meguro = world["workers"][MEGURO]
    seen = {}
    for role, index in (("prime", 0), ("employer", 0), ("employer", 1), ("employer", 2), ("worker", 1)):
        client, headers, _ = as_role(demo_app, role, index)
        r = client.get("/api/v1/worker-safety-records/?q=(page_size:100)", headers=headers)
        seen[(role, index)] = r.status_code == 200 and any(x["worker"]["worker_id"] == MEGURO for x in r.get_json()["result"])
    # the prime and the 1次 (on the roster of their site), 目黒's employer, 目黒 itself; not the sibling branch
    assert seen == {("prime", 0): True, ("employer", 0): True, ("employer", 1): True, ("employer", 2): False,
                    ("worker", 1): True}
    # the screen of the foreign status lists it to the employer, not to the prime (a 国籍 item)
    for role, index, shown in (("employer", 1, True), ("prime", 0, False)):
        entry = login_of(demo_app, role, index)
        client = demo_app.test_client()
        login(client, entry["login"], entry["password"])
        page = client.get("/workerforeignstatusview/list/")
        if role == "prime":
            assert page.status_code in (302, 403) or "1号特定技能外国人" not in page.get_data(as_text=True)
        else:
            assert page.status_code == 200 and ("1号特定技能外国人" in page.get_data(as_text=True)) == shown
    # the employer changes 目黒's blood pressure on its screen; a reading out of range is refused in Japanese
    entry = login_of(demo_app, "employer", 1)
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    with demo_app.app_context(), using_scope(db.session, ALL):
        pk = db.session.execute(select(WorkerSafetyRecord.id).where(WorkerSafetyRecord.worker_id == meguro)).scalar_one()
    page = client.post(f"/workersafetyrecordview/edit/{pk}", data={"blood_pressure_high": "900", "blood_pressure_low": "80"},
                       follow_redirects=True)
    assert "血圧は40〜300の数値で入力してください。" in page.get_data(as_text=True)
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert db.session.get(WorkerSafetyRecord, pk).blood_pressure_high == 128


def test_the_scan_finds_the_forbidden_numbers_and_passes_the_allowed_ones():
    from portal.people.safety_data import forbidden_numbers

    assert forbidden_numbers("基礎年金番号: 1234-567890") == ["基礎年金番号", "健康保険の記号・番号"]
    assert forbidden_numbers("被保険者番号 5012-345678-9") == ["基礎年金番号", "雇用保険の被保険者番号（全桁）"] or \
        "雇用保険の被保険者番号（全桁）" in forbidden_numbers("被保険者番号 5012-345678-9")
    assert forbidden_numbers("記号 12 番号 3") == ["健康保険の記号・番号"]
    assert forbidden_numbers("x", known=("50123456789",)) == [] and forbidden_numbers("5012-345678-9 ", known=("50123456789",))
    # what the forms do print: IDs, dates, phone numbers, a company's 事業所整理記号, the last 4 digits
    assert forbidden_numbers("36265810102371 2026/04/01 03-1111-0001 090-1234-5678 事業所整理記号 01-ｱｲｳ 6789") == []


def test_viewing_the_roster_items_is_in_the_workers_trail(demo_app, client_for):
    from portal.models import AuditLog

    world = seed(demo_app)
    client, entry = client_for("prime", 0)
    page = client.get("/workersafetyrecordview/list/")
    assert page.status_code == 200 and "目黒 一郎" in page.get_data(as_text=True)
    with demo_app.app_context(), using_scope(db.session, ALL):
        logged = db.session.execute(select(AuditLog).where(AuditLog.worker_id == world["workers"][MEGURO],
                                                           AuditLog.username == entry["login"])).scalars().all()
    assert any("WorkerSafetyRecord" in (log.object_type or "") for log in logged)
