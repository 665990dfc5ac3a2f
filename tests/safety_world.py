"""Safety-document data on the demo's A現場工事 (元請A → 基金一次建設 → 基金建設; 元請A → 南建工 → 2次), seeded
under ALL as an administrator's import would: licences, contracts, persons, and the 名簿 items of the named
workers. Returns the primary keys the tests ask about."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from portal.app.db import db
from portal.models import Employer, Site, StructureLink, Worker, WorkerInsurance
from portal.models.safety import ConstructionLicense, SiteContract, SiteStaff, WorkerForeignStatus, WorkerSafetyRecord
from portal.people.scoping import ALL, using_scope

SITE_A = "36265810102371"
PRIME_A, KIKIN1 = "41522937006822", "66679345433022"
MEGURO, HIROO, MIRAI = "30154216388821", "17788930382321", "93845751166921"
# numbers a worker might hand in that must never be stored nor printed (made up, in the real formats)
PENSION_NUMBER = "1234-567890"
EMPLOYMENT_NUMBER = "5012-345678-9"


def seed(app) -> dict:
    with app.app_context(), using_scope(db.session, ALL):
        s = db.session
        site = s.execute(select(Site).where(Site.site_id == SITE_A)).scalar_one()
        links = s.execute(select(StructureLink).where(StructureLink.site_id == site.id,
                                                      StructureLink.status == "承認済")).scalars().all()
        upper_of = {l.lower_employer_id: l.upper_employer_id for l in links}
        names = {e.id: e.name for e in s.execute(select(Employer)).scalars()}
        members = [site.prime_employer_id] + [l.lower_employer_id for l in links]
        for n, employer_id in enumerate(members):
            s.add(ConstructionLicense(employer_id=employer_id, trade="建築一式" if n == 0 else "とび・土工・コンクリート",
                                      authority="大臣" if n == 0 else "知事", kind="特定" if n == 0 else "一般",
                                      number=f"{13 if n else 0:02d}-{100000 + n}", granted_on=datetime.date(2022, 4, 1)))
            s.add(SiteContract(site_id=site.id, employer_id=employer_id,
                               orderer_name=site.client_name if n == 0 else names[upper_of[employer_id]],
                               contracted_on=datetime.date(2026, 3, 1 + n), period_start=datetime.date(2026, 4, 1),
                               period_end=datetime.date(2027, 3, 31), work_content="駅舎新築工事" if n == 0 else "躯体工事"))
            s.add(SiteStaff(site_id=site.id, employer_id=employer_id, role="現場代理人", person_name=f"代理 {n}号"))
            s.add(SiteStaff(site_id=site.id, employer_id=employer_id, role="監理技術者" if n == 0 else "主任技術者",
                            person_name=f"技術 {n}号", full_time=n == 0, qualification="1級建築施工管理技士"))
            s.add(SiteStaff(site_id=site.id, employer_id=employer_id, role="安全衛生責任者", person_name=f"安全 {n}号"))
        workers = {w.worker_id: w for w in s.execute(select(Worker).where(Worker.worker_id.in_([MEGURO, HIROO, MIRAI]))).scalars()}
        for code, w in workers.items():
            s.add(WorkerSafetyRecord(worker_id=w.id, hired_on=datetime.date(2015, 4, 1), blood_pressure_high=128,
                                     blood_pressure_low=82, special_check_kind="じん肺", special_check_on=datetime.date(2026, 5, 1),
                                     hire_education_on=datetime.date(2015, 4, 1), foreman_education_on=datetime.date(2018, 6, 1),
                                     special_education="足場の組立て等", skill_training="玉掛け", licenses="移動式クレーン"))
        s.add(WorkerForeignStatus(worker_id=workers[HIROO].id, status="1号特定技能外国人"))
        ins = s.execute(select(WorkerInsurance).where(WorkerInsurance.worker_id == workers[MEGURO].id)).scalar_one()
        ins.employment_number_last4 = EMPLOYMENT_NUMBER.replace("-", "")[-4:]
        s.commit()
        return {"site": site.id, "members": members, "workers": {c: w.id for c, w in workers.items()},
                "employers": {e.employer_id: e.id for e in s.execute(select(Employer)).scalars()}}
