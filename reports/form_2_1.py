"""2-1 就業履歴(月別計) (技能者(本人のみ)、所属事業主、元請、上位下請): one worker's monthly totals for the twelve
months up to the chosen one, from portal.output.work_calendar.worker_summary (the figures of the calendar screens)."""
from __future__ import annotations

from sqlalchemy import select

from portal.output import work_calendar
from portal.app.errors import DomainError
from portal.models import Worker
from reports import register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, WORKER, Column, Output, Params, Report, Viewer

COLUMNS = [Column("年月", width=10), Column("就業日数", "int", width=9), Column("就業履歴数(計上)", "int", width=12),
           Column("現場未承認(非計上)", "int", width=14), Column("現場未登録(非計上)", "int", width=14)]


def worker_of(session, viewer: Viewer, params: Params) -> Worker:
    worker_id = viewer.worker_id if viewer.scope.kind == "worker" else params.worker
    if worker_id is None:
        raise DomainError("worker_required", "技能者を選んでください。")
    worker = session.execute(select(Worker).where(Worker.id == worker_id)).scalar_one_or_none()
    if worker is None:
        raise DomainError("worker_not_visible", "この技能者の就業履歴は出力できません（閲覧できる技能者を選んでください）。", 404)
    return worker


def months(params: Params, count: int = 12) -> list[tuple[int, int]]:
    n = params.year * 12 + params.month - 1
    return [((n - k) // 12, (n - k) % 12 + 1) for k in reversed(range(count))]


def build(session, viewer: Viewer, params: Params) -> Output:
    worker = worker_of(session, viewer, params)

    def rows():
        for year, month in months(params):
            first, last = work_calendar.month_bounds(year, month)
            s = work_calendar.worker_summary(session, worker.id, since=first, until=last)
            yield [f"{year}年{month}月", s.work_days, s.history_count, s.not_counted["unapproved"],
                   s.not_counted["unregistered"]]

    return Output(columns=COLUMNS, rows=rows(), total=12, workers={worker.id},
                  subtitle=f"{worker.name}（{worker.worker_id}）　{months(params)[0][0]}年{months(params)[0][1]}月〜"
                           f"{params.year}年{params.month}月")


REPORT = register(Report(id="2-1", title="就業履歴(月別計)", parties=(WORKER, OWN_EMPLOYER, PRIME, UPPER),
                         filters=("month", "worker"), build=build, note="選んだ月までの12か月の月別計。技能者は本人のみ。"))
