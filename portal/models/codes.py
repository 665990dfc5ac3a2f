"""Code tables: trades (職種, 大分類-小分類) and qualifications (保有資格, 5-digit codes). Seeded from the shipped
partial lists; administrators import the official full lists from CSV (portal.codes_import)."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

QUALIFICATION_CATEGORIES = ["技能士", "免許・資格", "技能講習", "特別教育", "その他安全衛生講習", "研修等", "表彰", "登録基幹技能者"]


class Trade(Model):
    """職種. Work history is stored by 小分類 (minor) code. Codes are sparse: never generate them by counting."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("major_code", "minor_code", name="uq_trade_codes"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    major_code: Mapped[str] = mapped_column(String(2), nullable=False)
    major_name: Mapped[str] = mapped_column(String(100), nullable=False)
    minor_code: Mapped[str] = mapped_column(String(2), nullable=False)
    minor_name: Mapped[str] = mapped_column(String(100), nullable=False)
    evaluation_field: Mapped[Optional[str]] = mapped_column(String(100))  # 能力評価分野, None if not judgeable

    @property
    def code(self) -> str:
        return f"{self.major_code}-{self.minor_code}"

    def __str__(self) -> str:
        return f"{self.major_code}-{self.minor_code} {self.major_name}・{self.minor_name}"


class Qualification(Model):
    """A qualification code (資格コード, 5 digits). Judging bodies match the exact code."""

    __tablename__ = "qualifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(5), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[Optional[str]] = mapped_column(String(40))

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
