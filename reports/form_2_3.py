"""2-3 就業履歴(月別カレンダー): one worker's month, a mark per day (技能者(本人のみ)、所属事業主、元請、上位下請)."""
from __future__ import annotations

from portal.output import work_calendar
from portal.app.errors import DomainError
from reports import calendar, register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, WORKER, Output, Params, Report, Viewer


def build(session, viewer: Viewer, params: Params) -> Output:
    worker_id = viewer.worker_id if viewer.scope.kind == "worker" else params.worker
    if worker_id is None:
        raise DomainError("worker_required", "技能者を選んでください。")
    data = work_calendar.worker_month(session, worker_id, params.year, params.month)
    if data is None:
        raise DomainError("worker_not_visible", "この技能者の就業履歴は出力できません（閲覧できる技能者を選んでください）。", 404)
    workers: set = set()
    return Output(columns=calendar.columns(params), rows=calendar.lines(session, viewer, params, data.rows, workers),
                  total=len(data.rows) + 1, workers=workers,
                  subtitle=f"{params.year}年{params.month}月　{data.worker.name}（{data.worker.worker_id}）")


REPORT = register(Report(
    id="2-3", title="就業履歴(月別カレンダー)", parties=(WORKER, OWN_EMPLOYER, PRIME, UPPER), filters=("month", "worker"),
    build=build, paper="A3",
    note="技能者ごと、日毎の就業履歴、就業内容(職種・立場・作業内容等)、建退共加入状況。技能者は本人のみ。"))
