"""Each role's first screen as a to-do list: what waits for this principal, how many, and where to fix it.
- the administrator: silent devices, failing report jobs, approvals waiting across the system, the last
  events received (the ingest) and the code tables;
- an employer (事業者責任者): change requests to decide (the first ones by name), corrections waiting for it as
  the prime, invitations into a site's structure waiting for its approval, its workers without a trade or a qualification,
  qualifications and health checks about to expire, its workers' days that do not count (corrections to file);
  a prime contractor (or 現場管理者) also the way to its site board, where each row links to its fix.
Plain functions over the scoped session: each count is what the principal's scope admits."""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.app import clock
from portal.history import corrections
from portal.output import site_board
from portal.models import (Affiliation, ChangeRequest, EntryExitEvent, Site, StructureLink, Trade, Worker,
                           WorkerPersonal, WorkerQualification, WorkHistory)
from portal.models.applications import CHANGE_KINDS, PENDING
from portal.models.jobs import FAILED, ReportJob

SHOWN_LINES = 5  # waiting change requests named on the dashboard (the rest on the approval screen)
EXPIRY_NOTICE_DAYS = 60  # qualifications and health checks: warn this long before they lapse
HEALTH_CHECK_VALID_DAYS = 365  # a health check is repeated yearly


@dataclasses.dataclass
class Item:
    label: str
    count: int
    endpoint: str  # where to fix it (a Flask endpoint)
    detail: str = ""
    args: dict = dataclasses.field(default_factory=dict)
    to_do: bool = True  # a count above zero asks for action (False: a figure for information)
    lines: list = dataclasses.field(default_factory=list)  # the first waiting ones, each (text, url fragment)


def admin_items(session: Session, now: datetime.datetime) -> list[Item]:
    today = clock.tokyo_date(now)
    days = [today - datetime.timedelta(days=n) for n in range(1, site_board.LOOKBACK_DAYS + 1)]
    silent = [(d, day) for site_id in session.execute(select(Site.id)).scalars()
              for d, day in site_board.silent_devices(session, site_id, days)]
    failed = session.execute(select(func.count()).select_from(ReportJob).where(
        ReportJob.status == FAILED, ReportJob.created_at >= now - datetime.timedelta(days=7))).scalar()
    waiting = corrections.waiting(session, today=today)
    invited = session.execute(select(func.count()).select_from(StructureLink).where(StructureLink.status == "招待中")).scalar()
    requests = session.execute(select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == PENDING)).scalar()
    last_event = session.execute(select(func.max(EntryExitEvent.received_at))).scalar()
    received_today = session.execute(select(func.count()).select_from(EntryExitEvent).where(
        EntryExitEvent.work_date == today)).scalar()
    trades = session.execute(select(func.count()).select_from(Trade)).scalar()
    return [
        Item("通信のない入退場デバイス", len({d.id for d, _day in silent}), "DeviceView.list",
             "、".join(sorted({f"{d.name or d.key_prefix}（{day:%m/%d}）" for d, day in silent}))[:300]),
        Item("失敗した帳票作成（7日間）", failed, "ReportsView.menu"),
        Item("承認待ちの直接入力・事後補正", waiting.count, "WorkCorrectionView.list",
             f"最も古い申請は{waiting.oldest_days}日前" if waiting.count else ""),
        Item("承認待ちの施工体制（招待中）", invited, "StructureLinkView.list"),
        Item("未処理の技能者の変更申請", requests, "ChangeRequestApprovalView.list"),
        Item("本日受信した入退場記録", received_today, "EntryExitEventView.list",
             f"最終受信: {clock.tokyo_text(last_event)}" if last_event else "まだ受信していません", to_do=False),
        Item("職種コード（コード表の取込）", trades, "CodeImportView.this_form_get", to_do=False),
    ]


def employer_items(session: Session, employer_id: int, now: datetime.datetime) -> list[Item]:
    today = clock.tokyo_date(now)
    soon = today + datetime.timedelta(days=EXPIRY_NOTICE_DAYS)
    own = select(Affiliation.worker_id).where(Affiliation.employer_id == employer_id, Affiliation.status == "承認済")
    workers = select(func.count()).select_from(Worker).where(Worker.id.in_(own))
    no_trade = session.execute(workers.where(~Worker.trades.any())).scalar()
    no_qualification = session.execute(workers.where(~Worker.qualifications.any())).scalar()
    expiring = session.execute(select(func.count()).select_from(WorkerQualification).where(
        WorkerQualification.worker_id.in_(own), WorkerQualification.expires_on >= today,
        WorkerQualification.expires_on <= soon)).scalar()
    health_due = session.execute(select(func.count()).select_from(WorkerPersonal).where(
        WorkerPersonal.worker_id.in_(own), WorkerPersonal.health_check_date.is_not(None),
        WorkerPersonal.health_check_date <= soon - datetime.timedelta(days=HEALTH_CHECK_VALID_DAYS))).scalar()
    waiting = select(ChangeRequest).where(ChangeRequest.employer_id == employer_id, ChangeRequest.status == PENDING)
    requests = session.execute(select(func.count()).select_from(waiting.subquery())).scalar()
    first_requests = session.execute(waiting.order_by(ChangeRequest.filed_at).limit(SHOWN_LINES)).scalars().all()
    corrections_waiting = corrections.waiting(session, today=today, prime_employer_id=employer_id)
    invitations = session.execute(select(func.count()).select_from(StructureLink).where(
        StructureLink.lower_employer_id == employer_id, StructureLink.status == "招待中")).scalar()
    earliest = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # still correctable
    not_counted = session.execute(select(func.count()).select_from(WorkHistory).where(
        WorkHistory.employer_id == employer_id, WorkHistory.counted.is_(False),
        WorkHistory.work_date >= earliest)).scalar()
    return [
        Item("未処理の技能者の変更申請", requests, "ChangeRequestApprovalView.list",
             "技能者の変更申請の画面で承認・却下します" if requests else "",
             lines=[(f"{r.worker}：{CHANGE_KINDS.get(r.kind, r.kind)}（申請日時 {clock.tokyo_text(r.filed_at)}）",
                     f"request-{r.id}") for r in first_requests]),
        Item("承認待ちの直接入力・事後補正（元請として）", corrections_waiting.count, "WorkCorrectionView.list",
             f"最も古い申請は{corrections_waiting.oldest_days}日前" if corrections_waiting.count else ""),
        Item("施工体制への招待（承認待ち）", invitations, "StructureLinkView.list",
             "上位の事業者からの招待を承認すると、その現場の就業日が計上されます" if invitations else ""),
        Item("職種が未登録の技能者", no_trade, "WorkerTradeView.list", "職種がないと就業日が能力評価に使えません"),
        Item("保有資格が未登録の技能者", no_qualification, "WorkerQualificationView.list",
             "資格がないと就業日が能力評価に使えません"),
        Item(f"{EXPIRY_NOTICE_DAYS}日以内に有効期限を迎える保有資格", expiring, "WorkerQualificationView.list"),
        Item("健康診断の実施から1年が近い技能者", health_due, "WorkerPersonalView.list"),
        Item("計上されていない就業日（先月・今月）", not_counted, "EmployerMonthView.month",
             "直接入力・事後補正で申請できます（補正期限: 就業日の翌月末）"),
    ]
