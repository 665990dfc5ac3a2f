"""事業者 (employers): companies and 一人親方, with a 14-digit 事業者ID.

The record is split by who may read it, like the worker's: ``Employer`` is the directory every login reads
(事業者ID, name, address: what the national 登録事業者検索 shows, and what a related-field dropdown names);
``EmployerDetail`` carries the rest (representative, insurance office numbers, the 建退共 contract number …),
which row-level scoping shows only to the employer itself and administrators, on every path (screens, show
pages, REST, nested objects, filters)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import ccus_id_column, validate_ids_on
from portal.people.rules import register_rule

CORPORATE_TYPES = ["法人", "個人"]
DETAIL_COLUMNS = ("corporate_number", "phone", "representative", "license_number", "capital_yen",
                  "kentaikyo_contract_number", "health_insurance_office_no", "pension_office_no",
                  "employment_insurance_office_no", "registered_on")


class Employer(Model):
    __tablename__ = "employers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[str] = ccus_id_column()  # 事業者ID
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_kana: Mapped[Optional[str]] = mapped_column(String(200))
    corporate_type: Mapped[str] = mapped_column(String(4), nullable=False, default="法人")
    postal_code: Mapped[Optional[str]] = mapped_column(String(8))
    address: Mapped[Optional[str]] = mapped_column(String(300))

    detail: Mapped[Optional["EmployerDetail"]] = relationship(back_populates="employer", uselist=False)

    def __str__(self) -> str:
        return f"{self.name}（{self.employer_id}）"


validate_ids_on(Employer, "employer_id", "employer")


class EmployerDetail(Model):
    """事業者の登録内容 (非公開): only the employer itself and administrators read or change it."""

    __tablename__ = "employer_details"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), unique=True, nullable=False)
    corporate_number: Mapped[Optional[str]] = mapped_column(String(13))  # 法人番号
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    representative: Mapped[Optional[str]] = mapped_column(String(100))  # 登録責任者
    license_number: Mapped[Optional[str]] = mapped_column(String(40))  # 建設業許可番号
    capital_yen: Mapped[Optional[int]] = mapped_column(Integer)
    kentaikyo_contract_number: Mapped[Optional[str]] = mapped_column(String(20))  # 建退共 共済契約者番号
    health_insurance_office_no: Mapped[Optional[str]] = mapped_column(String(40))  # 事業所整理記号
    pension_office_no: Mapped[Optional[str]] = mapped_column(String(40))
    employment_insurance_office_no: Mapped[Optional[str]] = mapped_column(String(40))
    registered_on: Mapped[Optional[datetime.date]] = mapped_column(Date)

    employer: Mapped[Employer] = relationship(back_populates="detail")

    def __str__(self) -> str:
        return f"登録内容: {self.employer}" if self.employer else "登録内容"


def _own(scope, obj) -> bool:
    employer = obj.employer_id if obj.employer_id is not None else getattr(obj.employer, "id", None)
    return scope.kind == "employer" and employer == scope.employer_id


register_rule(
    EmployerDetail,
    read=lambda scope: EmployerDetail.employer_id == scope.employer_id if scope.kind == "employer" else false(),
    write=lambda scope, obj, deleting: _own(scope, obj) and not scope.site_manager and not deleting,
)
