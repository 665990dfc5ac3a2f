"""施工体制 (the subcontract structure of a site) and 施工体制技能者登録 (the site roster, 作業員名簿).

The upper company invites (招待中); the link exists only once the lower company approves (承認済). The prime
contractor is tier 0 (Site.prime_employer); a link's ``tier`` is the lower company's tier (1次, 2次 …).

Both are facts with periods (portal.history.histories reads what held on each work day): a link held from its approval
(approved_at, Tokyo date) until ``ended_on`` (set when it is ended, 解除); a roster row from ``start_date`` until
``end_date``. An edit of a roster row's trade, role, work content, hazardous work or employer is a new fact: the
old row ends the day before the edit's 適用開始日 and a new row starts that day (portal.history.roster_changes).
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow

LINK_STATUSES = ["招待中", "承認済", "否認", "解除"]
POSITIONS = ["職長", "班長", "安全衛生責任者", "主任技術者", "監理技術者", "一般"]  # 立場; only 職長/班長 count for L3/L4


class StructureLink(Model):
    __tablename__ = "structure_links"
    __table_args__ = (UniqueConstraint("site_id", "lower_employer_id", name="uq_structure_lower"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    upper_employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False)
    lower_employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False)
    tier: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(4), nullable=False, default="招待中")
    invited_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    work_scope: Mapped[Optional[str]] = mapped_column(String(200))  # 担当工事内容
    contract_amount_yen: Mapped[Optional[int]] = mapped_column(Integer)
    # the last day the link held (set when it is ended: 解除); it held from approved_at's Tokyo date
    ended_on: Mapped[Optional[datetime.date]] = mapped_column(Date)

    site = relationship("Site")
    upper_employer = relationship("Employer", foreign_keys=[upper_employer_id])
    lower_employer = relationship("Employer", foreign_keys=[lower_employer_id])

    def __str__(self) -> str:
        return f"{self.site}: {self.upper_employer} → {self.lower_employer}（{self.tier}次・{self.status}）"


class SiteWorkerRegistration(Model):
    """施工体制技能者登録: the employer puts its own worker on a site with trade, role (立場), work content and
    hazardous work. The history takes these from here, never from the device."""

    __tablename__ = "site_worker_registrations"
    __table_args__ = (UniqueConstraint("site_id", "worker_id", "start_date", name="uq_site_worker_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)
    trade_id: Mapped[Optional[int]] = mapped_column(ForeignKey("trades.id"))
    position: Mapped[Optional[str]] = mapped_column(String(20))  # 立場
    work_content: Mapped[Optional[str]] = mapped_column(String(200))  # 作業内容
    hazardous_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    start_date: Mapped[Optional[datetime.date]] = mapped_column(Date)
    end_date: Mapped[Optional[datetime.date]] = mapped_column(Date)
    entry_education_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 受入教育実施年月日
    # when the row was recorded: it does not reach days already closed then (None: recorded before this was kept)
    created_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True), default=utcnow)

    site = relationship("Site")
    worker = relationship("Worker")
    employer = relationship("Employer")
    trade = relationship("Trade")

    # 適用開始日 of an edit (not stored): set by the edit screen, read by portal.history.roster_changes; None: today
    effective_from = None

    def active_on(self, day: datetime.date) -> bool:
        return (self.start_date is None or day >= self.start_date) and (self.end_date is None or day <= self.end_date)

    def __str__(self) -> str:
        return f"{self.site} / {self.worker}"
