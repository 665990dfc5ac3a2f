"""Domain checks that hold whatever path a row takes (screens, REST API, CLI, imports): run on every flush,
raising DomainError (Japanese message, stable code) before anything is written."""
from __future__ import annotations

from sqlalchemy import event, func, select

from portal.app import clock
from portal.people import structure
from portal.app.errors import DomainError
from portal.people.scoping import before, changed as _changed, ref
from portal.models import Affiliation, Site, SiteWorkerRegistration, StructureLink, Worker, WorkerTrade
from portal.models.employers import CORPORATE_TYPES
from portal.models.structure import LINK_STATUSES, POSITIONS
from portal.models.workers import AFFILIATION_CHANGES, AFFILIATION_STATUSES, INSURANCE_STATUSES, REGISTRATION_TYPES

MAX_TRADES = 4  # a worker may hold up to 4 職種 at once (domain.md §3)


def _period(start, end, code: str, label: str) -> None:
    if start is not None and end is not None and end < start:
        raise DomainError(code, f"{label}の終了日が開始日より前です（{start} 〜 {end}）。")


def _choice(value, allowed, code: str, label: str) -> None:
    if value is not None and value not in allowed:
        raise DomainError(code, f"{label}は次のいずれかです: {'、'.join(allowed)}（入力値: {value}）。")


def _not_negative(value, code: str, label: str) -> None:
    if value is not None and value < 0:
        raise DomainError(code, f"{label}は0以上で入力してください（入力値: {value}）。")


def _affiliation_change(obj, today) -> None:
    """取消 is final, and so is a link whose end date has passed: neither is reopened or extended (a former
    employer cannot re-link itself; a new link is the worker's request, 350_変更 → 所属事業者). The only change
    of status is 承認済 → 取消."""
    status, ended = before(obj, "status"), before(obj, "ended_on")
    closed = status == "取消" or (ended is not None and ended < today)
    if closed and (obj.status != status or _changed(obj, "worker_id", "employer_id", "worker", "employer")
                   or (ended is not None and (obj.ended_on is None or obj.ended_on > ended))):
        raise DomainError("affiliation_final", "取消・終了した所属は元に戻せません。新たな所属は、技能者本人の申請"
                                               "（350_変更 → 所属事業者）を事業者が承認して登録します。")
    if obj.status != status and (status, obj.status) not in AFFILIATION_CHANGES:
        raise DomainError("invalid_affiliation_change",
                          f"所属の状態は「{status}」から「{obj.status}」に変更できません（変更できるのは 承認済 → 取消 のみ）。")


def check(session, obj) -> None:
    if isinstance(obj, Site):
        _period(obj.accumulation_start, obj.accumulation_end, "invalid_accumulation_period", "就業履歴蓄積期間")
        _period(obj.contract_start, obj.contract_end, "invalid_contract_period", "契約工期")
    elif isinstance(obj, SiteWorkerRegistration):
        _period(obj.start_date, obj.end_date, "invalid_registration_period", "作業員名簿の登録期間")
        _choice(obj.position, POSITIONS, "invalid_position", "立場")
        keys = (ref(obj, "site_id"), ref(obj, "worker_id"), ref(obj, "employer_id"))
        if None not in keys and (obj.id is None or _changed(obj, "site_id", "worker_id", "employer_id", "site", "worker", "employer")):
            structure.check_registration(session, *keys)
    elif isinstance(obj, Affiliation):
        _period(obj.started_on, obj.ended_on, "invalid_affiliation_period", "所属期間")
        _choice(obj.status, AFFILIATION_STATUSES, "invalid_affiliation_status", "所属の状態")
        if obj.id is not None:
            _affiliation_change(obj, clock.tokyo_today())
    elif isinstance(obj, StructureLink):
        _choice(obj.status, LINK_STATUSES, "invalid_link_status", "施工体制の状態")
        upper, lower = ref(obj, "upper_employer_id"), ref(obj, "lower_employer_id")
        if upper is not None and upper == lower:
            raise DomainError("invalid_structure_link", "上位事業者と下位事業者が同じです。")
        _not_negative(obj.contract_amount_yen, "invalid_contract_amount", "契約金額")
        if obj.tier is not None and obj.tier < 1:
            raise DomainError("invalid_tier", "階層は1次以上です。")
        site = ref(obj, "site_id")
        if None not in (site, upper, lower) and (obj.id is None or _changed(obj, "upper_employer_id", "upper_employer", "tier")):
            structure.check_link(session, obj, site, upper, lower)
    elif isinstance(obj, Worker):
        if obj.level is not None and obj.level not in (1, 2, 3, 4):
            raise DomainError("invalid_level", "技能レベルは1〜4です。")
        _choice(obj.registration_type, REGISTRATION_TYPES, "invalid_registration_type", "登録区分")
    elif isinstance(obj, WorkerTrade):
        if obj.position is not None and not 1 <= obj.position <= MAX_TRADES:
            raise DomainError("too_many_trades", f"職種は1人{MAX_TRADES}つまでです。")
    elif obj.__class__.__name__ == "Employer":
        _choice(obj.corporate_type, CORPORATE_TYPES, "invalid_corporate_type", "法人・個人区分")
    elif obj.__class__.__name__ == "EmployerDetail":
        _not_negative(obj.capital_yen, "invalid_capital", "資本金")
    elif obj.__class__.__name__ == "WorkerInsurance":
        for attr, label in (("health_status", "健康保険"), ("pension_status", "年金保険"), ("employment_status", "雇用保険")):
            _choice(getattr(obj, attr), INSURANCE_STATUSES, "invalid_insurance_status", label)


# What entry/exit events and work histories name (they keep no foreign-key constraints: see portal.models.events).
RECORD_REFERENCES = {"Worker": ("worker_id", "worker_id"), "Site": ("site_id", "site_id"),
                     "Device": ("device_id", None), "Employer": (None, "employer_id"), "Trade": (None, "trade_id")}


def _in_records(session, obj) -> bool:
    """Whether an event or a history names ``obj``, which would then be left pointing at nothing."""
    from portal.models import EntryExitEvent, WorkHistory

    columns = RECORD_REFERENCES.get(obj.__class__.__name__)
    if columns is None or obj.id is None:
        return False
    for model, column in zip((EntryExitEvent, WorkHistory), columns):
        if column is not None:
            t = model.__table__
            if session.execute(select(t.c.id).where(t.c[column] == obj.id).limit(1)).first() is not None:
                return True
    return False


def _trade_count(session, worker_ids) -> None:
    t = WorkerTrade.__table__
    for worker_id in worker_ids:
        count = session.execute(select(func.count()).select_from(t).where(t.c.worker_id == worker_id)).scalar()
        if count > MAX_TRADES:
            raise DomainError("too_many_trades", f"職種は1人{MAX_TRADES}つまでです。")


def install(session_class) -> None:
    @event.listens_for(session_class, "before_flush")
    def _validate(session, flush_context, instances):  # noqa: ARG001
        for obj in list(session.new) + list(session.dirty):
            check(session, obj)
        for obj in session.deleted:
            if _in_records(session, obj):  # a worker's record is kept (5 years): never orphan it
                raise DomainError("in_use_by_records", f"「{obj}」は入退場記録または就業履歴に記録されているため削除できません。",
                                  409)

    @event.listens_for(session_class, "after_flush")
    def _counts(session, flush_context):  # noqa: ARG001
        # counted after the rows are written (inside the transaction, so a refusal rolls them back)
        workers = {ref(o, "worker_id") for o in session.new if isinstance(o, WorkerTrade)}
        if workers:
            _trade_count(session, workers)
