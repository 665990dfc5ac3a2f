"""The 技能者情報 screen and CSV per role, and the 380 / 830 開示設定 screens: what the page shows is what
portal.people.disclosure allows, and consents given on the screens open items to other companies only when both agree."""
from __future__ import annotations

from sqlalchemy import select

from portal.app.db import db
from portal.models import AuditLog, Worker
from portal.people.scoping import ALL, using_scope

MEGURO = "30154216388821"  # 目黒 一郎: (株)基金建設's worker, on A現場工事 (元請A → 基金一次建設 → 基金建設)
BIRTH = "1980/05/10"


def page(client, url):
    r = client.get(url, follow_redirects=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_employer_sees_all_but_past_employers(client_for):
    client, _ = client_for("employer", 1)
    html = page(client, f"/worker-information/{MEGURO}")
    assert "目黒 一郎" in html and BIRTH in html and "過去の所属事業者" in html
    assert html.count("非開示") == 1  # only the past employers' block


def test_prime_sees_the_roster_items_only(client_for):
    client, _ = client_for("prime", 0)  # (株)元請A
    html = page(client, f"/worker-information/{MEGURO}")
    assert "目黒 一郎" in html and "加入" in html  # name and social insurance are 作業員名簿 items
    assert BIRTH not in html and "@example.invalid" not in html  # birth date never; e-mail not a roster item
    csv = client.get(f"/worker-information/{MEGURO}/csv")
    body = csv.get_data(as_text=True)
    assert csv.status_code == 200 and body.startswith("\ufeff") and "目黒 一郎" in body and BIRTH not in body


def test_other_company_needs_both_consents(client_for, demo_app):
    stranger, _ = client_for("prime", 1)  # (株)元請B: no relation to 目黒 一郎
    html = page(stranger, f"/worker-information/{MEGURO}")
    assert "表示できる技能者情報がありません" in html and "目黒" not in html
    # unknown IDs answer the same (no oracle of who exists)
    assert "表示できる技能者情報がありません" in page(stranger, "/worker-information/99999999999921")

    worker, _ = client_for("worker", 1)  # 目黒 一郎 himself: 380_開示設定
    settings = page(worker, "/disclosure/")
    assert "380_開示設定" in settings and "一括開示" in settings and "生年月日" in settings
    worker.post(f"/disclosure/{MEGURO}", data={"item": ["qualifications", "trades"], "action": "save"})
    assert "目黒" not in page(stranger, f"/worker-information/{MEGURO}"), "the worker alone cannot disclose"

    employer, _ = client_for("employer", 1)  # (株)基金建設: 830_開示設定 → 10_所属技能者
    assert MEGURO in page(employer, "/disclosure/")
    employer.post(f"/disclosure/{MEGURO}", data={"action": "disclose_all"})
    html = page(stranger, f"/worker-information/{MEGURO}")
    assert "保有資格" in html and "目黒" not in html and BIRTH not in html  # name was not disclosed by the worker
    assert "職種" in html

    worker.post(f"/disclosure/{MEGURO}", data={"action": "hide_all"})  # either side withdraws: hidden at once
    assert "表示できる技能者情報がありません" in page(stranger, f"/worker-information/{MEGURO}")


def test_nobody_sets_anothers_consent(client_for):
    prime, _ = client_for("prime", 0)
    r = prime.post(f"/disclosure/{MEGURO}", data={"action": "disclose_all"})
    assert r.status_code in (302, 303, 403)
    other_worker, _ = client_for("worker", 0)
    other_worker.post(f"/disclosure/{MEGURO}", data={"action": "disclose_all"})
    employer, _ = client_for("employer", 1)
    html = page(employer, f"/disclosure/{MEGURO}")
    assert "checked" not in html


def test_worker_opens_only_its_own_information(client_for, demo_app):
    worker, entry = client_for("worker", 1)
    html = page(worker, "/worker-information/")
    assert entry["login"] in html and BIRTH in html and "過去の所属事業者" in html
    assert "表示できる技能者情報がありません" in page(worker, "/worker-information/93845751166921")


def test_views_and_exports_of_the_screen_are_audited(client_for, demo_app):
    client, entry = client_for("prime", 0)
    page(client, f"/worker-information/{MEGURO}")
    client.get(f"/worker-information/{MEGURO}/csv")
    with demo_app.app_context():
        with using_scope(db.session, ALL):
            pk = db.session.execute(select(Worker.id).where(Worker.worker_id == MEGURO)).scalar_one()
            rows = db.session.execute(select(AuditLog).where(AuditLog.worker_id == pk,
                                                             AuditLog.username == entry["login"])).scalars().all()
    assert {r.action for r in rows} == {"view", "export"}
    assert any("表示項目:" in (r.detail or "") and "birth_date" not in r.detail for r in rows)
