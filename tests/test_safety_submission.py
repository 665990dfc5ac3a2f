"""提出 → 差戻し / 承認 of the 再下請負通知書 and 作業員名簿 up the tiers, through the screens: the order (a company
submits once the companies below it are approved), the reasons, the prime's 代行, the frozen snapshot that the
prime's 施工体制台帳 is assembled from, and the pending 変更届 after an edit; read back from the files."""
from __future__ import annotations

import datetime
import io

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from portal.app.db import db
from portal.models import EmployerDetail, StructureLink
from portal.models.safety import SafetySubmission, SiteContract, WorkerSafetyRecord
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import login_of
from tests.safety_world import KIKIN1, MEGURO, seed


def _row(app, employer_pk, form):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(SafetySubmission).where(
            SafetySubmission.employer_id == employer_pk, SafetySubmission.form == form)).scalar_one_or_none()


def _ledger_right(client, site) -> dict:
    """The 《下請負人に関する事項》 of each sheet of the prime's 施工体制台帳, by the first-tier company's 事業者ID."""
    r = client.get(f"/safety/ledger/{site}.xlsx")
    assert r.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.data))
    found = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        right = {row[3]: row[4] for row in rows[9:] if len(row) > 4 and row[3]}
        found[right["会社名・事業者ID"][-15:-1]] = right
    return found


def _set_office_no(app, employer_pk, value):
    with app.app_context(), using_scope(db.session, ALL):
        db.session.execute(select(EmployerDetail).where(EmployerDetail.employer_id == employer_pk)).scalar_one() \
            .health_insurance_office_no = value
        db.session.commit()


def test_submission_up_the_tiers_snapshot_and_pending_change(demo_app, client_for):
    world = seed(demo_app)
    site = world["site"]
    kikin1 = world["employers"][KIKIN1]
    kikin = world["employers"][login_of(demo_app, "employer", 1)["employer_id"]]
    _set_office_no(demo_app, kikin1, "01-ｱｲｳ")
    first, _ = client_for("employer", 0)  # 基金一次建設 (1次)
    second, _ = client_for("employer", 1)  # 基金建設 (2次 under it)
    prime, _ = client_for("prime", 0)
    sibling, _ = client_for("employer", 2)

    def submit(client, employer, form="AZ5"):
        return client.post(f"/safety/submissions/{site}/{employer}/{form}/submit")

    def decide(client, row_id, **data):
        return client.post(f"/safety/submissions/{row_id}/decide", data=data)

    # the 1次 cannot submit before the company below it is approved
    r = submit(first, kikin1)
    assert r.status_code == 409 and "下位の会社の「再下請負通知書」が承認されていない" in r.get_data(as_text=True)
    assert submit(second, kikin).status_code == 303
    assert submit(second, kikin).status_code == 409  # once
    row = _row(demo_app, kikin, "AZ5")
    assert row.status == "提出済" and row.upper_employer_id == kikin1 and not row.submitted_by_proxy
    assert "承認" in first.get("/safety/").get_data(as_text=True)  # it shows on the next party's screen
    assert decide(sibling, row.id, decision="approve").status_code in (403, 404)  # another branch
    assert decide(second, row.id, decision="approve").status_code == 403  # not its own
    r = decide(first, row.id, decision="return", reason="その他")
    assert r.status_code == 422 and "補足を入力" in r.get_data(as_text=True)
    assert decide(first, row.id, decision="return", reason="記載漏れ", note="許可番号の記載がありません").status_code == 303
    assert _row(demo_app, kikin, "AZ5").status == "差戻し"
    assert "理由: 記載漏れ（許可番号の記載がありません）" in second.get("/safety/").get_data(as_text=True)
    assert submit(second, kikin).status_code == 303
    assert decide(first, row.id, decision="approve").status_code == 303
    assert _row(demo_app, kikin, "AZ5").snapshot is not None

    # the prime acts for the 1次 (代行), then approves it as its upper company
    before = _ledger_right(prime, site)[KIKIN1]
    assert before["健康保険 事業所整理記号"] == "非開示" and before["再下請負通知書"].startswith("未承認")
    assert submit(prime, kikin1).status_code == 303
    row1 = _row(demo_app, kikin1, "AZ5")
    assert row1.submitted_by_proxy and row1.status == "提出済"
    assert "元請の代行で提出" in first.get("/safety/").get_data(as_text=True)
    assert decide(prime, row1.id, decision="approve").status_code == 303
    approved = _ledger_right(prime, site)[KIKIN1]
    assert approved["健康保険 事業所整理記号"] == "01-ｱｲｳ"  # what the 1次 submitted, from the snapshot
    assert approved["再下請負通知書"].startswith("承認済")

    # a later edit: the approved 台帳 does not move; the 1次 sees a pending 変更届
    _set_office_no(demo_app, kikin1, "02-ｴｵ")
    assert _ledger_right(prime, site)[KIKIN1]["健康保険 事業所整理記号"] == "01-ｱｲｳ"
    menu = first.get("/safety/").get_data(as_text=True)
    assert "変更届が未提出です（自社の健康保険 事業所整理記号）" in menu and "変更届を提出" in menu

    # the 名簿 too: approved, then a worker's record changes → a pending 変更届 naming the worker
    assert submit(second, kikin, "AZ6").status_code == 303
    assert decide(first, _row(demo_app, kikin, "AZ6").id, decision="approve").status_code == 303
    with demo_app.app_context(), using_scope(db.session, ALL):
        record = db.session.execute(select(WorkerSafetyRecord).where(
            WorkerSafetyRecord.worker_id == world["workers"][MEGURO])).scalar_one()
        record.blood_pressure_high = 140
        name = record.worker.name
        db.session.commit()
    assert f"変更: {name}" in second.get("/safety/").get_data(as_text=True)

    # the prime is told whether a 台帳 is required, from the first tier's amounts and the dated thresholds
    with demo_app.app_context(), using_scope(db.session, ALL):
        contracts = db.session.execute(select(SiteContract).where(SiteContract.site_id == site)).scalars().all()
        prime_pk = world["members"][0]
        for c in contracts:
            c.amount = 35_000_000
            c.contracted_on = datetime.date(2025, 1, 20)
            c.general_building = c.employer_id == prime_pk
            c.handed_over_on = datetime.date(2027, 3, 31) if c.employer_id == prime_pk else None
        db.session.commit()
        firsts = db.session.execute(select(StructureLink).where(
            StructureLink.site_id == site, StructureLink.upper_employer_id == prime_pk,
            StructureLink.status == "承認済")).scalars().all()
    total = 35_000_000 * len(firsts)
    assert total >= 70_000_000
    menu = prime.get("/safety/").get_data(as_text=True)
    assert f"下請契約の総額 {total:,}円（建築一式工事、2025/01/20契約の基準 70,000,000円）: 必要です。" in menu
    assert "施工体系図 2037/03/31" in menu and "作業員名簿 2032/03/31" in menu
    assert "施工体制台帳の作成" not in first.get("/safety/").get_data(as_text=True)  # the prime's own duty
