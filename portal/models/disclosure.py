"""開示設定 (disclosure): per worker and item, the worker's consent and the 所属事業者's consent.

At registration every item is 一括非開示 (no row = not disclosed). An item reaches a company other than the
worker's own employer, a prime contractor or an upper subcontractor only while BOTH consents are on, and the
employer's consent counts only while the employer that gave it is still a current (承認済) 所属事業者: when the
worker changes employer the old consent lapses at once and the new employer must agree again.
Who may see what is decided in one place, :func:`portal.people.disclosure.may_see`.

The item list. The seed's own list for 部分開示 was cut off after 顔写真 and 技能者ランク, so it is completed
from the seed's 技能者情報 screen (every block of that screen is one item) and the registered items listed in
domain.md §12.6. ``roster`` marks the 作業員名簿 items (全建統一様式第5号: 氏名, 年齢, 血液型, 現住所, 電話,
家族連絡先, 職種, 健康診断, 社会保険, 退職金共済, 資格・免許・教育) that a 元請 sees for workers entering its
sites and an upper subcontractor for the tiers below it. ``never`` marks the 共通非公開項目: shown to no
company, consent or not (過去の所属事業者 not even to the current employer; 生年月日 only to the current
employer — a roster gets the 年齢 instead, which is what the 作業員名簿 needs).
The 技能者ID itself is not an item: it is how the viewer asked for the worker.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.people.rules import register_rule
from portal.models.base import utcnow


@dataclasses.dataclass(frozen=True)
class Item:
    code: str
    label: str
    roster: bool = False  # a 作業員名簿 item
    never: bool = False  # 共通非公開項目: no consent can open it to another company


ITEMS: tuple[Item, ...] = (
    Item("photo", "顔写真"),
    Item("name", "氏名（フリガナ・Name・通称名）", roster=True),
    Item("level", "技能者ランク（技能レベル）", roster=True),
    Item("birth_date", "生年月日", never=True),
    Item("age", "年齢", roster=True),
    Item("sex", "性別"),
    Item("blood_type", "血液型", roster=True),
    Item("address", "現住所", roster=True),
    Item("phone", "電話番号（自宅・携帯・FAX）", roster=True),
    Item("email", "メールアドレス"),
    Item("emergency_contact", "緊急連絡先", roster=True),
    Item("nationality", "国籍"),
    Item("identity_document", "本人確認書類の有無"),
    Item("current_employer", "現在の所属事業者", roster=True),
    Item("past_employers", "過去の所属事業者", never=True),
    Item("social_insurance", "社会保険（健康保険・年金保険・雇用保険）", roster=True),
    Item("retirement_aid", "退職金共済（建退共・中退共）", roster=True),
    Item("rousai_special", "労災保険特別加入", roster=True),
    Item("health_check", "健康診断", roster=True),
    Item("trades", "職種", roster=True),
    Item("education", "学歴・指定学科"),
    Item("master_technician", "登録基幹技能者", roster=True),
    Item("qualifications", "保有資格", roster=True),
    Item("awards", "表彰"),
    Item("work_history", "就業履歴（就業日数・就業履歴数）"),
    Item("registration", "登録情報（登録区分・初回登録日・更新日）"),
)
ITEM_BY_CODE = {i.code: i for i in ITEMS}
CONSENTABLE = tuple(i for i in ITEMS if not i.never)  # the switches of 380 / 830
ROSTER_ITEMS = frozenset(i.code for i in ITEMS if i.roster)
NEVER_ITEMS = frozenset(i.code for i in ITEMS if i.never)


# --- the rule ------------------------------------------------------------------------------------------------
# Pure, next to the item list, so that portal.people.disclosure (one worker, one item) and portal.people.scoping (which rows
# of the item-bearing models a principal reads) decide with the same function.

# How the viewer stands to the worker (the only input of the rule besides the consents).
SELF, ADMIN, EMPLOYER, ROSTER, OTHER, NOBODY = "self", "admin", "employer", "roster", "other", "nobody"


@dataclasses.dataclass(frozen=True)
class Relation:
    kind: str
    consented: frozenset = frozenset()  # items both parties currently disclose (never-items excluded)


def decide(relation: Relation, item: str) -> bool:
    """The rule itself, over facts already gathered (pure: the property-based tests drive it directly too)."""
    if item not in ITEM_BY_CODE:
        raise ValueError(f"unknown disclosure item: {item}")
    if relation.kind in (SELF, ADMIN):
        return True
    if relation.kind == EMPLOYER:
        return item != "past_employers"
    if item in NEVER_ITEMS:
        return False
    if relation.kind == ROSTER:
        return item in ROSTER_ITEMS or item in relation.consented
    if relation.kind == OTHER:
        return item in relation.consented
    return False


# The items each row of a worker's record carries (portal.people.disclosure._load reads them from these models). A
# row is read through the row scope only by a relation that may see every item on it, consents aside:
# consented items reach other companies only through the 技能者情報 screen, which shows item by item.
MODEL_ITEMS = {
    "WorkerPersonal": ("birth_date", "sex", "blood_type", "address", "phone", "email", "emergency_contact",
                       "nationality", "education", "health_check"),
    "WorkerInsurance": ("social_insurance", "retirement_aid", "rousai_special"),
    "WorkerQualification": ("qualifications", "master_technician"),
    "WorkerTrade": ("trades",),
    "WorkerAward": ("awards",),
    # portal.models.safety: the 作業員名簿's own items, and the foreign-worker status (a 国籍 item)
    "WorkerSafetyRecord": ("current_employer", "health_check", "qualifications"),
    "WorkerForeignStatus": ("nationality",),
}


def relations_reading(model_name: str, kinds) -> tuple:
    """Of the relation ``kinds``, those that may read every item a row of ``model_name`` carries."""
    return tuple(k for k in kinds if all(decide(Relation(k), item) for item in MODEL_ITEMS[model_name]))


class DisclosureSetting(Model):
    """One item of one worker: 開示 by the worker and by the employer (``employer_id`` = who consented)."""

    __tablename__ = "disclosure_settings"
    __table_args__ = (UniqueConstraint("worker_id", "item", name="uq_disclosure_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    item: Mapped[str] = mapped_column(String(30), nullable=False)
    worker_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    employer_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    employer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("employers.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    worker = relationship("Worker")
    employer = relationship("Employer")

    @property
    def item_label(self) -> str:
        return ITEM_BY_CODE[self.item].label if self.item in ITEM_BY_CODE else self.item


def _changed(obj, attr: str) -> bool:
    state = inspect(obj)
    if state.transient or state.pending:
        return bool(getattr(obj, attr))  # a new row may only carry the writer's own consent
    return state.attrs[attr].history.has_changes()


def _writable(scope, obj: DisclosureSetting, deleting: bool) -> bool:
    """The worker sets only its own consent, the current employer only the employer's; nobody deletes."""
    if deleting or obj.item in NEVER_ITEMS:
        return False
    if scope.kind == "worker":
        return obj.worker_id == scope.worker_id and not _changed(obj, "employer_consent") \
            and not _changed(obj, "employer_id")
    if scope.kind == "employer" and not scope.site_manager:
        return obj.worker_id in scope.own_worker_ids and not _changed(obj, "worker_consent") \
            and obj.employer_id in (None, scope.employer_id)
    return False


register_rule(
    DisclosureSetting,
    read=lambda scope: (DisclosureSetting.worker_id == scope.worker_id) if scope.kind == "worker"
    else DisclosureSetting.worker_id.in_(scope.own_worker_ids),
    write=_writable,
)
