"""The prime contractor's live site board (現場ボード): who is on site now, today's entries, not-counted
histories still to fix, requests waiting for approval, and silent devices.

A silent device is one that sent nothing on a working day while workers were registered on its site: a broken
reader must not silently cost workers their days (they can still be entered directly until the end of the
next month, so the board shows it while there is time). A working day is a day in the site's 就業履歴蓄積期間
that is one of ``working_weekdays`` (Monday–Saturday by default) or on which any other capture at the site
recorded something. Today counts only after ``cutoff_hour`` (nothing sent at 07:00 is not yet a silence).

新規入場者教育未実施: a worker on the site's roster (作業員名簿) today whose row has no 受入教育実施年月日; one who has
already tapped in (入場済み, the date of the first tap) comes first, as the education is due before work starts.

Plain functions over a session: the scope limits the board to the viewer's prime sites (a 現場管理者: its
assigned sites).
"""
from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.app import clock
from portal.history import corrections, histories, shifts
from portal.app.clock import TOKYO
from portal.history.histories import Tap
from portal.models import Device, EntryExitEvent, Site, SiteWorkerRegistration, WorkHistory
from portal.people import structure
from portal.people.scoping import may_write

WORKING_WEEKDAYS = frozenset(range(6))  # Monday (0) … Saturday (5)
CUTOFF_HOUR = 10
TEMPERATURE_LIMIT = 37.5  # ℃: a measured temperature at or above it is shown in red (a device may set its own)
LOOKBACK_DAYS = 7


def _tokyo_date(value: datetime.datetime | None) -> datetime.date | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite gives back naive UTC
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(TOKYO).date()


def _rostered_days(session: Session, site_id: int, days) -> set:
    """The days on which at least one worker is registered on the site's roster (作業員名簿)."""
    regs = session.execute(select(SiteWorkerRegistration.start_date, SiteWorkerRegistration.end_date).where(
        SiteWorkerRegistration.site_id == site_id)).all()
    return {d for d in days if any((s is None or s <= d) and (e is None or e >= d) for s, e in regs)}


def silent_devices(session: Session, site_id: int, days, *,
                   working_weekdays=WORKING_WEEKDAYS) -> list[tuple[Device, datetime.date]]:
    """(device, day) for each active device of the site that sent no event on a working day of ``days``."""
    site = session.execute(select(Site).where(Site.id == site_id)).scalar_one_or_none()
    days = sorted(set(days))
    if site is None or not days:
        return []
    devices = session.execute(select(Device).where(Device.site_id == site_id).order_by(Device.id)).scalars().all()
    if not devices:
        return []
    sent = session.execute(
        select(EntryExitEvent.device_id, EntryExitEvent.work_date).where(
            EntryExitEvent.site_id == site_id, EntryExitEvent.work_date.in_(days)).distinct()).all()
    sent_by_day: dict = {}
    for device_id, day in sent:
        sent_by_day.setdefault(day, set()).add(device_id)
    rostered = _rostered_days(session, site_id, days)
    out = []
    for day in days:
        working = day.weekday() in working_weekdays or bool(sent_by_day.get(day))
        if not (working and site.accumulates_on(day) and day in rostered):
            continue
        for device in devices:
            created, revoked = _tokyo_date(device.created_at), _tokyo_date(device.revoked_at)
            active = (created is None or created <= day) and (revoked is None or revoked >= day)  # that day counts
            if active and device.id not in sent_by_day.get(day, set()):
                out.append((device, day))
    return out


@dataclasses.dataclass
class OnSite:
    worker_label: str
    since: datetime.datetime
    registered: bool  # known worker (False: an unknown 技能者ID or credential)
    temperature: float | None = None  # 検温 (℃) a device measured with the latest event of the shift
    temperature_high: bool = False  # at or above the device's limit (TEMPERATURE_LIMIT when it says none)


@dataclasses.dataclass
class NotInducted:
    """新規入場者教育未実施: a roster row without its 受入教育実施年月日."""
    registration: SiteWorkerRegistration
    first_tap: datetime.date | None  # the worker's first recorded day on the site (None: not yet come)


INDUCTION_SHOWN = 100  # rows the board lists; it counts them all


def not_inducted(session: Session, site_id: int, today: datetime.date,
                 limit: int | None = None) -> tuple[list[NotInducted], int]:
    """Today's roster rows of the site without a 受入教育実施年月日, those already on site (by first tap) first,
    the first ``limit`` of them, and how many there are. Only the rows returned are loaded (a roster row is
    personal data: loading one is auditing a view of it)."""
    r = SiteWorkerRegistration
    rows = session.execute(select(r.id, r.worker_id).where(
        r.site_id == site_id, structure.on_roster(today), r.entry_education_on.is_(None))).all()
    if not rows:
        return [], 0
    # every worker's first tap on the site, not an IN list of the roster (a large site's roster binds more
    # parameters than a statement may carry)
    first = dict(session.execute(select(EntryExitEvent.worker_id, func.min(EntryExitEvent.work_date)).where(
        EntryExitEvent.site_id == site_id, EntryExitEvent.refusal.is_(None),
        EntryExitEvent.worker_id.is_not(None)).group_by(EntryExitEvent.worker_id)).all())
    rows.sort(key=lambda row: (first.get(row.worker_id) is None, first.get(row.worker_id) or today, row.worker_id))
    shown = rows[:limit] if limit is not None else rows
    loaded = {reg.id: reg for reg in session.scalars(select(r).where(r.id.in_([row.id for row in shown])))}
    return [NotInducted(loaded[row.id], first.get(row.worker_id)) for row in shown], len(rows)


def induction_fix(scope, item: NotInducted) -> tuple[str, str]:
    """(url, label) of where the 受入教育実施日 is entered: the roster row's edit screen for the company that may
    change it (the worker's employer), else the row itself, naming that company."""
    from flask import url_for

    reg = item.registration
    if may_write(scope, reg):
        return url_for("SiteWorkerRegistrationView.edit", pk=reg.id), "受入教育実施日を登録"
    return url_for("SiteWorkerRegistrationView.show", pk=reg.id), f"名簿を表示（{reg.employer.name}が登録）"


@dataclasses.dataclass
class Board:
    site: Site
    today: datetime.date
    on_site: list  # [OnSite]
    entries_today: int  # distinct workers recorded today
    events_today: int
    to_fix: list  # not-counted histories since the start of last month (still correctable)
    waiting: object  # corrections.Waiting for this site
    silent: list  # [(device, day)]
    not_inducted: list = dataclasses.field(default_factory=list)  # [NotInducted], the first INDUCTION_SHOWN
    not_inducted_total: int = 0


def on_site_now(session: Session, site_id: int, now: datetime.datetime) -> list[OnSite]:
    """Workers whose shift is still open at ``now`` (portal.history.shifts: their latest event is an entry or a
    history-only record, not an exit, and the shift began within the site's 最長勤務時間): a night crew stays
    on the board after midnight."""
    rule = shifts.ShiftRule.of_site(session.execute(select(Site.max_shift_hours).where(Site.id == site_id)).scalar())
    since = now - 2 * rule.max_shift  # still_open needs the taps of two shift lengths
    events = session.execute(select(EntryExitEvent).where(
        EntryExitEvent.site_id == site_id,
        EntryExitEvent.work_date >= clock.tokyo_date(since), EntryExitEvent.work_date <= clock.tokyo_date(now),
        EntryExitEvent.occurred_at >= since.astimezone(datetime.timezone.utc),  # stored in UTC (SQLite: naive)
        EntryExitEvent.occurred_at <= now.astimezone(datetime.timezone.utc),
    ).order_by(EntryExitEvent.occurred_at).options(joinedload(EntryExitEvent.worker))).unique().scalars()  # one statement
    by_worker: dict = defaultdict(list)
    for e in events:
        if e.refusal:  # a refused credential (portal.devices.refusals) put nobody on site
            continue
        by_worker[e.worker_id or f"code:{e.worker_code or e.credential_hash}"].append(e)
    out = []
    for found in by_worker.values():
        e = found[-1]
        if shifts.still_open([Tap(histories.aware(x.occurred_at), x.kind, x.method) for x in found], now, rule):
            measured = next((x.extras for x in reversed(found) if isinstance(x.extras, dict)
                             and isinstance(x.extras.get("temperature"), (int, float))), None)
            temperature = float(measured["temperature"]) if measured else None
            out.append(OnSite(str(e.worker) if e.worker else f"未登録の技能者（{e.worker_code or '認証情報のみ'}）",
                              e.occurred_at, e.worker_id is not None, temperature,
                              bool(measured.get("temperature_high", temperature >= TEMPERATURE_LIMIT)) if measured
                              else False))
    return sorted(out, key=lambda o: histories.aware(o.since))


def board(session: Session, site_id: int, now: datetime.datetime, *, working_weekdays=WORKING_WEEKDAYS,
          cutoff_hour: int = CUTOFF_HOUR, lookback_days: int = LOOKBACK_DAYS) -> Board | None:
    """The board of one site at ``now`` (aware); None when the site is outside the viewer's scope."""
    site = session.execute(select(Site).where(Site.id == site_id)).scalar_one_or_none()
    if site is None:
        return None
    today = now.astimezone(TOKYO).date()
    counts = session.execute(select(func.count(func.distinct(EntryExitEvent.worker_id)), func.count()).where(
        EntryExitEvent.site_id == site_id, EntryExitEvent.work_date == today)).one()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    to_fix = session.execute(select(WorkHistory).where(
        WorkHistory.site_id == site_id, WorkHistory.counted.is_(False), WorkHistory.work_date >= last_month,
    ).order_by(WorkHistory.work_date.desc(), WorkHistory.worker_id).options(
        joinedload(WorkHistory.worker), joinedload(WorkHistory.employer))).unique().scalars().all()
    days = [today - datetime.timedelta(days=n) for n in range(1, lookback_days + 1)]
    if now.astimezone(TOKYO).hour >= cutoff_hour:
        days.append(today)
    shown, total = not_inducted(session, site_id, today, limit=INDUCTION_SHOWN)
    return Board(
        site=site, today=today, on_site=on_site_now(session, site_id, now), entries_today=counts[0],
        events_today=counts[1], to_fix=to_fix, waiting=corrections.waiting(session, today=today, site_id=site_id),
        silent=silent_devices(session, site_id, days, working_weekdays=working_weekdays),
        not_inducted=shown, not_inducted_total=total,
    )


def prime_sites(session: Session, prime_site_ids) -> list[Site]:
    """The sites a viewer may open a board for (its prime sites; all for an administrator)."""
    stmt = select(Site).order_by(Site.name)
    if prime_site_ids is not None:
        stmt = stmt.where(Site.id.in_(prime_site_ids))
    return session.execute(stmt).scalars().all()

