"""直接入力・事後補正 (direct input and correction) and their approval by the prime contractor (元請).

Plain functions over a session (no Flask): screens, the API and jobs call them with the acting principal
(:class:`Actor`) and ``today`` (Asia/Tokyo). Rules (domain.md §4, §12.5):
- only the worker or its employer's 事業者責任者 enters or corrects; a 現場管理者 may not;
- a request may name a site not registered yet (free-text name); its 現場ID is attached later;
- a direct input for a registered site is refused unless the day's employer has a place in the site's approved
  施工体制 that day (it could never count); checked again when the 現場ID is attached and when it is approved;
- only the site's prime contractor approves or rejects (its 事業者責任者, or a 現場管理者 assigned to the site);
- entry, 現場ID attachment and approval all close at the end of the month after the work day (the day's
  correction deadline, portal.history.histories.correction_deadline: the history closes then too);
- a request is filed under the employer whose affiliation held on the work day: after a 転職 a day before it
  belongs to the old employer, which may file for it (the worker may too) and sees that request;
- a request counts only once approved: the history then shows 直接 and takes the requested trade, role and
  work content. Every step is kept in the request's trail (who, when, before, after).
Any refusal raises DomainError before anything is written.
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.app import clock
from portal.history import histories
from portal.app.errors import DomainError
from portal.app.ids import validate_ccus_id
from portal.models import Affiliation, Employer, Site, SiteManagerAssignment, SiteWorkerRegistration, Trade, Worker, WorkHistory
from portal.models.corrections import (
    REASONS,
    STATUS_APPROVED,
    STATUS_PENDING,
    STATUS_REJECTED,
    WorkCorrection,
)
from portal.models.structure import POSITIONS
from portal.people.scoping import ALL, ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, using_scope



@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acts: kind is worker / employer (事業者責任者) / site_manager (現場管理者) / admin."""

    kind: str
    user_id: int | None
    name: str
    employer_id: int | None = None
    worker_id: int | None = None


def actor_of(user) -> Actor:
    """The Actor of a portal login (portal.models.PortalUser)."""
    roles = {r.name for r in getattr(user, "roles", [])}
    name = getattr(user, "username", "") or ""
    if ROLE_ADMIN in roles:
        kind = "admin"
    elif ROLE_EMPLOYER in roles and user.employer_id:
        kind = "employer"
    elif ROLE_SITE_MANAGER in roles and user.employer_id:
        kind = "site_manager"
    elif ROLE_WORKER in roles and user.worker_id:
        kind = "worker"
    else:
        kind = "none"
    return Actor(kind, user.id, name, employer_id=user.employer_id, worker_id=user.worker_id)


today_in_tokyo = clock.tokyo_today  # the one Tokyo today (portal.app.clock): moves with clock.now() in tests


# The last day of the month after the work day: entry and approval both close then, and so does the day's
# history (one rule: portal.history.histories.correction_deadline).
deadline = histories.correction_deadline


def _check_deadline(work_date: datetime.date, today: datetime.date, what: str) -> None:
    if histories.is_closed(work_date, today):
        raise DomainError("deadline_passed",
                          f"{what}の期限（就労翌月末: {deadline(work_date):%Y年%m月%d日}）を過ぎているため、"
                          f"{work_date:%Y年%m月%d日}の就業履歴は{what}できません。")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# --- lookups (the actor's scoped session, except where a reviewed table lookup is noted) ------------------------

def _site_by_code(session: Session, code: str) -> int:
    """The site's primary key for a 現場ID. Looked up on the table itself: a worker missing from the site's
    roster (a reason for direct input) cannot see the site, yet must be able to name it."""
    code = validate_ccus_id(code, "site")
    t = Site.__table__
    found = session.execute(select(t.c.id).where(t.c.site_id == code)).scalar()
    if found is None:
        raise DomainError("unknown_site", f"現場ID {code} の現場は登録されていません。現場が未登録の場合は現場名を入力し、"
                                          "現場IDは登録後に付与してください。")
    return found


def employers_on(session: Session, worker_id: int, day: datetime.date) -> list[int]:
    """The employers whose affiliation with the worker held on ``day`` (the primary first), as the histories read
    them (portal.history.histories.Context): after a 転職 the old employer for the days before it. A table lookup."""
    return _held(histories.Context(session, [worker_id], []), worker_id, day)


def _held(ctx, worker_id: int, day: datetime.date) -> list[int]:
    found = []
    for employer_id, _primary, first, last in ctx.affiliations.get(worker_id, ()):
        if histories._within(day, first, last) and employer_id not in found:
            found.append(employer_id)
    return found


def correctable_days(session: Session, actor: Actor, worker_id: int, days, today: datetime.date) -> set:
    """The days of ``days`` for which ``actor`` may file for ``worker_id`` (the rule of :func:`correctable`, for a
    month at once): open days, for the worker itself or the employer that held the day. Screens offer the form only
    on these."""
    open_days = {d for d in days if not histories.is_closed(d, today)}
    if actor.kind == "worker":
        return open_days if actor.worker_id == worker_id else set()
    if actor.kind != "employer":
        return set()
    ctx = histories.Context(session, [worker_id], [])
    return {d for d in open_days if actor.employer_id in _held(ctx, worker_id, d)}


def _requester_employer(session: Session, actor: Actor, worker_id: int, day: datetime.date) -> int | None:
    """Check that ``actor`` may file for ``worker_id``'s ``day``; return the employer (所属事業者) of that day for the
    request: the worker files under the employer that held the day, and an employer may file for a day on which
    it was the worker's employer (also after the worker left it)."""
    if actor.kind == "site_manager":
        raise DomainError("requester_not_allowed", "現場管理者は就業履歴の直接入力・事後補正を行えません。"
                                                   "技能者本人または所属事業者の事業者責任者が入力してください。", 403)
    held = employers_on(session, worker_id, day)
    if actor.kind == "worker" and actor.worker_id == worker_id:
        return held[0] if held else None
    if actor.kind == "employer" and actor.employer_id in held:
        return actor.employer_id
    raise DomainError("requester_not_allowed", "直接入力・事後補正は技能者本人または就業日の所属事業者の事業者責任者のみが"
                                               "行えます。", 403)


@dataclasses.dataclass(frozen=True)
class FormerWorker:
    """A worker who left the employer within the open correction window: the employer may still file for the days
    it was the employer (shown in its request form by name and 技能者ID only)."""

    id: int
    name: str
    worker_id: str

    def __str__(self) -> str:
        return f"{self.name}（{self.worker_id}）（元所属）"


def former_workers(session: Session, employer_id: int, today: datetime.date) -> list[FormerWorker]:
    """Workers whose link with ``employer_id`` ended (取消) on a day still open, and who are not linked to it now.
    Table lookups: the employer no longer sees these workers' records."""
    a, w = Affiliation.__table__, Worker.__table__
    current = select(a.c.worker_id).where(a.c.employer_id == employer_id, a.c.status == "承認済")
    rows = session.execute(select(w.c.id, w.c.name, w.c.worker_id).join(a, a.c.worker_id == w.c.id).where(
        a.c.employer_id == employer_id, a.c.status == "取消", a.c.ended_on >= histories.first_open_day(today),
        w.c.id.not_in(current)).distinct().order_by(w.c.id)).all()
    return [FormerWorker(r.id, r.name, r.worker_id) for r in rows]


def _visible_worker(session: Session, actor: Actor, worker_id, day: datetime.date) -> int:
    """The worker's pk: one the actor sees, or (looked up on the table) one whose employer the actor was on
    ``day`` (a former employer filing for its own past day no longer sees the worker's record)."""
    try:
        worker_id = int(worker_id)
    except (TypeError, ValueError):
        worker_id = None
    found = session.execute(select(Worker.id).where(Worker.id == worker_id)).scalar() if worker_id else None
    if found is None and actor.kind == "employer" and worker_id and actor.employer_id in employers_on(
            session, worker_id, day):
        found = worker_id
    if found is None:
        raise DomainError("unknown_worker", "技能者が見つかりません。", 404)
    return found


def _position(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and value not in POSITIONS:
        raise DomainError("invalid_position", f"立場は次のいずれかです: {'、'.join(POSITIONS)}（入力値: {value}）。")
    return value


def _trade(session: Session, trade_id) -> int | None:
    if trade_id in (None, ""):
        return None
    text = str(trade_id)
    # not a row id (letters, NUL, beyond the 32-bit serials): no such trade, before the database is asked
    found = session.execute(select(Trade.id).where(Trade.id == int(text))).scalar() \
        if text.isascii() and text.isdigit() and int(text) < 2 ** 31 else None
    if found is None:
        raise DomainError("unknown_trade", "職種コードが見つかりません。")
    return found


def _reason(value: str) -> str:
    if value not in REASONS:
        raise DomainError("invalid_reason", f"理由は次のいずれかです: {'、'.join(REASONS.values())}。")
    return value


def _check_date(work_date, today: datetime.date) -> datetime.date:
    if not isinstance(work_date, datetime.date):
        try:
            work_date = datetime.date.fromisoformat(str(work_date))
        except ValueError as e:
            raise DomainError("invalid_work_date", f"就業日の形式が正しくありません（{work_date}）。") from e
    if work_date > today:
        raise DomainError("future_work_date", f"未来の日付（{work_date:%Y年%m月%d日}）の就業履歴は入力できません。")
    return work_date


def check_structure(session: Session, site_id: int, employer_id: int | None, day: datetime.date) -> None:
    """A day counts only for an employer with a place in the site's approved 施工体制 that day (portal.history.histories:
    上位の施工体制未登録): a request for any other would be filed, even approved, and stay 非計上 without a word.
    Refused before anything is written, with who can fix it. The links are read on the table (reviewed: a
    subcontractor does not see every link of the site, yet its place in the structure decides)."""
    ctx = histories.Context(session, [], [site_id])
    if employer_id is not None and employer_id in ctx.connected(site_id, day):
        return
    site = session.execute(select(Site.__table__.c.name).where(Site.__table__.c.id == site_id)).scalar()
    if employer_id is None:
        raise DomainError("not_in_structure", f"{day:%Y年%m月%d日}に所属事業者のない技能者のため、現場「{site}」の就業履歴として"
                                              "計上できません。所属事業者の登録（所属申請の承認）の後に申請してください。")
    name = session.execute(select(Employer.__table__.c.name).where(Employer.__table__.c.id == employer_id)).scalar()
    raise DomainError("not_in_structure", f"{name}は{day:%Y年%m月%d日}の現場「{site}」の施工体制（承認済み）に入っていないため、"
                                          "この日の就業履歴は計上できません。上位の事業者に施工体制への招待を依頼し、承認してから"
                                          "申請してください（施工体制は元請事業者が確認できます）。")


def _roster(session: Session, worker_id: int, site_id: int | None, day: datetime.date):
    """The roster row (作業員名簿) of the worker on the site that day, as defaults for trade, role and content."""
    if site_id is None:
        return None
    t = SiteWorkerRegistration.__table__
    rows = session.execute(select(t).where(t.c.worker_id == worker_id, t.c.site_id == site_id)).all()
    return next((r for r in rows if (r.start_date is None or r.start_date <= day)
                 and (r.end_date is None or r.end_date >= day)), None)


def history_snapshot(session: Session, worker_id: int, site_id: int | None, day: datetime.date) -> dict | None:
    """What the history of (worker, site, day) shows now, for the trail (read under ALL: the actor was checked)."""
    with using_scope(session, ALL):
        h = session.execute(select(WorkHistory).where(
            WorkHistory.worker_id == worker_id, WorkHistory.work_date == day,
            WorkHistory.site_id.is_(None) if site_id is None else WorkHistory.site_id == site_id)).scalars().first()
        if h is None:
            return None
        return {"trade": h.trade.code if h.trade else None, "position": h.position, "work_content": h.work_content,
                "hazardous_work": h.hazardous_work, "methods": h.methods, "counted": h.counted,
                "not_counted_reason": h.not_counted_reason}


def _requested(c: WorkCorrection, session: Session) -> dict:
    trade = session.get(Trade, c.trade_id) if c.trade_id else None
    return {"site_id": c.site.site_id if c.site_id and c.site else None, "site_name": c.site_name,
            "trade": trade.code if trade else None, "position": c.position, "work_content": c.work_content,
            "hazardous_work": c.hazardous_work}


def _trail(c: WorkCorrection, actor: Actor, action: str, before, after) -> None:
    # reassigned, not appended in place: a JSON column notices only a new value
    c.trail = [*(c.trail or []), {"at": _now().isoformat(timespec="seconds"), "by": actor.name, "by_kind": actor.kind,
                                  "action": action, "before": before, "after": after}]


def refresh_histories(session: Session, keys, actor: Actor | None = None, today: datetime.date | None = None) -> None:
    """Derive the histories of these (worker, site, day) keys again, under a reviewed ALL scope: the actor's right
    to change them was checked above. The trail names the correction and the actor."""
    with using_scope(session, ALL):
        histories.recompute(session, keys, cause=histories.Cause("correction", actor.name if actor else None),
                            today=today)


@histories.register_day_inputs
def correction_inputs(session: Session, keys, date_range) -> dict:
    """What requests contribute to the histories (portal.history.histories' day inputs): an approved one adds the day
    (直接) with its trade, role and work content, vouched for by the prime; a pending one shows a day no device
    recorded as not counted (元請現場未承認, or 元請現場未登録 without a 現場ID). Rejected ones contribute nothing.
    Later decisions win over earlier ones on the same day."""
    t = WorkCorrection.__table__
    stmt = select(t).where(t.c.status.in_([STATUS_APPROVED, STATUS_PENDING]))
    if keys is not None:
        keys = set(keys)
        if not keys:
            return {}
        days = [k[2] for k in keys]
        sites = {k[1] for k in keys}
        # by site and days (few requests; the ingest asks this for every batch), the keys picked out below
        on_site = t.c.site_id.in_(sorted(s for s in sites if s is not None))
        stmt = stmt.where(t.c.work_date >= min(days), t.c.work_date <= max(days),
                          (on_site | t.c.site_id.is_(None)) if None in sites else on_site)
        rows = session.execute(stmt).all()
    else:
        rows = session.execute(stmt.where(t.c.work_date >= date_range[0], t.c.work_date <= date_range[1]))
    found: dict = {}
    for r in sorted(rows, key=lambda r: (r.decided_at is None, r.decided_at or datetime.datetime.min, r.id)):
        key = (r.worker_id, r.site_id, r.work_date)
        if keys is None or key in keys:
            found.setdefault(key, []).append(histories.DayInput(
                mark="直接", employer_id=r.employer_id, trade_id=r.trade_id, position=r.position,
                work_content=r.work_content, hazardous_work=r.hazardous_work, pending=r.status == STATUS_PENDING))
    return found


# --- requests ---------------------------------------------------------------------------------------------------

def request_direct_input(session: Session, actor: Actor, *, worker_id: int, work_date, reason: str,
                         site_code: str | None = None, site_name: str | None = None, trade_id=None,
                         position: str | None = None, work_content: str | None = None,
                         hazardous_work: bool | None = None, note: str | None = None,
                         today: datetime.date | None = None) -> WorkCorrection:
    """直接入力: a day the devices did not record. Trade, role and work content default to the roster's."""
    today = today or today_in_tokyo()
    work_date = _check_date(work_date, today)
    worker_pk = _visible_worker(session, actor, worker_id, work_date)
    employer_id = _requester_employer(session, actor, worker_pk, work_date)
    _check_deadline(work_date, today, "入力")
    reason = _reason(reason)
    site_id = _site_by_code(session, site_code) if (site_code or "").strip() else None
    site_name = (site_name or "").strip() or None
    if site_id is None and site_name is None:
        raise DomainError("site_required", "現場IDまたは現場名を入力してください（現場が未登録の場合は現場名）。")
    roster = _roster(session, worker_pk, site_id, work_date)
    if actor.kind == "employer" and roster is not None and roster.employer_id != employer_id:
        roster = None  # another employer's roster row: not this employer's day details
    correction = WorkCorrection(
        kind="direct", worker_id=worker_pk, employer_id=roster.employer_id if roster else employer_id,
        site_id=site_id, site_name=None if site_id else site_name, work_date=work_date,
        work_month=f"{work_date:%Y-%m}",
        trade_id=_trade(session, trade_id) if trade_id not in (None, "") else (roster.trade_id if roster else None),
        position=_position(position) or (roster.position if roster else None),
        work_content=(work_content or "").strip() or (roster.work_content if roster else None),
        hazardous_work=bool(hazardous_work) if hazardous_work is not None else bool(roster and roster.hazardous_work),
        reason=reason, note=(note or "").strip() or None, **_requester_fields(actor), status=STATUS_PENDING)
    if site_id is not None:
        check_structure(session, site_id, correction.employer_id, work_date)
    return _file(session, actor, correction, today)


def request_correction(session: Session, actor: Actor, *, history_id: int, reason: str, trade_id=None,
                       position: str | None = None, work_content: str | None = None,
                       hazardous_work: bool | None = None, note: str | None = None,
                       today: datetime.date | None = None) -> WorkCorrection:
    """事後補正: change the trade, role, work content or hazardous work of a recorded day."""
    today = today or today_in_tokyo()
    history, employer_id = correctable(session, actor, history_id, today)
    values = {
        "trade_id": _trade(session, trade_id) if trade_id not in (None, "") else history.trade_id,
        "position": _position(position) or history.position,
        "work_content": (work_content or "").strip() or history.work_content,
        "hazardous_work": history.hazardous_work if hazardous_work is None else bool(hazardous_work),
    }
    if all(values[k] == getattr(history, k) for k in values):
        raise DomainError("no_change", "補正する内容（職種・立場・作業内容・有害業務）が現在の就業履歴と同じです。")
    correction = WorkCorrection(
        kind="correction", worker_id=history.worker_id, employer_id=history.employer_id or employer_id,
        site_id=history.site_id, work_date=history.work_date, work_month=f"{history.work_date:%Y-%m}",
        reason=_reason(reason), note=(note or "").strip() or None, **values, **_requester_fields(actor),
        status=STATUS_PENDING)
    return _file(session, actor, correction, today)


def correctable(session: Session, actor: Actor, history_id: int, today: datetime.date) -> tuple[WorkHistory, int | None]:
    """The history ``actor`` may file a 事後補正 for, and the employer of the request; refused (404: not visible,
    403: not the worker or its employer of that day, 422: closed) before any form is shown or anything written."""
    history = session.execute(select(WorkHistory).where(WorkHistory.id == history_id)).scalar_one_or_none()
    if history is None:
        raise DomainError("unknown_history", "就業履歴が見つかりません。", 404)
    employer_id = _requester_employer(session, actor, history.worker_id, history.work_date)
    _check_deadline(history.work_date, today, "補正")
    return history, employer_id


def _requester_fields(actor: Actor) -> dict:
    return {"requested_by_kind": actor.kind, "requested_by_user_id": actor.user_id,
            "requested_by_name": actor.name, "requested_at": _now()}


def _open_duplicate(session: Session, c: WorkCorrection) -> bool:
    t = WorkCorrection.__table__
    same_site = t.c.site_id == c.site_id if c.site_id is not None else t.c.site_id.is_(None)
    return session.execute(select(func.count()).select_from(t).where(
        t.c.worker_id == c.worker_id, t.c.work_date == c.work_date, t.c.status == STATUS_PENDING, same_site,
    )).scalar() > 0


def _file(session: Session, actor: Actor, correction: WorkCorrection, today: datetime.date) -> WorkCorrection:
    if _open_duplicate(session, correction):
        raise DomainError("duplicate_request", f"{correction.work_date:%Y年%m月%d日}のこの現場には未承認の申請が既にあります。"
                                               "承認または否認を待ってください。", 409)
    session.add(correction)
    session.flush()
    _trail(correction, actor, "申請",
           history_snapshot(session, correction.worker_id, correction.site_id, correction.work_date),
           _requested(correction, session))
    session.flush()
    refresh_histories(session, [(correction.worker_id, correction.site_id, correction.work_date)], actor, today)
    return correction


def attach_site_id(session: Session, actor: Actor, correction_id: int, site_code: str, *,
                   today: datetime.date | None = None) -> WorkCorrection:
    """現場ID付与: the site of a request made before the site was registered now has its 現場ID."""
    today = today or today_in_tokyo()
    c = _visible_correction(session, correction_id)
    _requester_employer(session, actor, c.worker_id, c.work_date)
    if c.status != STATUS_PENDING:
        raise DomainError("not_pending", f"この申請は{c.status}のため現場IDを付与できません。")
    if c.site_id is not None:
        raise DomainError("site_already_attached", "この申請には既に現場IDが付与されています。")
    _check_deadline(c.work_date, today, "現場ID付与")
    site_id = _site_by_code(session, site_code)
    check_structure(session, site_id, c.employer_id, c.work_date)
    old_key = (c.worker_id, None, c.work_date)
    c.site_id, before_name = site_id, c.site_name
    if _open_duplicate_other(session, c):
        raise DomainError("duplicate_request", "この現場・就業日には未承認の申請が既にあります。", 409)
    session.flush()
    session.refresh(c)
    _trail(c, actor, "現場ID付与", {"site_name": before_name}, {"site_id": c.site.site_id if c.site else None})
    session.flush()
    refresh_histories(session, [old_key, (c.worker_id, c.site_id, c.work_date)], actor, today)
    return c


def _open_duplicate_other(session: Session, c: WorkCorrection) -> bool:
    t = WorkCorrection.__table__
    return session.execute(select(func.count()).select_from(t).where(
        t.c.worker_id == c.worker_id, t.c.work_date == c.work_date, t.c.status == STATUS_PENDING,
        t.c.site_id == c.site_id, t.c.id != c.id)).scalar() > 0


# --- approval ----------------------------------------------------------------------------------------------------

def _visible_correction(session: Session, correction_id) -> WorkCorrection:
    c = session.execute(select(WorkCorrection).where(WorkCorrection.id == correction_id)).scalar_one_or_none()
    if c is None:
        raise DomainError("unknown_correction", "申請が見つからないか、操作する権限がありません。", 404)
    return c


NOT_PRIME = ("not_prime_contractor", "承認・否認できるのはこの現場の元請事業者のみです。")


def _check_prime(session: Session, actor: Actor, c: WorkCorrection) -> None:
    if c.site_id is None:
        raise DomainError("site_id_missing", "現場IDが付与されていない申請は承認・否認できません。申請者が現場IDを付与するまでお待ちください。")
    prime = session.execute(select(Site.__table__.c.prime_employer_id).where(Site.__table__.c.id == c.site_id)).scalar()
    allowed = actor.kind in ("employer", "site_manager") and actor.employer_id == prime
    if allowed and actor.kind == "site_manager":
        t = SiteManagerAssignment.__table__
        allowed = session.execute(select(t.c.id).where(t.c.site_id == c.site_id, t.c.user_id == actor.user_id)).first() is not None
    if not allowed:
        raise DomainError(*NOT_PRIME, 403)


def may_decide(session: Session, actor: Actor, c: WorkCorrection) -> bool:
    """May ``actor`` approve or reject ``c`` now (pending, with a site whose prime it is)? Screens offer the
    decision only then."""
    try:
        _check_prime(session, actor, c)
    except DomainError:
        return False
    return c.status == STATUS_PENDING


def decides_somewhere(scope) -> bool:
    """May the principal of ``scope`` decide requests on some site (the rule of :func:`_check_prime`: the site's
    prime, or its 現場管理者 assigned there; an employer scope's prime sites are exactly those)? The list offers
    承認 / 否認 only then."""
    return scope.kind == "employer" and bool(scope.prime_site_ids)


def _pending_for_prime(session: Session, actor: Actor, correction_id) -> WorkCorrection:
    c = _visible_correction(session, correction_id)
    _check_prime(session, actor, c)
    if c.status != STATUS_PENDING:
        raise DomainError("not_pending", f"この申請は既に{c.status}です。")
    return c


def approve(session: Session, actor: Actor, correction_id: int, *, today: datetime.date | None = None,
            note: str | None = None) -> WorkCorrection:
    today = today or today_in_tokyo()
    c = _pending_for_prime(session, actor, correction_id)
    _check_deadline(c.work_date, today, "承認")
    if c.kind == "direct":  # the structure may have changed since it was filed
        check_structure(session, c.site_id, c.employer_id, c.work_date)
    return _decide(session, actor, c, STATUS_APPROVED, note, today)


def reject(session: Session, actor: Actor, correction_id: int, *, note: str | None = None,
           today: datetime.date | None = None) -> WorkCorrection:
    """否認. Allowed after the deadline too: it only closes a request that can no longer count (a closed day's
    stored history stays as it is)."""
    if not (note or "").strip():  # the worker is told why (the request's 否認の理由)
        raise DomainError("rejection_reason_required", "否認するときは理由を入力してください（申請者に表示されます）。")
    return _decide(session, actor, _pending_for_prime(session, actor, correction_id), STATUS_REJECTED, note,
                   today or today_in_tokyo())


def _decide(session: Session, actor: Actor, c: WorkCorrection, status: str, note: str | None,
            today: datetime.date) -> WorkCorrection:
    before = history_snapshot(session, c.worker_id, c.site_id, c.work_date)
    c.status, c.decided_by_user_id, c.decided_by_name, c.decided_at = status, actor.user_id, actor.name, _now()
    c.decision_note = (note or "").strip() or None
    session.flush()
    refresh_histories(session, [(c.worker_id, c.site_id, c.work_date)], actor, today)
    _trail(c, actor, "承認" if status == STATUS_APPROVED else "否認", before,
           history_snapshot(session, c.worker_id, c.site_id, c.work_date))
    session.flush()
    return c


def decide_many(session: Session, actor: Actor, correction_ids, *, approve_them: bool, note: str | None = None,
                today: datetime.date | None = None) -> tuple[int, list[str]]:
    """Approve or reject several requests; each in its own savepoint, so one refusal leaves the others done.
    ``None`` stands for a row the actor cannot see (FAB actions pass None for those). Returns (done, messages)."""
    today = today or today_in_tokyo()
    done, problems = 0, []
    for correction_id in correction_ids:
        if correction_id is None:
            problems.append("表示できない申請が含まれていたため、その申請は処理しませんでした。")
            continue
        try:
            with session.begin_nested():
                if approve_them:
                    approve(session, actor, correction_id, today=today, note=note)
                else:
                    reject(session, actor, correction_id, today=today, note=note)
            done += 1
        except DomainError as e:
            problems.append(f"申請{correction_id}: {e.message}")
    return done, problems


# --- waiting requests ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Waiting:
    count: int
    oldest_days: int  # how long the oldest request has waited, in days
    expiring: int  # how many close (deadline) within 7 days
    by_site: list  # [(site label, count, oldest days, nearest deadline)]


def waiting(session: Session, *, today: datetime.date | None = None, site_id: int | None = None,
            prime_employer_id: int | None = None) -> Waiting:
    """How many requests wait for approval in the session's scope (optionally at one site, or at the sites of one
    prime contractor: those it decides, not those it filed), and for how long."""
    today = today or today_in_tokyo()
    stmt = select(WorkCorrection).where(WorkCorrection.status == STATUS_PENDING, WorkCorrection.site_id.is_not(None))
    if site_id is not None:
        stmt = stmt.where(WorkCorrection.site_id == site_id)
    if prime_employer_id is not None:
        st = Site.__table__
        stmt = stmt.where(WorkCorrection.site_id.in_(select(st.c.id).where(st.c.prime_employer_id == prime_employer_id)))
    rows = session.execute(stmt).scalars().all()
    by_site: dict = {}
    for c in rows:
        waited = (today - clock.tokyo_date(c.requested_at)).days
        entry = by_site.setdefault(c.site_id, [str(c.site), 0, 0, deadline(c.work_date)])
        entry[1] += 1
        entry[2] = max(entry[2], waited)
        entry[3] = min(entry[3], deadline(c.work_date))
    return Waiting(
        count=len(rows),
        oldest_days=max((v[2] for v in by_site.values()), default=0),
        expiring=sum(1 for c in rows if today <= deadline(c.work_date) <= today + datetime.timedelta(days=7)),
        by_site=sorted((tuple(v) for v in by_site.values()), key=lambda v: v[3]),
    )
