"""1-2 所属技能者一覧 (所属事業主): the employer's current workers with 職種, 技能レベル, 社保加入, 保有資格.
(The guide: other companies see these only where both the worker and the employer disclosed them: they open the
技能者情報 screen, which asks the same rule.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.app.errors import DomainError
from portal.models import Affiliation, Worker, WorkerQualification
from reports import register
from reports.base import OWN_EMPLOYER, Output, Params, Report, Viewer
from reports.items import ITEM_COLUMNS, WORKER_COLUMNS, Items, item_cells, name_cells


def own_workers(session, employer_id: int):
    return session.execute(
        select(Worker).join(Affiliation, Affiliation.worker_id == Worker.id)
        .where(Affiliation.employer_id == employer_id, Affiliation.status == "承認済")
        .options(selectinload(Worker.trades), selectinload(Worker.insurance),
                 selectinload(Worker.qualifications).selectinload(WorkerQualification.qualification))
        .order_by(Worker.name_kana, Worker.id)).scalars().unique().all()


def build(session, viewer: Viewer, params: Params) -> Output:
    employer_id = params.employer if viewer.scope.is_all else viewer.employer_id
    if employer_id is None:
        raise DomainError("employer_required", "所属事業者を選んでください。")
    workers = own_workers(session, employer_id)
    items, shown = Items(session, viewer, {w.id for w in workers}), set()

    def rows():
        for w in workers:
            shown.add(w.id)
            yield name_cells(items, w) + item_cells(items, w)

    return Output(columns=WORKER_COLUMNS + ITEM_COLUMNS, rows=rows(), total=len(workers), workers=shown,
                  subtitle=f"所属技能者 {len(workers)}名")


REPORT = register(Report(id="1-2", title="所属技能者一覧", parties=(OWN_EMPLOYER,), filters=("employer",), build=build,
                         note="職種、技能レベル、社保加入状況、保有資格。"))
