"""事業者 (employers): companies and 一人親方, with a 14-digit 事業者ID."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import ccus_id_column, validate_ids_on

CORPORATE_TYPES = ["法人", "個人"]


class Employer(Model):
    __tablename__ = "employers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[str] = ccus_id_column()  # 事業者ID
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_kana: Mapped[Optional[str]] = mapped_column(String(200))
    corporate_type: Mapped[str] = mapped_column(String(4), nullable=False, default="法人")
    corporate_number: Mapped[Optional[str]] = mapped_column(String(13))  # 法人番号
    postal_code: Mapped[Optional[str]] = mapped_column(String(8))
    address: Mapped[Optional[str]] = mapped_column(String(300))
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    representative: Mapped[Optional[str]] = mapped_column(String(100))  # 登録責任者
    license_number: Mapped[Optional[str]] = mapped_column(String(40))  # 建設業許可番号
    capital_yen: Mapped[Optional[int]] = mapped_column(Integer)
    kentaikyo_contract_number: Mapped[Optional[str]] = mapped_column(String(20))  # 建退共 共済契約者番号
    health_insurance_office_no: Mapped[Optional[str]] = mapped_column(String(40))  # 事業所整理記号
    pension_office_no: Mapped[Optional[str]] = mapped_column(String(40))
    employment_insurance_office_no: Mapped[Optional[str]] = mapped_column(String(40))
    registered_on: Mapped[Optional[datetime.date]] = mapped_column(Date)

    def __str__(self) -> str:
        return f"{self.name}（{self.employer_id}）"


validate_ids_on(Employer, "employer_id", "employer")
