"""就業履歴の月別カレンダー (report 2-3 / 2-4 of the seed) and the worker's summary figures.

Plain functions over a session: every query passes the session's row-level scope, so a viewer gets only the
histories it may see. Screens, CSV/Excel/PDF reports reuse the same rows.

Counts follow the seed's three columns: 現場登録済(計上), 現場未承認(非計上), 現場未登録(非計上). The history's
not-counted reason decides the column (NOT_COUNTED_COLUMN): the site has not accepted the day (not approved, or
outside its 就業履歴蓄積期間) → 未承認; no registered site, worker or upper tier in the structure → 未登録.
"""
from __future__ import annotations

import calendar as _calendar
import dataclasses
import datetime

from sqlalchemy import Integer, String, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from portal.app.clock import TOKYO
from portal.models import Employer, Site, Trade, Worker, WorkerInsurance, WorkHistory, WorkHistoryChange
from portal.models.histories import NOT_COUNTED_REASONS
from portal.people.glossary import LABELS

COLUMNS = {"counted": "現場登録済(計上)", "unapproved": "現場未承認(非計上)", "unregistered": "現場未登録(非計上)"}
NOT_COUNTED_COLUMN = {
    "site_unapproved": "unapproved",
    "deadline_passed": "unapproved",  # received after the correction deadline: the day was never accepted
    "outside_period": "unapproved",
    "site_unregistered": "unregistered",
    "worker_not_registered": "unregistered",
    "structure_gap": "unregistered",
}
WEEKDAYS = "月火水木金土日"
MARK_ORDER = ["IC", "顔", "電話", "QR", "API", "直接"]  # how the marks of one day are listed


def column_of(history: WorkHistory) -> str:
    if history.counted:
        return "counted"
    return NOT_COUNTED_COLUMN.get(history.not_counted_reason or "", "unregistered")


def marks(methods: str | None) -> list[str]:
    """The capture marks of a history (``methods`` holds them comma-separated: "IC,直接")."""
    found = [m.strip() for m in (methods or "").replace("、", ",").split(",") if m.strip()]
    return sorted(set(found), key=lambda m: (MARK_ORDER.index(m) if m in MARK_ORDER else len(MARK_ORDER), m))


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        from portal.app.errors import DomainError

        raise DomainError("invalid_month", f"年月の指定が正しくありません（{year}年{month}月）。")
    return datetime.date(year, month, 1), datetime.date(year, month, _calendar.monthrange(year, month)[1])


def month_days(year: int, month: int) -> list[tuple[int, str]]:
    """(day, weekday label) for each day of the month, as the report's header."""
    first, last = month_bounds(year, month)
    return [(d, WEEKDAYS[datetime.date(year, month, d).weekday()]) for d in range(1, last.day + 1)]


@dataclasses.dataclass(frozen=True)
class HiddenWorker:
    """The worker of histories the viewer sees whose Worker row it does not (a former employer's own past days
    after the worker left it): the line keeps its days, the worker shows as its 技能者ID only."""

    id: int
    worker_id: str
    name: str = "非開示"
    name_kana: str = ""


def hidden_workers(session: Session, ids) -> dict:
    """worker pk → HiddenWorker, looked up on the table (the viewer's scope no longer admits these rows)."""
    if not ids:
        return {}
    w = Worker.__table__
    found = dict(session.execute(select(w.c.id, w.c.worker_id).where(w.c.id.in_(ids))).all())
    return {i: HiddenWorker(i, found.get(i, "")) for i in ids}


@dataclasses.dataclass
class CalendarRow:
    """One line of the calendar: one worker at one site, counted (計上) or not (非計上)."""

    worker: Worker | HiddenWorker
    site_label: str
    prime_label: str
    counted: bool
    cells: dict = dataclasses.field(default_factory=dict)  # day → "IC/直接"
    counts: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    trade: str = ""
    position: str = ""
    work_content: str = ""
    hazardous: bool = False
    reasons: set = dataclasses.field(default_factory=set)  # not-counted reasons (labels) on this line

    @property
    def label(self) -> str:
        return "計上" if self.counted else "非計上"


def site_labels(session: Session, site_ids) -> dict:
    """site pk → (site label, prime contractor's name) for the sites of histories the viewer already sees.
    Read on the tables: a worker's own day at a site whose roster it is not on is still its day, and the
    history must say where it was (only the name and 現場ID, like the site's public items)."""
    ids = {i for i in site_ids if i is not None}
    if not ids:
        return {}
    s, e = Site.__table__, Employer.__table__
    rows = session.execute(select(s.c.id, s.c.name, s.c.site_id, e.c.name.label("prime"))
                           .join(e, e.c.id == s.c.prime_employer_id).where(s.c.id.in_(ids))).all()
    return {r.id: (f"{r.name}（{r.site_id}）", r.prime) for r in rows}


# A line per (worker, site, 計上/非計上) is grouped in the database: an employer's month is tens of thousands
# of histories, and reading each into Python (an ORM object with lazy loads for its worker and trade, or even a
# plain row) cost several times the Excel writer for report 2-4. The query returns one row per line:
# - its days as "day:methods" joined by CELL_SEPARATOR (a control character: marks never contain one);
# - the 職種/立場/作業内容 of the latest day that has one, as the greatest "<day + 10><value>" (two digits in
#   front, so that the greatest string is the latest day; the lines never span more than one month);
# - its not-counted reasons, one per day.
CELL_SEPARATOR = "\x1f"


def _day():
    return cast(extract("day", WorkHistory.work_date), Integer)


def _latest(column, present):
    """The value of the latest day where ``present`` holds, behind two digits (the caller strips them)."""
    return func.max(case((present, cast(_day() + 10, String) + cast(column, String))))


def _present(column):
    return and_(column.is_not(None), column != "")


def lines_query(where):
    """One row per calendar line of the histories matching ``where`` (the session's scope filters them)."""
    h = WorkHistory
    return (select(h.worker_id, h.site_id, h.counted, _latest(h.trade_id, h.trade_id.is_not(None)).label("trade_id"),
                   _latest(h.position, _present(h.position)).label("position"),
                   _latest(h.work_content, _present(h.work_content)).label("work_content"),
                   func.max(case((h.hazardous_work, 1), else_=0)).label("hazardous"),
                   func.aggregate_strings(cast(_day(), String) + ":" + h.methods, CELL_SEPARATOR).label("cells"),
                   func.aggregate_strings(func.coalesce(h.not_counted_reason, ""), ",").label("reasons"))
            .where(*where).group_by(h.worker_id, h.site_id, h.counted))


def trade_labels(session: Session, trade_ids) -> dict:
    """trade pk → its label (職種 as the roster names it), in one query."""
    ids = {i for i in trade_ids if i is not None}
    if not ids:
        return {}
    return {t.id: str(t) for t in session.execute(select(Trade).where(Trade.id.in_(ids))).scalars()}


def calendar_rows(session: Session, where) -> list[CalendarRow]:
    """The lines of the histories matching ``where``, per (worker, site, counted), each with its Worker (a
    HiddenWorker when the viewer does not see it); the 職種/立場/作業内容 shown are the latest day's. One query."""
    lines = lines_query(where).subquery()
    found = session.execute(select(lines, Worker).outerjoin(Worker, Worker.id == lines.c.worker_id).order_by(
        lines.c.worker_id, func.coalesce(lines.c.site_id, 0), lines.c.counted.desc())).all()
    labels = site_labels(session, {f.site_id for f in found})
    trades = trade_labels(session, {int(f.trade_id[2:]) for f in found if f.trade_id})
    hidden = hidden_workers(session, {f.worker_id for f in found if f.Worker is None})
    shown_marks: dict = {}  # methods → "IC/直接": a month repeats a few combinations
    rows = []
    for f in found:
        site_label, prime_label = labels.get(f.site_id, ("現場未登録", ""))
        row = CalendarRow(worker=f.Worker or hidden[f.worker_id], site_label=site_label, prime_label=prime_label,
                          counted=bool(f.counted), trade=trades.get(int(f.trade_id[2:]), "") if f.trade_id else "",
                          position=(f.position or "")[2:], work_content=(f.work_content or "")[2:],
                          hazardous=bool(f.hazardous))
        cells = f.cells.split(CELL_SEPARATOR)
        for cell in cells:
            day, _colon, methods = cell.partition(":")
            shown = shown_marks.get(methods)
            if shown is None:
                shown = shown_marks[methods] = "/".join(marks(methods))
            row.cells[int(day)] = shown
        if row.counted:
            row.counts["counted"] = len(cells)
        else:
            for reason in f.reasons.split(","):
                row.counts[NOT_COUNTED_COLUMN.get(reason, "unregistered")] += 1
                row.reasons.add(NOT_COUNTED_REASONS.get(reason, reason))
        rows.append(row)
    return rows


def _month_where(year: int, month: int) -> list:
    first, last = month_bounds(year, month)
    return [WorkHistory.work_date >= first, WorkHistory.work_date <= last]


@dataclasses.dataclass
class WorkerMonth:
    worker: Worker
    year: int
    month: int
    days: list
    rows: list
    totals: dict
    kentaikyo: str  # 建退共加入状況: 加入 / 未加入 / "" when the viewer may not see it


def worker_month(session: Session, worker_id: int, year: int, month: int) -> WorkerMonth | None:
    """Report 2-3 (就業履歴 月別カレンダー) for one worker; None when the worker is outside the viewer's scope."""
    worker = session.execute(select(Worker).where(Worker.id == worker_id)).scalar_one_or_none()
    if worker is None:
        return None
    rows = calendar_rows(session, [*_month_where(year, month), WorkHistory.worker_id == worker_id])
    insurance = session.execute(select(WorkerInsurance).where(WorkerInsurance.worker_id == worker_id)).scalar_one_or_none()
    return WorkerMonth(worker=worker, year=year, month=month, days=month_days(year, month), rows=rows,
                       totals=_totals(rows),
                       kentaikyo="" if insurance is None else ("加入" if insurance.kentaikyo else "未加入"))


def _totals(rows) -> dict:
    return {k: sum(r.counts[k] for r in rows) for k in COLUMNS}


def employer_month(session: Session, year: int, month: int, *, employer_id: int | None = None,
                   site_id: int | None = None) -> list[CalendarRow]:
    """Report 2-4 (就業履歴一覧 月別カレンダー): the histories of one employer's workers (所属事業者 on the history),
    optionally at one site, as far as the viewer's scope admits."""
    where = _month_where(year, month)
    if employer_id is not None:
        where.append(WorkHistory.employer_id == employer_id)
    if site_id is not None:
        where.append(WorkHistory.site_id == site_id)
    rows = calendar_rows(session, where)
    return sorted(rows, key=lambda r: (r.worker.name_kana or r.worker.name, r.site_label, not r.counted))


@dataclasses.dataclass
class Summary:
    """The worker screen's figures (seed: 就業日数, 就業履歴数, 非計上の就業履歴数 by reason)."""

    work_days: int  # distinct days with a counted history, across sites
    history_count: int  # counted histories (one per site and day)
    not_counted: dict  # column key (unapproved / unregistered) → count
    not_counted_by_reason: dict  # reason label → count


def worker_summary(session: Session, worker_id: int, *, since: datetime.date | None = None,
                   until: datetime.date | None = None) -> Summary:
    stmt = select(WorkHistory.work_date, WorkHistory.counted, WorkHistory.not_counted_reason).where(
        WorkHistory.worker_id == worker_id)
    if since is not None:
        stmt = stmt.where(WorkHistory.work_date >= since)
    if until is not None:
        stmt = stmt.where(WorkHistory.work_date <= until)
    days, count = set(), 0
    not_counted = {"unapproved": 0, "unregistered": 0}
    by_reason: dict[str, int] = {}
    for day, counted, reason in session.execute(stmt):
        if counted:
            days.add(day)
            count += 1
        else:
            not_counted[NOT_COUNTED_COLUMN.get(reason or "", "unregistered")] += 1
            label = NOT_COUNTED_REASONS.get(reason or "", reason or "不明")
            by_reason[label] = by_reason.get(label, 0) + 1
    return Summary(work_days=len(days), history_count=count, not_counted=not_counted, not_counted_by_reason=by_reason)


PICK_LIMIT = 100  # a worker dropdown lists at most this many; the rest are found by typing (find_workers)


def visible_workers(session: Session, text: str = "", *, selected: int | None = None,
                    limit: int = PICK_LIMIT, among=None) -> list[Worker]:
    """Workers the viewer may pick in the calendar screens (the scope decides): those matching ``text`` (技能者ID,
    氏名 or フリガナ, as typed), at most ``limit`` of them, and the one already ``selected``. A prime may see tens
    of thousands: the dropdown searches as you type instead of listing (and auditing) them all. ``among`` (ids,
    e.g. a scope's own_worker_ids) narrows the choice further."""
    stmt = select(Worker).order_by(Worker.name_kana, Worker.id).limit(limit)
    if among is not None:
        stmt = stmt.where(Worker.id.in_(among))
    text = (text or "").strip()[:50]
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Worker.worker_id.like(like, escape="\\"), Worker.name.like(like, escape="\\"),
                              Worker.name_kana.like(like, escape="\\")))
    found = session.execute(stmt).scalars().all()
    if selected is not None and all(w.id != selected for w in found):
        found += session.execute(select(Worker).where(Worker.id == selected)).scalars().all()
    return found


def visible_employers(session: Session) -> list[Employer]:
    return session.execute(select(Employer).order_by(Employer.name)).scalars().all()


def visible_sites(session: Session) -> list[Site]:
    return session.execute(select(Site).order_by(Site.name)).scalars().all()


# --- the trail of the stored histories (portal.models.history_trail) ----------------------------------------

@dataclasses.dataclass
class TrailLine:
    """One change of one day's history, as the worker's day screen shows it (Japanese labels, Tokyo time)."""

    work_date: datetime.date
    site_label: str
    at: datetime.datetime  # Tokyo
    action: str
    cause: str
    actor: str
    changes: list  # [(label, before, after)]


def _shown(field: str, value) -> str:
    if value is None or value == "" or value == []:
        return "－"
    if isinstance(value, bool):
        return "有" if value else "無"
    if field == "not_counted_reason":
        return NOT_COUNTED_REASONS.get(value, value)
    if field in ("first_entry_at", "last_exit_at") and isinstance(value, str):
        try:
            at = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return (at if at.tzinfo else at.replace(tzinfo=datetime.timezone.utc)).astimezone(TOKYO).strftime("%m/%d %H:%M")
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def trail(session: Session, worker_id: int, first: datetime.date, last: datetime.date) -> list[TrailLine]:
    """The changes of a worker's histories on days first..last, newest first (the session's scope decides which
    the viewer sees)."""
    rows = session.execute(select(WorkHistoryChange).where(
        WorkHistoryChange.worker_id == worker_id, WorkHistoryChange.work_date >= first,
        WorkHistoryChange.work_date <= last).order_by(WorkHistoryChange.at.desc(), WorkHistoryChange.id.desc())
    ).scalars().all()
    labels = site_labels(session, {r.site_id for r in rows})
    lines = []
    for r in rows:
        before, after = r.before or {}, r.after or {}
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=datetime.timezone.utc)
        lines.append(TrailLine(
            work_date=r.work_date, site_label=labels.get(r.site_id, ("現場未登録", ""))[0], at=at.astimezone(TOKYO),
            action=r.action_label, cause=r.cause_label, actor=r.actor or "システム",
            changes=[(LABELS.get(f, f), _shown(f, before.get(f)), _shown(f, after.get(f)))
                     for f in sorted(set(before) | set(after))]))
    return lines
