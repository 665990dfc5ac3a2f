"""AZ6 作業員名簿 (全建統一様式第5号, with the 社会保険 columns merged in since 改訂5版): one company's workers on
one site, 10 workers a page, 6 printed rows each (forms.md §1.5).

Which workers: the company's roster rows (施工体制技能者登録) active on the day of the 名簿, as the viewer's own
row scope lists them. What of each: every cell is a worker item printed only when
:func:`portal.people.disclosure.may_see` allows it for the viewer (reports.items.Items), else 非開示; the facts are
read in a separate session under ALL, like portal.people.disclosure.worker_information, and only allowed values leave
:func:`build`. The 生年月日 is a 共通非公開項目: the company's own 名簿 prints it, the prime's gets the 年齢.
The 雇用保険 number is printed as its last 4 digits (the only part stored); no 健康保険 記号・番号 or
基礎年金番号 exists to print (portal.people.safety_data).
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select

from portal.people.disclosure import _age
from portal.models import Employer, Site, SiteWorkerRegistration, StructureLink, Worker, WorkerInsurance, WorkerPersonal
from portal.models import WorkerTrade
from portal.models.safety import SiteStaff, WorkerForeignStatus, WorkerSafetyRecord
from portal.people.scoping import ALL, using_scope
from reports.base import Viewer
from reports.items import HIDDEN, Items
from reports.safety import REVISION
from reports.safety.rules import check_company

TITLE = "作業員名簿"
FORM = "全建統一様式第5号"
PER_PAGE, ROWS_PER_WORKER = 10, 6
CONSENT = ("本書面に記載した内容は、作業員名簿として、安全衛生管理や労働災害発生時の緊急連絡・対応のために元請負業者に"
           "提示することについて、記載者本人は同意しています。")

# The printed block of one worker: key → (row within the 6 rows, column 1…12). Excel and PDF use this one map,
# and the tests read the cells back through it.
COLUMNS = ["番号", "フリガナ／氏名／技能者ID", "職種／※記号", "雇入年月日／経験年数", "生年月日／年齢",
           "現住所・TEL／家族連絡先", "健康診断日・血圧・血液型／特殊健康診断", "健康保険／年金保険／雇用保険(下4桁)",
           "建退共／中退共", "雇入・職長・特別教育／技能講習", "免許", "入場年月日／受入教育実施年月日"]
WIDTHS = [4, 18, 12, 11, 10, 28, 16, 16, 8, 20, 14, 12]
CELLS = {
    "number": (0, 1), "name_kana": (0, 2), "name": (2, 2), "worker_code": (4, 2),
    "trade": (0, 3), "mark": (3, 3), "hired_on": (0, 4), "experience": (3, 4), "birth_date": (0, 5), "age": (3, 5),
    "address": (0, 6), "phone": (1, 6), "emergency_name": (3, 6), "emergency_address": (4, 6), "emergency_phone": (5, 6),
    "health_check_on": (0, 7), "blood_pressure": (1, 7), "blood_type": (2, 7), "special_check_on": (3, 7),
    "special_check_kind": (4, 7), "health_insurance": (0, 8), "pension": (2, 8), "employment": (4, 8),
    "kentaikyo": (0, 9), "chutaikyo": (2, 9), "education": (0, 10), "skill_training": (3, 10), "licenses": (0, 11),
    "entered_on": (0, 12), "entry_education_on": (3, 12),
}


@dataclasses.dataclass(frozen=True)
class Layout:
    """How the 名簿's block is printed: CCUS's AZ6-b is the merged 改訂5版 form (the 社会保険 columns in the 名簿);
    AZ6-a leaves them out, the 社会保険加入状況 (AZ7, reports.safety.insurance) carrying them on its own."""
    variant: str
    columns: tuple
    widths: tuple
    cells: dict


def _without(columns: set) -> Layout:
    kept = [n for n in range(1, len(COLUMNS) + 1) if n not in columns]
    renumber = {old: new for new, old in enumerate(kept, start=1)}
    return Layout("AZ6-a", tuple(COLUMNS[n - 1] for n in kept), tuple(WIDTHS[n - 1] for n in kept),
                  {k: (row, renumber[col]) for k, (row, col) in CELLS.items() if col in renumber})


INSURANCE_COLUMNS = {8, 9}  # 健康保険／年金保険／雇用保険(下4桁), 建退共／中退共
LAYOUTS = {"AZ6-b": Layout("AZ6-b", tuple(COLUMNS), tuple(WIDTHS), CELLS), "AZ6-a": _without(INSURANCE_COLUMNS)}

# The disclosure item each cell belongs to (None: not a worker item: the 技能者ID, the roster row's own dates)
ITEM_OF = {
    "number": None, "name_kana": "name", "name": "name", "worker_code": None, "trade": "trades", "mark": None,
    "hired_on": "current_employer", "experience": "trades", "birth_date": "birth_date", "age": "age",
    "address": "address", "phone": "phone", "emergency_name": "emergency_contact",
    "emergency_address": "emergency_contact", "emergency_phone": "emergency_contact",
    "health_check_on": "health_check", "blood_pressure": "health_check", "blood_type": "blood_type",
    "special_check_on": "health_check", "special_check_kind": "health_check", "health_insurance": "social_insurance",
    "pension": "social_insurance", "employment": "social_insurance", "kentaikyo": "retirement_aid",
    "chutaikyo": "retirement_aid", "education": "qualifications", "skill_training": "qualifications",
    "licenses": "qualifications", "entered_on": None, "entry_education_on": None,
}
# ※記号 (form note 1): each mark shows only when its item does
POSITION_MARKS = {"職長": "職", "安全衛生責任者": "安", "主任技術者": "主", "監理技術者": "主"}


@dataclasses.dataclass
class Roster:
    site_name: str
    site_code: str
    site_agent: str
    company: str
    company_code: str
    tier: int
    first_tier: str  # 一次会社名（事業者ID）
    day: datetime.date
    workers: list  # one dict per worker: key of CELLS → printed value (str, int, date or None)
    worker_pks: set
    revision: str = REVISION
    order: list = dataclasses.field(default_factory=list)  # the worker pk of each row of ``workers``

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.workers) // PER_PAGE))


def _insurance(status, kind):
    if status == "加入":
        return kind or "加入"
    return status  # 未加入 / 適用除外


def _employment(ins):
    if ins is None:
        return None
    if ins.employment_status == "加入":
        return ins.employment_number_last4 or "加入"
    return ins.employment_status


def _facts(reader, worker_ids):
    """Every fact the 名簿 prints, per worker pk (read under ALL)."""
    def by_worker(model):
        return {r.worker_id: r for r in reader.execute(select(model).where(model.worker_id.in_(worker_ids))).scalars()}

    trades = {}
    for t in reader.execute(select(WorkerTrade).where(WorkerTrade.worker_id.in_(worker_ids))
                            .order_by(WorkerTrade.position)).scalars():
        trades.setdefault(t.worker_id, t)
    return (by_worker(WorkerPersonal), by_worker(WorkerInsurance), by_worker(WorkerSafetyRecord),
            by_worker(WorkerForeignStatus), trades)


def _first_tier(reader, site_id: int, employer_id: int, prime_id: int) -> tuple[int, Employer | None]:
    """The company's tier and its 1次 ancestor on the site (structure links are company facts, read under ALL)."""
    upper = {l.lower_employer_id: l.upper_employer_id for l in reader.execute(
        select(StructureLink).where(StructureLink.site_id == site_id, StructureLink.status == "承認済")).scalars()}
    chain, current = [], employer_id
    while current != prime_id and current in upper and current not in chain:
        chain.append(current)
        current = upper[current]
    if employer_id == prime_id or not chain:
        return 0, None
    return len(chain), reader.get(Employer, chain[-1])


def build(session, viewer: Viewer, site_id: int, employer_id: int, day: datetime.date, title: str = TITLE) -> Roster:
    """The 名簿 of ``employer_id`` on ``site_id`` as of ``day``, for ``viewer`` (the session is under its scope).
    ``title``: the form a refusal names (AZ7 and 第7号 are built from the 名簿's rows)."""
    from portal.app.db import ScopedSession

    check_company(viewer.scope, site_id, employer_id, title)
    with using_scope(session, viewer.scope):
        site = session.get(Site, site_id)
        regs = session.execute(select(SiteWorkerRegistration).where(
            SiteWorkerRegistration.site_id == site_id, SiteWorkerRegistration.employer_id == employer_id)
            .order_by(SiteWorkerRegistration.id)).scalars().all()
    regs = [r for r in regs if r.active_on(day)]
    if site is None:
        from portal.app.errors import DomainError

        raise DomainError("site_not_found", "現場が見つかりません。", 404)
    items = Items(session, viewer)
    reader = ScopedSession(bind=session.get_bind())
    try:
        with using_scope(reader, ALL):
            worker_ids = [r.worker_id for r in regs]
            personal, insurance, records, foreign, trades = _facts(reader, worker_ids)
            workers = {w.id: w for w in reader.execute(select(Worker).where(Worker.id.in_(worker_ids))).scalars()}
            company = reader.get(Employer, employer_id)
            tier, first = _first_tier(reader, site_id, employer_id, site.prime_employer_id)
            agent = reader.execute(select(SiteStaff.person_name).where(
                SiteStaff.site_id == site_id, SiteStaff.employer_id == site.prime_employer_id,
                SiteStaff.role == "現場代理人")).scalars().first() or site.site_agent or ""
            rows = []
            for n, reg in enumerate(regs, start=1):
                rows.append(_worker_cells(items, n, reg, workers[reg.worker_id], personal.get(reg.worker_id),
                                          insurance.get(reg.worker_id), records.get(reg.worker_id),
                                          foreign.get(reg.worker_id), trades.get(reg.worker_id), day))
    finally:
        reader.close()
    return Roster(site_name=site.name, site_code=site.site_id, site_agent=agent, company=company.name,
                  company_code=company.employer_id, tier=tier,
                  first_tier=f"{first.name}（{first.employer_id}）" if first is not None else "",
                  day=day, workers=rows, worker_pks={r.worker_id for r in regs},
                  order=[r.worker_id for r in regs])


def _worker_cells(items: Items, n, reg, w, p, ins, rec, foreign, main_trade, day) -> dict:
    pv = (lambda attr: getattr(p, attr) if p is not None else None)
    rv = (lambda attr: getattr(rec, attr) if rec is not None else None)
    visible = items.visible(w.id)
    age = _age(pv("birth_date"), day)
    marks = []
    if reg.position in POSITION_MARKS:
        marks.append(POSITION_MARKS[reg.position])  # the roster row's own 立場
    if "sex" in visible and pv("sex") == "女":
        marks.append("女")
    if "age" in visible and age is not None and age < 18:
        marks.append("未")
    if "nationality" in visible and foreign is not None:
        marks.append(foreign.mark)
    education = "、".join(filter(None, [
        f"雇入時 {rv('hire_education_on'):%Y/%m/%d}" if rv("hire_education_on") else None,
        f"職長 {rv('foreman_education_on'):%Y/%m/%d}" if rv("foreman_education_on") else None,
        rv("special_education")]))
    high, low = rv("blood_pressure_high"), rv("blood_pressure_low")
    values = {
        "number": n, "name_kana": w.name_kana, "name": w.name, "worker_code": w.worker_id,
        "trade": str(reg.trade) if reg.trade is not None else (str(main_trade) if main_trade else None),
        "mark": "・".join(marks) or None, "hired_on": rv("hired_on"),
        "experience": f"{main_trade.experience_years}年" if main_trade and main_trade.experience_years is not None else None,
        "birth_date": pv("birth_date"), "age": f"{age}歳" if age is not None else None,
        "address": pv("address"), "phone": pv("phone_mobile") or pv("phone_home"),
        "emergency_name": pv("emergency_name"), "emergency_address": pv("emergency_address"),
        "emergency_phone": pv("emergency_phone"), "health_check_on": pv("health_check_date"),
        "blood_pressure": f"{high}/{low}" if high is not None and low is not None else None,
        "blood_type": pv("blood_type"), "special_check_on": rv("special_check_on"),
        "special_check_kind": rv("special_check_kind"),
        "health_insurance": _insurance(ins.health_status, ins.health_type) if ins is not None else None,
        "pension": _insurance(ins.pension_status, ins.pension_type) if ins is not None else None,
        "employment": _employment(ins),
        "kentaikyo": ("有" if ins.kentaikyo else "無") if ins is not None else None,
        "chutaikyo": ("有" if ins.chutaikyo else "無") if ins is not None else None,
        "education": education or None, "skill_training": rv("skill_training"), "licenses": rv("licenses"),
        "entered_on": reg.start_date, "entry_education_on": reg.entry_education_on,
    }
    return {k: (v if ITEM_OF[k] is None or ITEM_OF[k] in visible else HIDDEN) for k, v in values.items()}


def text(value) -> str:
    """How a cell reads when printed (PDF) and how the tests compare what the Excel reader gives back."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%Y/%m/%d")
    return str(value)


def header_lines(r: Roster) -> list[tuple[str, str]]:
    return [("事業所の名称・現場ID", f"{r.site_name}（{r.site_code}）"), ("所長名", f"{r.site_agent} 殿"),
            ("一次会社名・事業者ID", r.first_tier or "（元請）"),
            ("会社名・事業者ID", f"{r.company}（{r.company_code}）" + (f"　{r.tier}次" if r.tier else "　元請")),
            ("作成日", r.day.strftime("%Y/%m/%d"))]
