"""AZ5 再下請負通知書 (全建統一様式第1号-甲): per site, one sheet per direct subcontractor of the reporting company —
left 《自社に関する事項》 (the reporting company), right 《再下請負人に関する事項》 (that subcontractor); with none, one
sheet whose right half reads 再下請負契約なし (forms.md §1.1). 変更届: the same form with the date of the change.

Viewer rule (AZ5–AZ7, reports.safety.rules.check_company): the prime, the company itself, an upper company for
those below it. Each value is read under the viewer's row scope, so a company's private registration
(EmployerDetail: 代表者, 電話, the insurances' 事業所整理記号) prints only on its own 通知書 and reads 非開示 to
others (the approved snapshot the upper company receives is issue 12's later slice). The 外国人 従事の状況 is
counted from the company's roster through the viewer's row scope (a 国籍 item: the company's own).
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select

from portal.models import Employer, EmployerDetail, Site, SiteWorkerRegistration, StructureLink
from portal.models.safety import ConstructionLicense, SiteContract, SiteStaff, WorkerForeignStatus
from portal.people.scoping import using_scope
from reports.base import Viewer
from reports.items import HIDDEN
from reports.safety import REVISION
from reports.safety.rules import check_company

TITLE = "再下請負通知書"
FORM = "全建統一様式第1号-甲"
NONE_BELOW = "再下請負契約なし"
ROLES = ("現場代理人", "主任技術者", "専門技術者", "登録基幹技能者", "安全衛生責任者", "安全衛生推進者", "雇用管理責任者")


@dataclasses.dataclass
class Notice:
    site_name: str
    site_code: str
    prime: str
    site_agent: str
    orderer: str  # 直近上位の注文者名
    day: datetime.date
    changed_on: datetime.date | None  # 変更届: the date of the change
    own: list  # (label, value) of 《自社に関する事項》
    sheets: list  # per subcontractor: (its name, [(label, value)]); empty: no 再下請負
    revision: str = REVISION
    # the same two-halves sheet serves the 施工体制台帳 (reports.safety.ledger): its own headings
    title: str = TITLE
    form: str = FORM
    left: str = "《自社に関する事項》"
    right: str = "《再下請負人に関する事項》"
    none_below: str = NONE_BELOW
    head: list | None = None  # the header lines, when not the 通知書's (header())

    @property
    def kind(self) -> str:
        return f"変更届（変更年月日 {self.changed_on:%Y/%m/%d}）" if self.changed_on else "新規"


def _company(session, site_id: int, employer_id: int, roles: tuple = ROLES) -> list:
    e = session.get(Employer, employer_id)
    detail = session.execute(select(EmployerDetail).where(EmployerDetail.employer_id == employer_id)).scalar_one_or_none()
    contract = session.execute(select(SiteContract).where(SiteContract.site_id == site_id,
                                                          SiteContract.employer_id == employer_id)).scalar_one_or_none()
    licences = session.execute(select(ConstructionLicense).where(ConstructionLicense.employer_id == employer_id)
                               .order_by(ConstructionLicense.id)).scalars().all()
    staff = session.execute(select(SiteStaff).where(SiteStaff.site_id == site_id, SiteStaff.employer_id == employer_id)
                            .order_by(SiteStaff.id)).scalars().all()
    regs = session.execute(select(SiteWorkerRegistration.worker_id).where(
        SiteWorkerRegistration.site_id == site_id, SiteWorkerRegistration.employer_id == employer_id)).scalars().all()
    foreign = session.execute(select(WorkerForeignStatus).where(WorkerForeignStatus.worker_id.in_(regs))).scalars().all() \
        if regs else []
    own = detail is not None  # the row scope shows the registration to the company itself (and administrators)

    def private(value):
        return (value or "") if own else HIDDEN

    def dated(d):
        return f"{d:%Y/%m/%d}" if d else ""

    lines = [("会社名・事業者ID", f"{e.name}（{e.employer_id}）"), ("住所", e.address or ""),
             ("代表者名", private(detail.representative if detail else None)), ("電話番号", private(detail.phone if detail else None)),
             ("工事名称及び工事内容", contract.work_content if contract and contract.work_content else ""),
             ("工期", f"{dated(contract.period_start)}〜{dated(contract.period_end)}" if contract else ""),
             ("注文者との契約日", dated(contract.contracted_on) if contract else "")]
    for lic in licences:
        lines.append(("建設業の許可", f"{lic.trade}工事業　{lic.authority}　{lic.kind}　第{lic.number}号　{dated(lic.granted_on)}"))
    if not licences:
        lines.append(("建設業の許可", ""))
    for role in roles:
        for person in [p for p in staff if p.role == role] or [None]:
            value = "" if person is None else " ".join(filter(None, [
                person.person_name, "（専任）" if person.full_time else ("（非専任）" if role == "主任技術者" else ""),
                person.qualification, person.work_scope]))
            lines.append((role, value))
    statuses = {f.status for f in foreign}
    if own:
        lines += [(f"{s}の従事の状況", "有" if s in statuses else "無") for s in ("1号特定技能外国人", "外国人技能実習生")]
    else:
        lines += [(f"{s}の従事の状況", HIDDEN) for s in ("1号特定技能外国人", "外国人技能実習生")]
    lines += [("健康保険 事業所整理記号", private(detail.health_insurance_office_no if detail else None)),
              ("厚生年金保険 事業所整理記号", private(detail.pension_office_no if detail else None)),
              ("雇用保険 事業所番号", private(detail.employment_insurance_office_no if detail else None))]
    return lines


def build(session, viewer: Viewer, site_id: int, employer_id: int, day: datetime.date,
          changed_on: datetime.date | None = None) -> Notice:
    check_company(viewer.scope, site_id, employer_id, TITLE)
    with using_scope(session, viewer.scope):
        site = session.get(Site, site_id)
        prime = session.get(Employer, site.prime_employer_id)
        links = session.execute(select(StructureLink).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済")).scalars().all()
        upper = next((l.upper_employer_id for l in links if l.lower_employer_id == employer_id), None)
        below = [l.lower_employer_id for l in sorted(links, key=lambda l: l.id) if l.upper_employer_id == employer_id]
        agent = session.execute(select(SiteStaff.person_name).where(
            SiteStaff.site_id == site_id, SiteStaff.employer_id == site.prime_employer_id,
            SiteStaff.role == "現場代理人")).scalars().first() or site.site_agent or ""
        orderer = session.get(Employer, upper).name if upper is not None else (site.client_name or "")
        own = _company(session, site_id, employer_id)
        sheets = [(session.get(Employer, b).name, _company(session, site_id, b)) for b in below]
    return Notice(site_name=site.name, site_code=site.site_id, prime=f"{prime.name}（{prime.employer_id}）",
                  site_agent=agent, orderer=orderer, day=day, changed_on=changed_on, own=own, sheets=sheets)


def header(n: Notice) -> list:
    if n.head is not None:
        return n.head
    return [("提出日", f"{n.day:%Y/%m/%d}"), ("区分", n.kind), ("直近上位の注文者名", n.orderer),
            ("元請名称・事業者ID", n.prime), ("現場名・現場ID", f"{n.site_name}（{n.site_code}）"),
            ("元請の現場代理人", f"{n.site_agent} 殿")]
