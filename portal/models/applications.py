"""The worker's own applications (申請): 350_変更 change requests, approved by the 所属事業者 (a change of
employer — 転職 — by the new employer), and 360_カード再発行 requests, handled by the system operator.
Rules live in portal.people.worker_requests. Rows are never deleted: a request ends 承認 / 却下 / 取下げ.

Scope: the worker sees and files its own; an employer sees the change requests it is asked to approve and
the reissue requests of its current workers; administrators everything."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, false, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow
from portal.people.rules import register_rule

PENDING, APPROVED, REJECTED, WITHDRAWN, ISSUED = "申請中", "承認", "却下", "取下げ", "発行済"
CHANGE_KINDS = {
    "address": "住所",
    "contact": "連絡先（電話・メール・緊急連絡先）",
    "name": "氏名",
    "qualification": "保有資格の追加",
    "employer": "所属事業者の変更（転職）",
}
REISSUE_REASONS = ["紛失", "破損・故障", "盗難", "記載事項の変更（氏名など）", "その他"]


class ChangeRequest(Model):
    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    new_values: Mapped[dict] = mapped_column(JSON, nullable=False)  # the new values, as filed
    employer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("employers.id"), index=True)  # who approves
    status: Mapped[str] = mapped_column(String(4), nullable=False, default=PENDING)
    filed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[Optional[str]] = mapped_column(String(128))
    reason: Mapped[Optional[str]] = mapped_column(String(300))  # why it was rejected

    worker = relationship("Worker")
    employer = relationship("Employer")

    @property
    def kind_label(self) -> str:
        return CHANGE_KINDS.get(self.kind, self.kind)


class CardReissueRequest(Model):
    __tablename__ = "card_reissue_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    note: Mapped[Optional[str]] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(4), nullable=False, default=PENDING)
    filed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    handled_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    worker = relationship("Worker")


def _status_only_to(obj, allowed: set) -> bool:
    """An existing row whose only change is its status, to one of ``allowed``."""
    state = inspect(obj)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    return changed <= {"status", "decided_at", "decided_by", "reason", "handled_at"} and obj.status in allowed


def _write_change(scope, obj, deleting) -> bool:
    if deleting:
        return False
    if scope.kind == "worker":  # file its own, or withdraw it while pending
        return obj.worker_id == scope.worker_id and (
            (obj.id is None and obj.status in (None, PENDING)) or _status_only_to(obj, {WITHDRAWN}))
    if scope.kind == "employer" and not scope.site_manager:  # decide what it is asked to approve
        return obj.id is not None and obj.employer_id == scope.employer_id and _status_only_to(obj, {APPROVED, REJECTED})
    return False


def _write_reissue(scope, obj, deleting) -> bool:
    if deleting or scope.kind != "worker" or obj.worker_id != scope.worker_id:
        return False
    return (obj.id is None and obj.status in (None, PENDING)) or _status_only_to(obj, {WITHDRAWN})


register_rule(
    ChangeRequest,
    read=lambda scope: ChangeRequest.worker_id == scope.worker_id if scope.kind == "worker"
    else (ChangeRequest.employer_id == scope.employer_id if not scope.site_manager else false()),
    write=_write_change,
)
register_rule(
    CardReissueRequest,
    read=lambda scope: CardReissueRequest.worker_id == scope.worker_id if scope.kind == "worker"
    else CardReissueRequest.worker_id.in_(scope.own_worker_ids),
    write=_write_reissue,
)
