"""就業履歴: one row per worker, site and day, derived from events and direct input by portal.histories.
Employer, trade, role, work content and hazardous work come from the site roster (作業員名簿) that day,
never from the device."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow

NOT_COUNTED_REASONS = {
    "site_unapproved": "元請現場未承認",
    "site_unregistered": "元請現場未登録",
    "worker_not_registered": "現場未登録の技能者",
    "outside_period": "就業履歴蓄積期間外",
    "structure_gap": "上位の施工体制未登録",
}


class WorkHistory(Model):
    __tablename__ = "work_histories"
    __table_args__ = (UniqueConstraint("worker_id", "site_id", "work_date", name="uq_history_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    site_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sites.id"), index=True)
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    employer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("employers.id"), index=True)
    trade_id: Mapped[Optional[int]] = mapped_column(ForeignKey("trades.id"))
    position: Mapped[Optional[str]] = mapped_column(String(20))
    work_content: Mapped[Optional[str]] = mapped_column(String(200))
    hazardous_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    qualifications: Mapped[Optional[list]] = mapped_column(JSON)  # snapshot of qualification codes that day
    methods: Mapped[str] = mapped_column(String(60), nullable=False, default="")  # IC,顔,電話,QR,直接 …
    first_entry_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    last_exit_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    counted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 計上
    not_counted_reason: Mapped[Optional[str]] = mapped_column(String(30))
    valid_for_evaluation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    invalid_reason: Mapped[Optional[str]] = mapped_column(String(100))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    worker = relationship("Worker")
    site = relationship("Site")
    employer = relationship("Employer")
    trade = relationship("Trade")

    @property
    def not_counted_label(self) -> str:
        return NOT_COUNTED_REASONS.get(self.not_counted_reason or "", "")
