"""技能者 (skilled workers) and their affiliation (所属) with employers.

The record is split by who may read it: ``Worker`` carries what a site roster (作業員名簿) shows; the personal
items (address, phones, date of birth …) live in ``WorkerPersonal``, which row-level scoping shows only to the
worker, the current employers and administrators. Disclosure to anyone else goes through portal.people.disclosure.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import ccus_id_column, utcnow, validate_ids_on

LEVELS = {1: "1(白)", 2: "2(青)", 3: "3(銀)", 4: "4(金)"}
REGISTRATION_TYPES = ["簡略型", "詳細型"]
INSURANCE_STATUSES = ["加入", "未加入", "適用除外"]
AFFILIATION_STATUSES = ["承認済", "取消"]
AFFILIATION_CHANGES = {("承認済", "取消")}  # 取消 is final (portal.people.validation): a new link is a new request


class Worker(Model):
    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[str] = ccus_id_column()  # 技能者ID, also the login ID
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_kana: Mapped[Optional[str]] = mapped_column(String(100))
    name_roman: Mapped[Optional[str]] = mapped_column(String(100))
    common_name: Mapped[Optional[str]] = mapped_column(String(100))  # 通称名
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # 技能レベル 1–4
    level_since: Mapped[Optional[datetime.date]] = mapped_column(Date)
    registration_type: Mapped[str] = mapped_column(String(4), nullable=False, default="詳細型")
    identity_document: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)  # 本人確認書類
    card_expires_on: Mapped[Optional[datetime.date]] = mapped_column(Date)
    registered_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 初回登録日
    updated_on: Mapped[Optional[datetime.date]] = mapped_column(Date)
    withdrawn_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))  # 退会

    personal: Mapped[Optional["WorkerPersonal"]] = relationship(back_populates="worker", uselist=False)
    insurance: Mapped[Optional["WorkerInsurance"]] = relationship(back_populates="worker", uselist=False)
    trades: Mapped[list["WorkerTrade"]] = relationship(back_populates="worker", order_by="WorkerTrade.position")
    qualifications: Mapped[list["WorkerQualification"]] = relationship(back_populates="worker")
    awards: Mapped[list["WorkerAward"]] = relationship(back_populates="worker")
    affiliations: Mapped[list["Affiliation"]] = relationship(back_populates="worker")

    @property
    def trade_names(self) -> str:
        return "、".join(str(t) for t in self.trades)

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, str(self.level))

    def __str__(self) -> str:
        return f"{self.name}（{self.worker_id}）"


validate_ids_on(Worker, "worker_id", "worker")


class WorkerPersonal(Model):
    """本人情報: the personal items. The date of birth cannot be changed by a change request."""

    __tablename__ = "worker_personal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), unique=True, nullable=False)
    birth_date: Mapped[Optional[datetime.date]] = mapped_column(Date)
    sex: Mapped[Optional[str]] = mapped_column(String(4))
    blood_type: Mapped[Optional[str]] = mapped_column(String(4))
    postal_code: Mapped[Optional[str]] = mapped_column(String(8))
    address: Mapped[Optional[str]] = mapped_column(String(300))
    phone_home: Mapped[Optional[str]] = mapped_column(String(20))
    phone_mobile: Mapped[Optional[str]] = mapped_column(String(20))
    fax: Mapped[Optional[str]] = mapped_column(String(20))
    email: Mapped[Optional[str]] = mapped_column(String(200))
    emergency_address: Mapped[Optional[str]] = mapped_column(String(300))
    emergency_phone: Mapped[Optional[str]] = mapped_column(String(20))
    emergency_name: Mapped[Optional[str]] = mapped_column(String(100))
    nationality: Mapped[Optional[str]] = mapped_column(String(40))
    education: Mapped[Optional[str]] = mapped_column(String(200))  # 学歴・指定学科 (self-declared)
    health_check_major: Mapped[Optional[str]] = mapped_column(String(60))  # 健康診断 大分類
    health_check_minor: Mapped[Optional[str]] = mapped_column(String(60))
    health_check_date: Mapped[Optional[datetime.date]] = mapped_column(Date)

    worker: Mapped[Worker] = relationship(back_populates="personal")

    def __str__(self) -> str:
        return f"本人情報: {self.worker}" if self.worker else "本人情報"


class WorkerInsurance(Model):
    """社会保険・退職金共済: a 作業員名簿 item. Each insurance: 加入 / 未加入 / 適用除外 (with a reason) and type."""

    __tablename__ = "worker_insurance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), unique=True, nullable=False)
    health_status: Mapped[str] = mapped_column(String(8), nullable=False, default="未加入")
    health_type: Mapped[Optional[str]] = mapped_column(String(40))  # 健康保険組合, 協会けんぽ, 国民健康保険 …
    health_exemption_reason: Mapped[Optional[str]] = mapped_column(String(100))
    pension_status: Mapped[str] = mapped_column(String(8), nullable=False, default="未加入")
    pension_type: Mapped[Optional[str]] = mapped_column(String(40))  # 厚生年金, 国民年金 …
    pension_exemption_reason: Mapped[Optional[str]] = mapped_column(String(100))
    employment_status: Mapped[str] = mapped_column(String(8), nullable=False, default="未加入")
    employment_number_last4: Mapped[Optional[str]] = mapped_column(String(4))
    employment_exemption_reason: Mapped[Optional[str]] = mapped_column(String(100))
    kentaikyo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 建退共
    kentaikyo_number: Mapped[Optional[str]] = mapped_column(String(20))  # 被共済者番号
    chutaikyo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 中退共
    rousai_special: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 労災保険特別加入

    worker: Mapped[Worker] = relationship(back_populates="insurance")

    def __str__(self) -> str:
        return f"社会保険: {self.worker}" if self.worker else "社会保険"


class WorkerTrade(Model):
    """職種 held by a worker: up to 4 at once (domain.md §3)."""

    __tablename__ = "worker_trades"
    __table_args__ = (UniqueConstraint("worker_id", "trade_id", name="uq_worker_trade"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # 1–4, 1 = main trade
    experience_years: Mapped[Optional[int]] = mapped_column(Integer)

    worker: Mapped[Worker] = relationship(back_populates="trades")
    trade = relationship("Trade")

    def __str__(self) -> str:
        return str(self.trade) if self.trade else ""


class WorkerQualification(Model):
    """保有資格, including 登録基幹技能者 (category) with its completion date. Held from 取得年月日 (or, without
    one, from the day it was registered) until 有効期限."""

    __tablename__ = "worker_qualifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False)
    qualification_id: Mapped[int] = mapped_column(ForeignKey("qualifications.id"), nullable=False)
    obtained_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 取得年月日
    expires_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 有効期限 (the last day it holds)
    # when it was registered: without 取得年月日 it holds from this day (Tokyo), never before; None: registered
    # before this was recorded (held as before: from 取得年月日, or always)
    created_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True), default=utcnow)
    certificate_number: Mapped[Optional[str]] = mapped_column(String(40))
    proof_attached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 証

    worker: Mapped[Worker] = relationship(back_populates="qualifications")
    qualification = relationship("Qualification")

    def __str__(self) -> str:
        return str(self.qualification) if self.qualification else ""


class WorkerAward(Model):
    """表彰."""

    __tablename__ = "worker_awards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    awarded_on: Mapped[Optional[datetime.date]] = mapped_column(Date)

    worker: Mapped[Worker] = relationship(back_populates="awards")


class Affiliation(Model):
    """所属: the employer–worker link. 承認済 gates the 作業員名簿 and the employer's access; 取消 ends the
    employer's access at once. Past links are kept (the worker sees them; no employer sees another's).
    For the histories a link is a fact with a period: it held from ``started_on`` (None: the day it was
    recorded) until ``ended_on``, also once 取消 (a 取消 link without ``ended_on`` never held)."""

    __tablename__ = "affiliations"
    # (worker, employer), not the worker alone: the scope's "its own workers" probes a worker's link to one
    # employer for every worker it lists; with two single-column indexes a database without statistics (a new
    # SQLite installation) took the employer's, reading all of its links for each worker (3,000 workers: 9
    # million rows for one report)
    __table_args__ = (Index("ix_affiliations_worker_employer", "worker_id", "employer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(4), nullable=False, default="承認済")
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)  # 主たる所属事業者
    started_on: Mapped[Optional[datetime.date]] = mapped_column(Date)
    ended_on: Mapped[Optional[datetime.date]] = mapped_column(Date)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    worker: Mapped[Worker] = relationship(back_populates="affiliations")
    employer = relationship("Employer")

    def __str__(self) -> str:
        return f"{self.employer} – {self.worker}（{self.status}）"
