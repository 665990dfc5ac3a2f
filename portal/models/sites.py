"""現場 (sites), registered by the prime contractor (元請). 現場情報 is required; 契約情報 and 工事情報 optional."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import ccus_id_column, validate_ids_on

ORDER_TYPES = ["公共工事(国)", "公共工事(都道府県)", "公共工事(市区町村)", "公共工事(その他)", "民間工事"]
WORK_CATEGORIES = ["建築・住宅工事", "土木工事", "電気・空調衛生・その他工事"]


class Site(Model):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = ccus_id_column()  # 現場ID
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    prime_employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)
    # 現場情報
    order_type: Mapped[Optional[str]] = mapped_column(String(20))  # 発注区分
    accumulation_start: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 就業履歴蓄積期間
    accumulation_end: Mapped[Optional[datetime.date]] = mapped_column(Date)
    hazardous_substances: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 有害物質取扱いの有無
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)  # 元請による現場承認
    # the first day the prime's approval holds (None: every day; an approval also accepts the open days before
    # it, as CCUS does, while closed days keep their stored rows: portal.history.histories)
    approved_on: Mapped[Optional[datetime.date]] = mapped_column(Date)
    # 契約情報
    location: Mapped[Optional[str]] = mapped_column(String(300))  # 施工場所
    client_name: Mapped[Optional[str]] = mapped_column(String(200))  # 発注者名
    contract_form: Mapped[Optional[str]] = mapped_column(String(40))  # 受注形態
    contract_start: Mapped[Optional[datetime.date]] = mapped_column(Date)
    contract_end: Mapped[Optional[datetime.date]] = mapped_column(Date)
    # 工事情報
    work_category: Mapped[Optional[str]] = mapped_column(String(40))  # 工事区分
    work_content: Mapped[Optional[str]] = mapped_column(String(200))  # 工事内容
    site_agent: Mapped[Optional[str]] = mapped_column(String(100))  # 現場代理人 (所長名)
    # Raised (portal.history.roster_changes) whenever something a history of this site is derived from changes: the
    # ingest keeps the site's roster in memory until it does.
    roster_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # 最長勤務時間（夜間工事）: how long a shift may run from its first tap, across midnight (portal.history.shifts)
    max_shift_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=16, server_default="16")

    prime_employer = relationship("Employer")

    def accumulates_on(self, day: datetime.date) -> bool:
        """Whether ``day`` lies in the 就業履歴蓄積期間 (open ends count as unbounded)."""
        return (self.accumulation_start is None or day >= self.accumulation_start) and (
            self.accumulation_end is None or day <= self.accumulation_end
        )

    def __str__(self) -> str:
        return f"{self.name}（{self.site_id}）"


validate_ids_on(Site, "site_id", "site")


@event.listens_for(Site.max_shift_hours, "set", retval=True)
def _check_max_shift_hours(target, value, oldvalue, initiator):  # noqa: ARG001
    """Whatever the path (form, API, import): empty means the default; otherwise whole hours in range."""
    from portal.history import shifts

    if value is None or value == "":
        return shifts.DEFAULT_MAX_SHIFT_HOURS
    shifts.check_max_shift_hours(value)
    return value


class SiteManagerAssignment(Model):
    """A 現場管理者 user assigned to a site: it sees and manages only its assigned sites."""

    __tablename__ = "site_manager_assignments"
    __table_args__ = (UniqueConstraint("site_id", "user_id", name="uq_site_manager"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)

    site = relationship("Site")
    user = relationship("PortalUser")
