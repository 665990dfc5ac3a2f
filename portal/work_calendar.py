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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal.clock import TOKYO
from portal.models import Employer, Site, Worker, WorkerInsurance, WorkHistory, WorkHistoryChange
from portal.models.histories import NOT_COUNTED_REASONS
from portal.glossary import LABELS

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
        from portal.errors import DomainError

        raise DomainError("invalid_month", f"年月の指定が正しくありません（{year}年{month}月）。")
    return datetime.date(year, month, 1), datetime.date(year, month, _calendar.monthrange(year, month)[1])


def month_days(year: int, month: int) -> list[tuple[int, str]]:
    """(day, weekday label) for each day of the month, as the report's header."""
    first, last = month_bounds(year, month)
    return [(d, WEEKDAYS[datetime.date(year, month, d).weekday()]) for d in range(1, last.day + 1)]


@dataclasses.dataclass
class CalendarRow:
    """One line of the calendar: one worker at one site, counted (計上) or not (非計上)."""

    worker: Worker
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


def calendar_rows(session: Session, histories) -> list[CalendarRow]:
    """Group histories into lines per (worker, site, counted); the 職種/立場/作業内容 shown are the latest day's."""
    rows: dict[tuple, CalendarRow] = {}
    labels = site_labels(session, {h.site_id for h in histories})
    for h in sorted(histories, key=lambda h: (h.worker_id, h.site_id or 0, not h.counted, h.work_date)):
        key = (h.worker_id, h.site_id, h.counted)
        row = rows.get(key)
        if row is None:
            site_label, prime_label = labels.get(h.site_id, ("現場未登録", ""))
            row = rows[key] = CalendarRow(worker=h.worker, site_label=site_label, prime_label=prime_label,
                                          counted=h.counted)
        row.cells[h.work_date.day] = "/".join(marks(h.methods))
        row.counts[column_of(h)] += 1
        row.trade = str(h.trade) if h.trade else row.trade
        row.position = h.position or row.position
        row.work_content = h.work_content or row.work_content
        row.hazardous = row.hazardous or h.hazardous_work
        if not h.counted:
            row.reasons.add(NOT_COUNTED_REASONS.get(h.not_counted_reason or "", h.not_counted_reason or ""))
    return list(rows.values())


def _month_histories(session: Session, year: int, month: int):
    first, last = month_bounds(year, month)
    return select(WorkHistory).where(WorkHistory.work_date >= first, WorkHistory.work_date <= last)


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
    histories = session.execute(_month_histories(session, year, month).where(WorkHistory.worker_id == worker_id)
                                .options(joinedload(WorkHistory.trade))).unique().scalars().all()
    rows = calendar_rows(session, histories)
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
    stmt = _month_histories(session, year, month)
    if employer_id is not None:
        stmt = stmt.where(WorkHistory.employer_id == employer_id)
    if site_id is not None:
        stmt = stmt.where(WorkHistory.site_id == site_id)
    # the worker and 職種 of every line in the same statement (not one lazy load per history)
    stmt = stmt.options(joinedload(WorkHistory.worker), joinedload(WorkHistory.trade))
    rows = calendar_rows(session, session.execute(stmt).unique().scalars().all())
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
                    limit: int = PICK_LIMIT) -> list[Worker]:
    """Workers the viewer may pick in the calendar screens (the scope decides): those matching ``text`` (技能者ID,
    氏名 or フリガナ, as typed), at most ``limit`` of them, and the one already ``selected``. A prime may see tens
    of thousands: the dropdown searches as you type instead of listing (and auditing) them all."""
    stmt = select(Worker).order_by(Worker.name_kana, Worker.id).limit(limit)
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
