"""When the prime must keep a 施工体制台帳 and 施工体系図, and how long the documents are kept (forms.md §5).

The amounts are dated data keyed by the date of the subcontract (建設業法施行令第2条; a contract of 2025-01-31 still
uses ¥45M/¥70M): :data:`THRESHOLDS`, a new row when the 政令 changes. 公共工事: whenever there is any subcontract
(入契法第15条). Retention from the 引渡し: 作業員名簿 (part of the 台帳) 5 years, 施工体系図 10 years (施行規則第26条第5項,
第28条第2項).
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select

from portal.models import Site, StructureLink
from portal.models.safety import SiteContract
from portal.people.scoping import using_scope

# (in force from, until, 下請契約の総額 for other work, for 建築一式工事), 円
THRESHOLDS = [
    (datetime.date(2016, 6, 1), datetime.date(2022, 12, 31), 40_000_000, 60_000_000),
    (datetime.date(2023, 1, 1), datetime.date(2025, 1, 31), 45_000_000, 70_000_000),
    (datetime.date(2025, 2, 1), None, 50_000_000, 80_000_000),
]
RETENTION_YEARS = {"作業員名簿": 5, "施工体制台帳": 5, "施工体系図": 10}


def threshold_on(day: datetime.date, general_building: bool) -> int | None:
    """The total of subcontracts from which a 台帳 is required, for a subcontract made on ``day``."""
    for start, end, other, building in THRESHOLDS:
        if start <= day and (end is None or day <= end):
            return building if general_building else other
    return None


@dataclasses.dataclass(frozen=True)
class Verdict:
    required: bool | None  # None: the amounts are not recorded
    text: str


def yen(amount: int) -> str:
    return f"{amount:,}円"


def ledger_required(session, scope, site_id: int, today: datetime.date) -> Verdict:
    """Whether the site's prime must keep a 施工体制台帳, from its direct subcontracts as the scope reads them."""
    with using_scope(session, scope):
        site = session.get(Site, site_id)
        contracts = {c.employer_id: c for c in session.execute(select(SiteContract).where(
            SiteContract.site_id == site_id)).scalars()}
        firsts = list(session.execute(select(StructureLink.lower_employer_id).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済",
            StructureLink.upper_employer_id == site.prime_employer_id)).scalars())
    prime = contracts.get(site.prime_employer_id)
    if not firsts:
        return Verdict(False, "下請契約がないため不要です。")
    if prime is not None and prime.public_work:
        return Verdict(True, "公共工事で下請契約があるため必要です（金額にかかわらず）。")
    subs = [contracts.get(e) for e in firsts]
    if any(c is None or c.amount is None for c in subs):
        return Verdict(None, "一次下請負業者の請負代金額が登録されていないため判定できません。")
    total = sum(c.amount for c in subs)
    day = max((c.contracted_on for c in subs if c.contracted_on), default=today)
    building = prime is not None and prime.general_building
    limit = threshold_on(day, building)
    if limit is None:
        return Verdict(None, f"{day:%Y/%m/%d}の契約に適用する金額の基準がありません。")
    kind = "建築一式工事" if building else "建築一式工事以外"
    return Verdict(total >= limit, f"下請契約の総額 {yen(total)}（{kind}、{day:%Y/%m/%d}契約の基準 {yen(limit)}）: "
                                   + ("必要です。" if total >= limit else "不要です。"))


def keep_until(handed_over_on: datetime.date | None) -> dict:
    """Document → the last day it must be kept (None until the 引渡し is recorded)."""
    def add_years(d: datetime.date, years: int) -> datetime.date:
        try:
            return d.replace(year=d.year + years)
        except ValueError:  # 29 February
            return d.replace(year=d.year + years, day=28)
    return {doc: add_years(handed_over_on, years) if handed_over_on else None for doc, years in RETENTION_YEARS.items()}
