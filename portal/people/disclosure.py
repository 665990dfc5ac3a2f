"""Disclosure (開示): whether a viewer may see one item of a worker's information. Plain functions, no Flask.

:func:`may_see` is the one entry point: every screen, API, CSV, Excel and PDF that shows a worker's items asks
it (or :func:`worker_information`, which asks it for every item and returns only what it allows). The rule
(domain.md §8, §12.6; the seed's 技能者個人の情報の取扱い):

- the worker itself (and the system administrator): everything;
- a current 所属事業者 (Affiliation 承認済, 事業者責任者): everything except 過去の所属事業者;
- a 元請: the 作業員名簿 items of workers actively registered (施工体制技能者登録, today within the period) on
  its sites by itself or a company in the site's APPROVED structure; an upper subcontractor: the same for
  workers registered by the companies below it on that site; a 現場管理者: the same, for its assigned sites
  only. The registering company must still employ the worker (portal.people.scoping.on_roster: the row scope reads
  the same rule, so a list never shows more than this);
- a worker who merely tapped at a prime's gate: nothing here (the row scope shows the prime who it was);
- after 退会: nothing to any company (the records are kept; administrators still see them);
- any other company: only items BOTH the worker and a current 所属事業者 disclosed, only while both agree;
- never to a company, consent or not: 過去の所属事業者 and 生年月日 (共通非公開項目);
- another worker: nothing.

Everything is read from the tables at the moment of the question (Core statements, not the viewer's cached
row scope), so cancelling an affiliation (取消) or withdrawing a consent takes effect at once.
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import clock
from portal.output import work_calendar
from portal.app.errors import DomainError
from portal.models import (
    Affiliation,
    Employer,
    Qualification,
    Trade,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
)
from portal.models.disclosure import (  # noqa: F401  (the rule is re-exported: callers use portal.people.disclosure)
    ADMIN,
    CONSENTABLE,
    EMPLOYER,
    ITEM_BY_CODE,
    ITEMS,
    NEVER_ITEMS,
    NOBODY,
    OTHER,
    ROSTER,
    ROSTER_ITEMS,
    SELF,
    DisclosureSetting,
    Relation,
    decide,
)
from portal.people.scoping import ALL, Scope, on_roster, using_scope

APPROVED = "承認済"


def _worker_pk(worker) -> int:
    return worker if isinstance(worker, int) else worker.id


def current_employer_ids(session: Session, worker_id: int) -> frozenset:
    aff = Affiliation.__table__
    return frozenset(session.execute(select(aff.c.employer_id).where(
        aff.c.worker_id == worker_id, aff.c.status == APPROVED)).scalars())


def consented_items(session: Session, worker_id: int) -> frozenset:
    """Items both the worker and a CURRENT 所属事業者 disclose (a former employer's consent has lapsed)."""
    employers = current_employer_ids(session, worker_id)
    if not employers:
        return frozenset()
    t = DisclosureSetting.__table__
    items = session.execute(select(t.c.item).where(
        t.c.worker_id == worker_id, t.c.worker_consent.is_(True), t.c.employer_consent.is_(True),
        t.c.employer_id.in_(employers))).scalars()
    return frozenset(items) - NEVER_ITEMS


def _withdrawn(session: Session, worker_id: int) -> bool:
    t = Worker.__table__
    return session.execute(select(t.c.withdrawn_at).where(t.c.id == worker_id)).scalar() is not None


def relation(session: Session, scope: Scope, worker, today: datetime.date | None = None) -> Relation:
    """How the viewer of ``scope`` stands to ``worker`` today (Core statements: never filtered, always fresh)."""
    today = today or clock.tokyo_today()
    worker_id = _worker_pk(worker)
    if scope.is_all:
        return Relation(ADMIN)
    if scope.kind == "worker":
        return Relation(SELF if scope.worker_id == worker_id else NOBODY)
    if scope.kind != "employer" or _withdrawn(session, worker_id):
        return Relation(NOBODY)  # 退会 ends every company's view at once (the records themselves are kept)
    if not scope.site_manager and scope.employer_id in current_employer_ids(session, worker_id):
        return Relation(EMPLOYER)
    consented = consented_items(session, worker_id)
    if worker_id in on_roster(session, scope.roster_by_site, today, worker_id):  # the row scope's own rule
        return Relation(ROSTER, consented)
    return Relation(OTHER, consented)


def may_see(session: Session, viewer_scope: Scope, worker, item: str, today: datetime.date | None = None) -> bool:
    """May the viewer of ``viewer_scope`` see ``item`` (a code of portal.models.disclosure.ITEMS) of ``worker``
    (a Worker or its primary key) today?"""
    return decide(relation(session, viewer_scope, worker, today), item)


def visible_items(session: Session, viewer_scope: Scope, worker, today: datetime.date | None = None) -> frozenset:
    """Every item :func:`may_see` allows, with the facts gathered once."""
    rel = relation(session, viewer_scope, worker, today)
    return frozenset(i.code for i in ITEMS if decide(rel, i.code))


# --- consents (380 / 830) ------------------------------------------------------------------------------------

def settings(session: Session, worker_id: int) -> dict:
    """item → (worker consent, employer consent that still counts) for the 380 / 830 screens."""
    employers = current_employer_ids(session, worker_id)
    t = DisclosureSetting.__table__
    rows = session.execute(select(t.c.item, t.c.worker_consent, t.c.employer_consent, t.c.employer_id).where(
        t.c.worker_id == worker_id)).all()
    found = {r.item: (bool(r.worker_consent), bool(r.employer_consent) and r.employer_id in employers) for r in rows}
    return {i.code: found.get(i.code, (False, False)) for i in CONSENTABLE}


def set_consents(session: Session, scope: Scope, worker_id: int, choices: dict) -> None:
    """Set the viewer's own side (the worker's, or the current employer's) for the items in ``choices``
    (item → bool). 一括開示 / 一括非開示 pass every consentable item. Written through the scoped session, so
    the before_flush guard refuses anyone else (and the other party's side)."""
    for item in choices:
        if item not in ITEM_BY_CODE:
            raise DomainError("unknown_disclosure_item", f"開示項目が正しくありません（{item}）。")
        if item in NEVER_ITEMS:
            raise DomainError("never_disclosed_item", f"「{ITEM_BY_CODE[item].label}」は共通非公開項目のため開示できません。")
    if scope.kind == "worker" and scope.worker_id == worker_id:
        side = "worker_consent"
    elif scope.kind == "employer" and not scope.site_manager and scope.employer_id in current_employer_ids(session, worker_id):
        side = "employer_consent"
    else:
        raise DomainError("not_allowed", "この技能者の開示設定を変更する権限がありません。", 403)
    with using_scope(session, scope):
        existing = {s.item: s for s in session.execute(select(DisclosureSetting).where(
            DisclosureSetting.worker_id == worker_id)).scalars()}
        for item, value in choices.items():
            row = existing.get(item)
            if row is None:
                if not value:
                    continue  # no row means 非開示 already
                row = DisclosureSetting(worker_id=worker_id, item=item)
                session.add(row)
            setattr(row, side, bool(value))
            if side == "employer_consent":
                row.employer_id = scope.employer_id  # whose consent it is: it lapses when that link ends
        session.flush()


def all_items(value: bool) -> dict:
    """The choices of 一括開示 (True) / 一括非開示 (False)."""
    return {i.code: value for i in CONSENTABLE}


def reset_consents(session: Session, worker_id: int) -> None:
    """Everything back to 非開示 (退会). Runs under the caller's explicit, reviewed scope."""
    for row in session.execute(select(DisclosureSetting).where(DisclosureSetting.worker_id == worker_id)).scalars():
        row.worker_consent = row.employer_consent = False
    session.flush()


# --- the 技能者情報 (what screens and reports show) -------------------------------------------------------

def _age(birth: datetime.date | None, today: datetime.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _load(session: Session, worker_id: int, today: datetime.date) -> dict | None:
    """Every item's value for one worker (read under ALL: only :func:`worker_information` calls this)."""
    w = session.get(Worker, worker_id)
    if w is None:
        return None
    p = session.execute(select(WorkerPersonal).where(WorkerPersonal.worker_id == worker_id)).scalar_one_or_none()
    ins = session.execute(select(WorkerInsurance).where(WorkerInsurance.worker_id == worker_id)).scalar_one_or_none()
    affs = session.execute(select(Affiliation, Employer).join(Employer, Employer.id == Affiliation.employer_id)
                           .where(Affiliation.worker_id == worker_id).order_by(Affiliation.started_on)).all()
    quals = session.execute(select(WorkerQualification, Qualification).join(
        Qualification, Qualification.id == WorkerQualification.qualification_id).where(
        WorkerQualification.worker_id == worker_id).order_by(Qualification.code)).all()
    trades = session.execute(select(Trade).join(WorkerTrade, WorkerTrade.trade_id == Trade.id).where(
        WorkerTrade.worker_id == worker_id).order_by(WorkerTrade.position)).scalars().all()
    awards = session.execute(select(WorkerAward).where(WorkerAward.worker_id == worker_id)).scalars().all()
    summary = work_calendar.worker_summary(session, worker_id)  # the same figures as the calendar (2-3)
    pv = (lambda attr: getattr(p, attr) if p is not None else None)
    iv = (lambda attr: getattr(ins, attr) if ins is not None else None)
    return {
        "worker_id": w.worker_id, "pk": w.id, "withdrawn": w.withdrawn_at is not None,
        "photo": None,  # the portal stores no face photo (face templates are encrypted credentials)
        "name": {"name": w.name, "name_kana": w.name_kana, "name_roman": w.name_roman, "common_name": w.common_name},
        "level": {"level": w.level, "level_label": w.level_label, "level_since": w.level_since},
        "birth_date": pv("birth_date"), "age": _age(pv("birth_date"), today),
        "sex": pv("sex"), "blood_type": pv("blood_type"),
        "address": {"postal_code": pv("postal_code"), "address": pv("address")},
        "phone": {"phone_home": pv("phone_home"), "phone_mobile": pv("phone_mobile"), "fax": pv("fax")},
        "email": pv("email"),
        "emergency_contact": {"emergency_address": pv("emergency_address"), "emergency_phone": pv("emergency_phone"),
                              "emergency_name": pv("emergency_name")},
        "nationality": pv("nationality"), "identity_document": w.identity_document,
        "current_employer": [{"employer_id": e.employer_id, "name": e.name, "is_primary": a.is_primary,
                              "started_on": a.started_on} for a, e in affs if a.status == APPROVED],
        "past_employers": [{"employer_id": e.employer_id, "name": e.name, "started_on": a.started_on,
                            "ended_on": a.ended_on} for a, e in affs if a.status != APPROVED],
        "social_insurance": {k: iv(k) for k in (
            "health_status", "health_type", "health_exemption_reason", "pension_status", "pension_type",
            "pension_exemption_reason", "employment_status", "employment_number_last4", "employment_exemption_reason")},
        "retirement_aid": {"kentaikyo": iv("kentaikyo"), "kentaikyo_number": iv("kentaikyo_number"),
                           "chutaikyo": iv("chutaikyo")},
        "rousai_special": iv("rousai_special"),
        "health_check": {"health_check_major": pv("health_check_major"), "health_check_minor": pv("health_check_minor"),
                         "health_check_date": pv("health_check_date")},
        "trades": [str(t) for t in trades],
        "education": pv("education"),
        "master_technician": [{"name": q.name, "obtained_on": wq.obtained_on} for wq, q in quals
                              if q.category == "登録基幹技能者"],
        "qualifications": [{"category": q.category, "code": q.code, "name": q.name, "obtained_on": wq.obtained_on,
                            "certificate_number": wq.certificate_number, "proof_attached": wq.proof_attached}
                           for wq, q in quals if q.category != "登録基幹技能者"],
        "awards": [{"name": a.name, "awarded_on": a.awarded_on} for a in awards],
        "work_history": {"days": summary.work_days, "histories": summary.history_count,
                         "not_counted_site_unapproved": summary.not_counted["unapproved"],
                         "not_counted_site_unregistered": summary.not_counted["unregistered"]},
        "registration": {"registration_type": w.registration_type, "registered_on": w.registered_on,
                         "updated_on": w.updated_on, "card_expires_on": w.card_expires_on},
    }


def find_worker_pk(session: Session, worker_code: str) -> int | None:
    """The primary key of a 14-digit 技能者ID (a Core lookup: existence alone discloses no item)."""
    t = Worker.__table__
    return session.execute(select(t.c.id).where(t.c.worker_id == worker_code)).scalar()


def worker_information(session: Session, viewer_scope: Scope, worker, today: datetime.date | None = None) -> dict | None:
    """The 技能者情報 of ``worker`` as the viewer may see it: {"worker_id", "pk", "items": {item: value} for
    visible items only, "hidden": [items withheld], "relation": kind}. None if there is no such worker or the
    viewer may see nothing of it. Reports build their rows from this, so they cannot show more than the screen.

    The rows are read in a separate session under ALL (the viewer's row scope would hide a consenting worker
    of another company); only values :func:`may_see` allows leave this function."""
    from portal.app.db import ScopedSession  # here, not at import: portal.app.db imports the scope machinery

    today = today or clock.tokyo_today()
    worker_id = _worker_pk(worker)
    rel = relation(session, viewer_scope, worker_id, today)
    allowed = [i.code for i in ITEMS if decide(rel, i.code)]
    if not allowed:
        return None
    reader = ScopedSession(bind=session.get_bind())
    try:
        with using_scope(reader, ALL):
            values = _load(reader, worker_id, today)
    finally:
        reader.close()
    if values is None:
        return None
    return {"worker_id": values["worker_id"], "pk": worker_id, "relation": rel.kind, "withdrawn": values["withdrawn"],
            "items": {code: values[code] for code in allowed},
            "hidden": [i.code for i in ITEMS if i.code not in allowed]}
