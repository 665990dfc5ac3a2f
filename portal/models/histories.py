"""就業履歴: one row per worker, site and day, derived from events and direct input by portal.history.histories.
Employer, trade, role, work content and hazardous work come from the site roster (作業員名簿) that day,
never from the device.

No foreign-key constraints on the ids, like entry/exit events (see portal.models.events): the ingest upserts a
history per event, and portal.people.validation refuses to delete what a history names."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow

NOT_COUNTED_REASONS = {
    "site_unapproved": "元請現場未承認",
    "site_unregistered": "元請現場未登録",
    "worker_not_registered": "現場未登録の技能者",
    "outside_period": "就業履歴蓄積期間外",
    "structure_gap": "上位の施工体制未登録",
    # a device event received after the day's correction deadline: stored, never counted (portal.history.histories)
    "deadline_passed": "補正期限経過",
}


class WorkHistory(Model):
    __tablename__ = "work_histories"
    __table_args__ = (UniqueConstraint("worker_id", "site_id", "work_date", name="uq_history_day"),  # and by worker
                      Index("ix_histories_site_day", "site_id", "work_date"),  # site lists, prime's scope
                      Index("ix_histories_employer_day", "employer_id", "work_date"),  # employer's monthly list
                      Index("ix_histories_work_date", "work_date", postgresql_using="brin"),  # months
                      # room on each page: the exit's update of the entry's row stays on its page (a HOT update,
                      # no new index entries), since it changes no indexed column
                      {"postgresql_with": {"fillfactor": 70}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(Integer, nullable=False)
    site_id: Mapped[Optional[int]] = mapped_column(Integer)
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    employer_id: Mapped[Optional[int]] = mapped_column(Integer)
    trade_id: Mapped[Optional[int]] = mapped_column(Integer)
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

    worker = relationship("Worker", primaryjoin="foreign(WorkHistory.worker_id) == Worker.id")
    site = relationship("Site", primaryjoin="foreign(WorkHistory.site_id) == Site.id")
    employer = relationship("Employer", primaryjoin="foreign(WorkHistory.employer_id) == Employer.id")
    trade = relationship("Trade", primaryjoin="foreign(WorkHistory.trade_id) == Trade.id")

    @property
    def not_counted_label(self) -> str:
        return NOT_COUNTED_REASONS.get(self.not_counted_reason or "", "")
