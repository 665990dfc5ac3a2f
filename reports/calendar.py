"""The monthly calendar's columns and lines, shared by 2-3 (one worker) and 2-4 (an employer's workers).

The lines are portal.output.work_calendar's CalendarRow (the same figures as the calendar screens): one line per
worker, site and 計上 / 非計上, a mark per day (IC, 顔, 電話, QR, 直接 …), the counted and not-counted totals,
職種, 立場, 作業内容, 有害物質の取扱い, and the worker's 建退共加入状況 when :func:`may_see` allows it."""
from __future__ import annotations

from portal.output import work_calendar
from reports.base import Column, Params, Viewer
from reports.items import Items, insurance_of


def columns(params: Params) -> list[Column]:
    days = work_calendar.month_days(params.year, params.month)
    return ([Column("技能者ID", width=18), Column("技能者名", width=14), Column("現場", width=26),
             Column("元請事業者", width=16), Column("計上・非計上", width=8)]
            + [Column(label, "int", width=9) for label in work_calendar.COLUMNS.values()]
            + [Column(f"{d}({wd})", "mark", width=6) for d, wd in days]
            + [Column("職種", width=16), Column("立場", width=6), Column("作業内容", width=16),
               Column("有害物質の取扱い・有害業務への従事", width=8), Column("建退共加入状況", width=8),
               Column("非計上の理由", width=18)])


def kentaikyo_status(session, worker_ids) -> dict:
    """worker pk → 建退共 加入 / 未加入, in one query (the rows the viewer's scope shows)."""
    return {w: ("加入" if ins.kentaikyo else "未加入") for w, ins in insurance_of(session, worker_ids).items()}


def line(row: work_calendar.CalendarRow, days, name: str, kentaikyo: str) -> list:
    return ([row.worker.worker_id, name, row.site_label, row.prime_label, row.label]
            + [row.counts[k] for k in work_calendar.COLUMNS]
            + [row.cells.get(d, "") for d, _wd in days]
            + [row.trade, row.position, row.work_content, "有" if row.hazardous else "無", kentaikyo,
               "、".join(sorted(row.reasons))])


def total_line(rows, days) -> list:
    totals = {k: sum(r.counts[k] for r in rows) for k in work_calendar.COLUMNS}
    return (["合計", "", "", "", ""] + [totals[k] for k in work_calendar.COLUMNS] + ["" for _ in days]
            + ["", "", "", "", "", ""])


def lines(session, viewer: Viewer, params: Params, rows, workers: set):
    """The report's rows: each calendar line, then the totals; ``workers`` collects who was shown."""
    days = work_calendar.month_days(params.year, params.month)
    ids = {r.worker.id for r in rows}
    items, status = Items(session, viewer, ids), kentaikyo_status(session, ids)
    for r in rows:
        workers.add(r.worker.id)
        yield line(r, days, items.cell(r.worker.id, "name", r.worker.name),
                   items.cell(r.worker.id, "retirement_aid", status.get(r.worker.id, "")))
    yield total_line(rows, days)
