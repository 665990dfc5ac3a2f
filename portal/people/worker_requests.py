"""The worker's applications and withdrawal: plain functions over a session, no Flask.

- 350_変更: the worker files a change (住所, 連絡先, 氏名, a qualification, a new employer); it goes to the current
  主たる所属事業者 for approval (a change of employer to the NEW employer, who must accept the worker). The photo
  and the date of birth cannot be changed by a change request. While a request of a kind is pending, another of
  the same kind is refused (a second filing would overwrite the first inconsistently; domain.md §12.10).
- Approving 転職 cancels (取消) every current link at once: the old employer's access and its disclosure
  consents end with it (portal.people.disclosure reads the links at the moment of each question). The old link is
  ended on a date, not erased: it held until the day before the new one starts (the approval day), so the days
  before stay with the old employer and stay valid (portal.history.histories reads the link's period).
- 360_カード再発行: a request with a reason; the operator (administrator) marks it 発行済.
- 400_退会: see :data:`WITHDRAWAL_TERMS`, which the screen shows word for word.
"""
from __future__ import annotations

import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.app import clock
from portal.people import disclosure
from portal.app.errors import DomainError
from portal.app.ids import validate_ccus_id
from portal.models import (
    Affiliation,
    Credential,
    Employer,
    PortalUser,
    Qualification,
    Worker,
    WorkerPersonal,
    WorkerQualification,
)
from portal.models.applications import (
    APPROVED,
    CHANGE_KINDS,
    ISSUED,
    PENDING,
    REISSUE_REASONS,
    REJECTED,
    WITHDRAWN,
    CardReissueRequest,
    ChangeRequest,
)
from portal.people.scoping import ALL, Scope, using_scope

# The fields each kind may change. Deliberately absent: birth_date and the photo (not changeable by request).
FIELDS = {
    "address": {"postal_code": "郵便番号", "address": "現住所"},
    "contact": {"phone_home": "電話番号(自宅)", "phone_mobile": "電話番号(携帯)", "fax": "FAX", "email": "メールアドレス",
                "emergency_address": "緊急連絡先住所", "emergency_phone": "緊急連絡先電話番号",
                "emergency_name": "緊急連絡先氏名"},
    "name": {"name": "技能者氏名", "name_kana": "技能者氏名フリガナ", "name_roman": "Name", "common_name": "通称名"},
    "qualification": {"code": "資格コード", "obtained_on": "取得年月日", "certificate_number": "証明書番号"},
    "employer": {"employer_id": "新しい所属事業者の事業者ID"},
}
NOT_CHANGEABLE = {"birth_date": "生年月日", "photo": "顔写真"}
RETENTION_YEARS = 5

WITHDRAWAL_TERMS = {
    "immediately": [
        "ログインできなくなります（ログインIDは無効になります）。",
        "建設キャリアアップカードと、入退場に使う登録（ICカード・顔・電話・QRなど）は直ちに無効になります。",
        "所属事業者との関連付けはすべて取消となり、所属事業者・元請・上位下請を含むどの事業者もあなたの情報を閲覧できなくなります。",
        "開示設定はすべて非開示に戻ります。",
        "本人情報（生年月日・性別・血液型・住所・電話番号・FAX・メールアドレス・緊急連絡先・国籍・学歴・健康診断）は直ちに削除します。",
        "申請中の変更申請・カード再発行申請は取下げになります。",
    ],
    "retained": [
        f"技能者ID・氏名・技能レベル・保有資格・社会保険の加入状況・施工体制登録・就業履歴は、元請・所属事業者の法定帳簿"
        f"（施工体制台帳・作業員名簿、建設業法による保存期間）と建退共の掛金確認のため、退会日から{RETENTION_YEARS}年間保存し、"
        f"その後削除します。この間も、閲覧はシステム管理者に限られ、閲覧の記録（監査ログ）が残ります。",
        f"あなたの情報の閲覧・出力・変更の記録（監査ログ）も{RETENTION_YEARS}年間保存します。",
    ],
    "after": ["退会の取消はできません。再びご利用になる場合は、改めて技能者登録の申請が必要です。"],
}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _clean(kind: str, values: dict) -> dict:
    if kind not in CHANGE_KINDS:
        raise DomainError("unknown_change_kind", "変更の種類が正しくありません。")
    for key, label in NOT_CHANGEABLE.items():
        if key in values:
            raise DomainError("not_changeable", f"{label}は変更申請では変更できません。")
    allowed = FIELDS[kind]
    unknown = set(values) - set(allowed)
    if unknown:
        raise DomainError("unknown_change_field", f"変更できない項目が含まれています（{', '.join(sorted(unknown))}）。")
    cleaned = {k: (str(v).strip() if v is not None else "") for k, v in values.items()}
    cleaned = {k: v for k, v in cleaned.items() if v}
    if not cleaned:
        raise DomainError("empty_change", "変更する内容を入力してください。")
    if kind == "name" and "name" not in cleaned:
        raise DomainError("name_required", "技能者氏名を入力してください。")
    if kind == "address" and "address" not in cleaned:
        raise DomainError("address_required", "現住所を入力してください。")
    if kind == "qualification":
        if "code" not in cleaned:
            raise DomainError("qualification_required", "資格コードを入力してください。")
        if "obtained_on" in cleaned:
            try:
                datetime.date.fromisoformat(cleaned["obtained_on"])
            except ValueError as e:
                raise DomainError("invalid_date", "取得年月日はYYYY-MM-DDの形式で入力してください。") from e
    if kind == "employer":
        cleaned["employer_id"] = validate_ccus_id(cleaned.get("employer_id"), "employer")
    return cleaned


def file_change(session: Session, scope: Scope, kind: str, values: dict) -> ChangeRequest:
    """The worker of ``scope`` files a change request; returns it (pending)."""
    if scope.kind != "worker":
        raise DomainError("worker_only", "変更申請は技能者本人が行います。", 403)
    values = _clean(kind, values)
    worker_id = scope.worker_id
    with using_scope(session, ALL):  # reviewed lookups: the approver, the qualification code, pending requests
        if kind == "employer":
            approver = session.execute(select(Employer.id).where(Employer.employer_id == values["employer_id"])).scalar()
            if approver is None:
                raise DomainError("employer_not_found", f"事業者ID {values['employer_id']} の事業者は登録されていません。")
            if approver in disclosure.current_employer_ids(session, worker_id):
                raise DomainError("already_affiliated", "既にこの事業者の所属技能者です。")
        else:
            aff = session.execute(select(Affiliation.employer_id).where(
                Affiliation.worker_id == worker_id, Affiliation.status == "承認済").order_by(
                Affiliation.is_primary.desc(), Affiliation.id)).scalars().first()
            approver = aff  # None: no employer; the system administrator decides
        if kind == "qualification":
            if session.execute(select(Qualification.id).where(Qualification.code == values["code"])).scalar() is None:
                raise DomainError("unknown_qualification", f"資格コード {values['code']} は登録されていません。")
        pending = session.execute(select(ChangeRequest.id).where(
            ChangeRequest.worker_id == worker_id, ChangeRequest.kind == kind, ChangeRequest.status == PENDING)).scalar()
    if pending is not None:
        raise DomainError("change_pending", f"「{CHANGE_KINDS[kind]}」の申請が審査中です。承認・却下の後に申請してください。")
    with using_scope(session, scope):
        req = ChangeRequest(worker_id=worker_id, kind=kind, new_values=values, employer_id=approver, status=PENDING)
        session.add(req)
        session.flush()
    return req


def withdraw_request(session: Session, scope: Scope, request_id: int) -> ChangeRequest:
    with using_scope(session, scope):
        req = session.get(ChangeRequest, request_id)
        if req is None or req.worker_id != scope.worker_id or req.status != PENDING:
            raise DomainError("request_not_found", "取り下げできる申請が見つかりません。", 404)
        req.status, req.decided_at = WITHDRAWN, _now()
        session.flush()
    return req


def decide(session: Session, scope: Scope, request_id: int, approve: bool, decided_by: str,
           reason: str | None = None, today: datetime.date | None = None) -> ChangeRequest:
    """The approver (or an administrator) approves or rejects a pending change; approval applies it."""
    today = today or clock.tokyo_today()
    with using_scope(session, scope):
        req = session.get(ChangeRequest, request_id)
    if req is None or not (scope.is_all or (scope.kind == "employer" and not scope.site_manager
                                            and req.employer_id == scope.employer_id)):
        raise DomainError("request_not_found", "承認できる申請が見つかりません。", 404)
    if req.status != PENDING:
        raise DomainError("request_not_pending", f"この申請は既に{req.status}です。")
    if approve:
        with using_scope(session, ALL):  # reviewed: the approver is checked above; the change is the filed one
            _apply(session, req, today)
    with using_scope(session, scope):
        req.status = APPROVED if approve else REJECTED
        req.decided_at, req.decided_by = _now(), decided_by
        req.reason = None if approve else (reason or "").strip()[:300] or None
        session.flush()
    return req


def _apply(session: Session, req: ChangeRequest, today: datetime.date) -> None:
    values = req.new_values
    if req.kind in ("address", "contact"):
        personal = session.execute(select(WorkerPersonal).where(WorkerPersonal.worker_id == req.worker_id)).scalar_one_or_none()
        if personal is None:
            personal = WorkerPersonal(worker_id=req.worker_id)
            session.add(personal)
        for key in FIELDS[req.kind]:
            if key in values:
                setattr(personal, key, values[key])
    elif req.kind == "name":
        worker = session.get(Worker, req.worker_id)
        for key in FIELDS["name"]:
            if key in values:
                setattr(worker, key, values[key])
        worker.updated_on = today
    elif req.kind == "qualification":
        qualification = session.execute(select(Qualification).where(Qualification.code == values["code"])).scalar_one()
        obtained = values.get("obtained_on")
        session.add(WorkerQualification(
            worker_id=req.worker_id, qualification_id=qualification.id, certificate_number=values.get("certificate_number"),
            obtained_on=datetime.date.fromisoformat(obtained) if obtained else None, proof_attached=False))
    elif req.kind == "employer":
        change_employer(session, req.worker_id, req.employer_id, today)
    session.flush()


def change_employer(session: Session, worker_id: int, new_employer_id: int, today: datetime.date) -> None:
    """転職: cancel (取消) every current link, ending it the day before ``today`` (the day the new link starts; not
    before the link's own start), then link the new employer as 主たる所属事業者 from ``today``. Runs under the
    caller's explicit scope. Social insurance must be entered again by the new employer."""
    last = today - datetime.timedelta(days=1)
    for aff in session.execute(select(Affiliation).where(Affiliation.worker_id == worker_id,
                                                         Affiliation.status == "承認済")).scalars():
        aff.status, aff.is_primary = "取消", False
        aff.ended_on = max(last, aff.started_on or last) if aff.ended_on is None else min(aff.ended_on, max(last, aff.started_on or last))
    session.add(Affiliation(worker_id=worker_id, employer_id=new_employer_id, status="承認済", is_primary=True,
                            started_on=today))
    session.flush()


def request_reissue(session: Session, scope: Scope, reason: str, note: str | None = None) -> CardReissueRequest:
    if scope.kind != "worker":
        raise DomainError("worker_only", "カード再発行の申請は技能者本人が行います。", 403)
    if reason not in REISSUE_REASONS:
        raise DomainError("invalid_reissue_reason", f"再発行の理由は次のいずれかです: {'、'.join(REISSUE_REASONS)}。")
    with using_scope(session, scope):
        pending = session.execute(select(CardReissueRequest.id).where(
            CardReissueRequest.worker_id == scope.worker_id, CardReissueRequest.status == PENDING)).scalar()
        if pending is not None:
            raise DomainError("reissue_pending", "カード再発行の申請が処理中です。")
        req = CardReissueRequest(worker_id=scope.worker_id, reason=reason, note=(note or "").strip()[:300] or None,
                                 status=PENDING)
        session.add(req)
        session.flush()
    return req


def mark_issued(session: Session, request_id: int) -> CardReissueRequest:
    """The operator issued the new card (administrators only: run under ALL)."""
    req = session.get(CardReissueRequest, request_id)
    if req is None or req.status != PENDING:
        raise DomainError("request_not_pending", "処理できる再発行申請が見つかりません。", 404)
    req.status, req.handled_at = ISSUED, _now()
    session.flush()
    return req


def withdraw(session: Session, worker_id: int, now: datetime.datetime | None = None) -> None:
    """400_退会, exactly as :data:`WITHDRAWAL_TERMS` says. The caller has confirmed the worker's password;
    this runs under ALL (a worker may not write these rows itself)."""
    now = now or _now()
    with using_scope(session, ALL):
        worker = session.get(Worker, worker_id)
        if worker is None or worker.withdrawn_at is not None:
            raise DomainError("already_withdrawn", "既に退会しています。")
        worker.withdrawn_at = now
        for aff in session.execute(select(Affiliation).where(Affiliation.worker_id == worker_id,
                                                             Affiliation.status == "承認済")).scalars():
            aff.status, aff.ended_on, aff.is_primary = "取消", max(clock.tokyo_date(now), aff.started_on or clock.tokyo_date(now)), False
        for cred in session.execute(select(Credential).where(Credential.worker_id == worker_id,
                                                             Credential.revoked_at.is_(None))).scalars():
            cred.revoked_at = now
        disclosure.reset_consents(session, worker_id)
        for personal in session.execute(select(WorkerPersonal).where(WorkerPersonal.worker_id == worker_id)).scalars():
            session.delete(personal)
        for model in (ChangeRequest, CardReissueRequest):
            session.execute(update(model).where(model.worker_id == worker_id, model.status == PENDING)
                            .values(status=WITHDRAWN).execution_options(synchronize_session=False))
        for user in session.execute(select(PortalUser).where(PortalUser.worker_id == worker_id)).scalars():
            user.active = False
        session.flush()

