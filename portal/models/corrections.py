"""直接入力・事後補正: a request by the worker or its employer's 事業者責任者 to add a day (直接入力) or change one
(事後補正), which counts only once the site's prime contractor (元請) approves it. A request may name a site not
registered yet (free-text name); its 現場ID is attached later. Rules live in portal.history.corrections.

Scope: the worker sees its own requests; an employer those of its current workers, those filed under it (a day
on which it was the worker's employer, also after a 転職) and, to approve them, those on the sites where it is
the prime (a 現場管理者: its assigned prime sites only). Rows are never deleted: the
``trail`` keeps every step (who, when, before, after)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, false, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow
from portal.people.rules import register_rule

STATUS_PENDING, STATUS_APPROVED, STATUS_REJECTED = "未承認", "承認済", "否認"
CORRECTION_STATUSES = [STATUS_PENDING, STATUS_APPROVED, STATUS_REJECTED]
KINDS = {"direct": "直接入力", "correction": "事後補正"}
REASONS = {  # accepted reasons (domain.md §12.5)
    "card_forgotten": "カード忘れ",
    "device_fault": "カードリーダー故障・通信不良",
    "not_on_roster": "作業員名簿への登録漏れ",
    "site_unregistered": "現場未登録（現場IDは後日付与）",
    "change_details": "職種・立場・作業内容の変更",
    "other": "その他",
}
REQUESTER_KINDS = {"worker": "技能者本人", "employer": "所属事業者（事業者責任者）"}


class WorkCorrection(Model):
    __tablename__ = "work_corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="direct")
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    employer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("employers.id"), index=True)  # 所属事業者 that day
    site_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sites.id"), index=True)  # None: site not registered yet
    site_name: Mapped[Optional[str]] = mapped_column(String(200))  # as entered, for a site without a 現場ID
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    work_month: Mapped[str] = mapped_column(String(7), nullable=False, index=True)  # "YYYY-MM", for month filters
    trade_id: Mapped[Optional[int]] = mapped_column(ForeignKey("trades.id"))
    position: Mapped[Optional[str]] = mapped_column(String(20))  # 立場
    work_content: Mapped[Optional[str]] = mapped_column(String(200))
    hazardous_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reason: Mapped[str] = mapped_column(String(30), nullable=False)
    note: Mapped[Optional[str]] = mapped_column(String(500))
    requested_by_kind: Mapped[str] = mapped_column(String(10), nullable=False)  # worker / employer
    requested_by_user_id: Mapped[Optional[int]] = mapped_column(Integer)  # no FK: a deleted login keeps its trail
    requested_by_name: Mapped[str] = mapped_column(String(128), nullable=False)
    requested_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    status: Mapped[str] = mapped_column(String(4), nullable=False, default=STATUS_PENDING, index=True)
    decided_by_user_id: Mapped[Optional[int]] = mapped_column(Integer)
    decided_by_name: Mapped[Optional[str]] = mapped_column(String(128))
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[Optional[str]] = mapped_column(String(500))
    trail: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{at, by, action, before, after}]

    worker = relationship("Worker")
    employer = relationship("Employer")
    site = relationship("Site")
    trade = relationship("Trade")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def requested_by_label(self) -> str:
        return f"{REQUESTER_KINDS.get(self.requested_by_kind, self.requested_by_kind)}: {self.requested_by_name}"

    @property
    def site_label(self) -> str:
        return str(self.site) if self.site is not None else f"{self.site_name or ''}（現場ID未付与）"

    @property
    def trail_text(self) -> str:
        return "\n".join(f"{t.get('at', '')} {t.get('by', '')} {t.get('action', '')}" for t in self.trail or [])

    def __str__(self) -> str:
        return f"{self.kind_label} {self.work_date} {self.worker}（{self.status}）"


def _read(scope):
    if scope.kind == "worker":
        return WorkCorrection.worker_id == scope.worker_id
    return or_(WorkCorrection.worker_id.in_(scope.own_worker_ids),
               WorkCorrection.site_id.in_(scope.prime_site_ids),
               # a former employer's request for its own past day (the day before a 転職 is still its day)
               WorkCorrection.employer_id == scope.employer_id if not scope.site_manager else false())


def _write(scope, obj, deleting):
    # Never deleted (the trail is the record); which transition is allowed is decided in portal.history.corrections.
    if deleting:
        return False
    if scope.kind == "worker":
        return obj.worker_id == scope.worker_id
    return (obj.worker_id in scope.own_worker_ids or obj.site_id in scope.prime_site_ids
            or (not scope.site_manager and obj.employer_id == scope.employer_id))


register_rule(WorkCorrection, read=_read, write=_write)
