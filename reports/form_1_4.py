"""1-4 施工体制登録技能者一覧 (技能者(本人のみ)、所属事業主、元請、上位下請): the workers registered on a site's
structure (作業員名簿) with 職種, 立場, 社保加入, 資格保有. Rows are the viewer's visible registrations (a
worker: its own), items through the disclosure rule."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.models import SiteWorkerRegistration, Worker, WorkerQualification
from reports import register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, WORKER, Column, Output, Params, Report, Viewer
from reports.items import Items, insurance_text, qualification_text

COLUMNS = [Column("現場", width=26), Column("所属事業者", width=18), Column("技能者ID", width=16),
           Column("技能者氏名", width=14), Column("職種", width=18), Column("立場", width=6),
           Column("作業内容", width=16), Column("健康保険", width=8), Column("年金保険", width=8),
           Column("雇用保険", width=8), Column("保有資格", width=30), Column("入場年月日", "date", width=11),
           Column("退場年月日", "date", width=11)]


def build(session, viewer: Viewer, params: Params) -> Output:
    stmt = (select(SiteWorkerRegistration)
            .options(selectinload(SiteWorkerRegistration.site), selectinload(SiteWorkerRegistration.employer),
                     selectinload(SiteWorkerRegistration.trade),
                     selectinload(SiteWorkerRegistration.worker).selectinload(Worker.insurance),
                     selectinload(SiteWorkerRegistration.worker).selectinload(Worker.qualifications)
                     .selectinload(WorkerQualification.qualification))
            .order_by(SiteWorkerRegistration.site_id, SiteWorkerRegistration.employer_id, SiteWorkerRegistration.worker_id))
    if params.site is not None:
        stmt = stmt.where(SiteWorkerRegistration.site_id == params.site)
    regs = session.execute(stmt).scalars().all()
    items, shown = Items(session, viewer, {r.worker.id for r in regs if r.worker is not None}), set()

    def rows():
        for r in regs:
            w = r.worker
            if w is None:  # the worker's row is outside the viewer's scope
                continue
            shown.add(w.id)
            health, pension, employment = insurance_text(w.insurance)
            yield [str(r.site), r.employer.name if r.employer else "", w.worker_id, items.cell(w.id, "name", w.name),
                   str(r.trade) if r.trade else "", r.position or "", r.work_content or "",
                   items.cell(w.id, "social_insurance", health), items.cell(w.id, "social_insurance", pension),
                   items.cell(w.id, "social_insurance", employment),
                   items.cell(w.id, "qualifications", qualification_text(w)), r.start_date, r.end_date]

    return Output(columns=COLUMNS, rows=rows(), total=len(regs), workers=shown, subtitle=f"登録 {len(regs)}件")


REPORT = register(Report(
    id="1-4", title="施工体制登録技能者一覧", parties=(WORKER, OWN_EMPLOYER, PRIME, UPPER), filters=("site",),
    build=build, note="当該現場に施工体制登録された技能者の職種、立場、社会保険加入、資格保有。技能者は本人のみ。"))
