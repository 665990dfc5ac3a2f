"""安全書類 (全建統一様式) data the portal lacked: what the forms print and nothing more.

Per company: its 建設業許可 (one row per 業種). Its insurances' 事業所整理記号 stay in EmployerDetail.
Per site and company: the contract (工期, 契約日, 注文者) and the responsible persons (現場代理人, 監理技術者 /
主任技術者, 専門技術者, 安全衛生責任者, 職長 …). Per worker: what the 作業員名簿 (第5号) asks beyond the CCUS record
(雇入年月日, 血圧, 特殊健康診断, 教育・技能講習・免許) and the foreign-worker status (its ※記号).

Privacy (portal.safety_privacy): no column holds a 健康保険の記号・番号 or a 基礎年金番号, and the 雇用保険 number
only as its last 4 digits (WorkerInsurance.employment_number_last4).

Who reads what:
- a 建設業許可 is public (国交省の建設業者検索): every company reads it; only the company itself writes it;
- a site's contract and persons of a company: the company itself, the prime of the site and every company above
  it on that site (Scope.lower_by_site: the branch each company sees on the 施工体系図); the company itself writes
  them (its 事業者責任者, or its 現場管理者 on the assigned sites);
- the worker items: like every row of a worker's record (portal.models.disclosure.MODEL_ITEMS), through
  portal.people.scoping.item_readers; the forms print them cell by cell through portal.people.disclosure.may_see.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, and_, false, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.people.rules import register_rule

LICENSE_AUTHORITIES = ["大臣", "知事"]
LICENSE_KINDS = ["特定", "一般"]
# 建設業法の29業種 (別表第一), as printed in 許可業種
LICENSE_TRADES = ["土木一式", "建築一式", "大工", "左官", "とび・土工・コンクリート", "石", "屋根", "電気", "管",
                  "タイル・れんが・ブロック", "鋼構造物", "鉄筋", "舗装", "しゅんせつ", "板金", "ガラス", "塗装", "防水",
                  "内装仕上", "機械器具設置", "熱絶縁", "電気通信", "造園", "さく井", "建具", "水道施設", "消防施設", "清掃施設",
                  "解体"]
# The persons of a company on a site the forms name (第1号-甲, 第3号, 第4号)
STAFF_ROLES = ["現場代理人", "監督員", "監理技術者", "監理技術者補佐", "主任技術者", "専門技術者", "登録基幹技能者",
               "安全衛生責任者", "安全衛生推進者", "雇用管理責任者", "職長", "元方安全衛生管理者", "統括安全衛生責任者"]
# ※記号 of the 作業員名簿 for foreign workers (改訂第6版: 外国人建設就労者 is gone with its 在留資格)
FOREIGN_STATUSES = ["外国人技能実習生", "1号特定技能外国人"]
FOREIGN_MARKS = {"外国人技能実習生": "習", "1号特定技能外国人": "1特"}


class ConstructionLicense(Model):
    """建設業許可: one 業種 of a company's licence (大臣/知事, 特定/一般, 許可番号, 許可(更新)年月日)."""

    __tablename__ = "construction_licenses"
    __table_args__ = (UniqueConstraint("employer_id", "trade", name="uq_license_trade"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), nullable=False, index=True)
    trade: Mapped[str] = mapped_column(String(20), nullable=False)  # 許可業種
    authority: Mapped[str] = mapped_column(String(4), nullable=False, default="知事")  # 大臣 / 知事
    kind: Mapped[str] = mapped_column(String(4), nullable=False, default="一般")  # 特定 / 一般
    # 許可番号: 都道府県コード or 大臣 (00) and the 6-digit number, printed 「東京都知事許可(般-5)第123456号」
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    granted_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 許可(更新)年月日

    employer = relationship("Employer")

    @property
    def text(self) -> str:
        return f"{self.trade}工事業 {self.authority}許可({self.kind[0]}) 第{self.number}号"

    def __str__(self) -> str:
        return self.text


class SiteContract(Model):
    """A company's contract for a site: with its 注文者 (the upper company; the 発注者 for the prime)."""

    __tablename__ = "site_contracts"
    __table_args__ = (UniqueConstraint("site_id", "employer_id", name="uq_site_contract"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)
    orderer_name: Mapped[Optional[str]] = mapped_column(String(200))  # 注文者名
    contracted_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 注文者との契約日
    period_start: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 工期 自
    period_end: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 工期 至
    work_content: Mapped[Optional[str]] = mapped_column(String(200))  # 工事内容
    specialty_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 特定専門工事
    # when a 施工体制台帳 is required (reports.safety.thresholds) and how long the documents are kept
    amount: Mapped[Optional[int]] = mapped_column(BigInteger)  # 請負代金額 (円, 税込)
    general_building: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 建築一式工事
    public_work: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 公共工事 (the prime's contract)
    handed_over_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 引渡し日 (the prime's contract)

    site = relationship("Site")
    employer = relationship("Employer")

    def __str__(self) -> str:
        return f"{self.site} / {self.employer}"


class SiteStaff(Model):
    """One responsible person of a company on a site (a role: 現場代理人, 主任技術者 …)."""

    __tablename__ = "site_staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)  # 役割
    person_name: Mapped[str] = mapped_column(String(100), nullable=False)  # 氏名
    full_time: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 専任
    qualification: Mapped[Optional[str]] = mapped_column(String(200))  # 資格内容
    work_scope: Mapped[Optional[str]] = mapped_column(String(200))  # 担当工事内容 / 権限及び意見申出方法

    site = relationship("Site")
    employer = relationship("Employer")

    def __str__(self) -> str:
        return f"{self.role}: {self.person_name}"


class WorkerSafetyRecord(Model):
    """What the 作業員名簿 asks of a worker beyond the CCUS record: kept by its current 所属事業者."""

    __tablename__ = "worker_safety_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), unique=True, nullable=False)
    hired_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 雇入年月日 (by the current employer)
    blood_pressure_high: Mapped[Optional[int]] = mapped_column(Integer)  # 血圧 最高
    blood_pressure_low: Mapped[Optional[int]] = mapped_column(Integer)  # 血圧 最低
    special_check_kind: Mapped[Optional[str]] = mapped_column(String(60))  # 特殊健康診断 種類
    special_check_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 特殊健康診断日
    hire_education_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 雇入時教育
    foreman_education_on: Mapped[Optional[datetime.date]] = mapped_column(Date)  # 職長教育
    special_education: Mapped[Optional[str]] = mapped_column(String(300))  # 特別教育 (names, 、-separated)
    skill_training: Mapped[Optional[str]] = mapped_column(String(300))  # 技能講習
    licenses: Mapped[Optional[str]] = mapped_column(String(300))  # 免許

    worker = relationship("Worker")

    def __str__(self) -> str:
        return f"名簿情報: {self.worker}" if self.worker else "名簿情報"


class WorkerForeignStatus(Model):
    """外国人技能実習生 / 1号特定技能外国人: a 国籍 item (not a 名簿 item), so another company sees it only with
    consent; the employer's own 名簿 and the 通知書's 有無 use it."""

    __tablename__ = "worker_foreign_status"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # FOREIGN_STATUSES

    worker = relationship("Worker")

    @property
    def mark(self) -> str:
        return FOREIGN_MARKS.get(self.status, "")

    def __str__(self) -> str:
        return self.status


# 提出 → 承認 / 差戻し of a company's 再下請負通知書 and 作業員名簿 for a site (reports.safety.submission)
SUBMITTED, RETURNED, APPROVED = "提出済", "差戻し", "承認済"
SUBMISSION_STATUSES = [SUBMITTED, RETURNED, APPROVED]
# 差戻し理由: a pick list plus free text (a free text alone lets the same 差戻し recur: forms.md §3.3)
RETURN_REASONS = ["記載漏れ", "記載誤り", "添付書類の不足", "資格・教育の不足", "社会保険の未加入", "その他"]


class SafetySubmission(Model):
    """One company's form (AZ5 再下請負通知書 / AZ6 作業員名簿) for one site, submitted to its upper company;
    approval freezes ``snapshot`` (the form as the company submitted it), which later edits do not change."""

    __tablename__ = "safety_submissions"
    __table_args__ = (UniqueConstraint("site_id", "employer_id", "form", name="uq_safety_submission"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False, index=True)  # 提出する会社
    upper_employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), nullable=False)  # 提出先（直近上位）
    form: Mapped[str] = mapped_column(String(4), nullable=False)  # AZ5 / AZ6
    status: Mapped[str] = mapped_column(String(4), nullable=False)  # SUBMISSION_STATUSES
    submitted_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[Optional[str]] = mapped_column(String(100))  # the login that submitted
    submitted_by_proxy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 元請の代行
    decided_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[Optional[str]] = mapped_column(String(100))
    decided_by_proxy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 元請が上位に代わって
    return_reason: Mapped[Optional[str]] = mapped_column(String(20))  # RETURN_REASONS
    return_note: Mapped[Optional[str]] = mapped_column(String(500))  # 差戻し理由の補足
    snapshot: Mapped[Optional[dict]] = mapped_column(JSON)  # the approved form
    snapshot_day: Mapped[Optional[datetime.date]] = mapped_column(Date)

    def __str__(self) -> str:
        return f"{self.form} {self.status}"


# --- scope rules ----------------------------------------------------------------------------------------------

def _ref(obj, column: str):
    from portal.people.scoping import ref

    return ref(obj, column)


def _own_company(scope, obj, deleting: bool) -> bool:  # noqa: ARG001
    return scope.kind == "employer" and _ref(obj, "employer_id") == scope.employer_id and not scope.site_manager


def branch(scope, model):
    """Rows of (site, company) pairs on the viewer's branch: its own, and on each participating site those of the
    companies at or below it (the prime: the whole tree)."""
    if scope.kind != "employer":
        return false()
    conds = [] if scope.site_manager else [model.employer_id == scope.employer_id]
    conds += [and_(model.site_id == site, model.employer_id.in_(below)) for site, below in scope.lower_by_site]
    return or_(false(), *conds)


def _own_on_site(scope, obj, deleting: bool) -> bool:  # noqa: ARG001
    return (scope.kind == "employer" and _ref(obj, "employer_id") == scope.employer_id
            and _ref(obj, "site_id") in scope.participating_site_ids)


def _items(model):
    def read(scope):
        from portal.people.scoping import item_readers  # here: portal.people.scoping imports the models

        return model.worker_id.in_(item_readers(scope, model))
    return read


def _own_worker(scope, obj, deleting: bool) -> bool:  # noqa: ARG001
    return scope.kind == "employer" and _ref(obj, "worker_id") in scope.own_worker_ids


register_rule(ConstructionLicense, read=lambda scope: ConstructionLicense.id.is_not(None) if scope.kind == "employer"
              else false(), write=_own_company)
register_rule(SiteContract, read=lambda scope: branch(scope, SiteContract), write=_own_on_site)
register_rule(SiteStaff, read=lambda scope: branch(scope, SiteStaff), write=_own_on_site)
register_rule(WorkerSafetyRecord, read=_items(WorkerSafetyRecord), write=_own_worker)


def _party(scope, obj, deleting: bool) -> bool:  # noqa: ARG001
    """The company itself (submits), its upper company (decides), the prime of the site (代行)."""
    return scope.kind == "employer" and not deleting and _ref(obj, "site_id") in scope.participating_site_ids and (
        scope.employer_id in (_ref(obj, "employer_id"), _ref(obj, "upper_employer_id"))
        or _ref(obj, "site_id") in scope.prime_site_ids)


register_rule(SafetySubmission, read=lambda scope: branch(scope, SafetySubmission), write=_party)
register_rule(WorkerForeignStatus, read=_items(WorkerForeignStatus), write=_own_worker)
