"""A benchmark world on PostgreSQL: one approved site, a prime and two tiers of subcontractors, N workers on
the roster with trades and qualifications, written with Core inserts (the benchmark measures ingest, not seeding)."""
from __future__ import annotations

import datetime

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session

SITE_CODE = "90000000000171"


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def build(url: str, workers: int, today: datetime.date) -> dict:
    from portal.people import codes
    from portal.app.migrate import upgrade
    from portal.models import (Affiliation, Employer, Qualification, Site, SiteWorkerRegistration, StructureLink,
                               Trade, Worker, WorkerQualification)

    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as s:
        codes.seed(s)
        s.flush()
        trade_ids = s.execute(select(Trade.id).order_by(Trade.id)).scalars().all()[:10]
        qual_ids = s.execute(select(Qualification.id).order_by(Qualification.id)).scalars().all()[:10]
        employers = [{"employer_id": f"{90000000000 + i:011d}022", "name": f"ベンチ建設{i}", "corporate_type": "法人"}
                     for i in range(7)]
        emp_ids = s.execute(insert(Employer.__table__).returning(Employer.__table__.c.id), employers).scalars().all()
        prime, firsts, seconds = emp_ids[0], emp_ids[1:3], emp_ids[3:]
        site = s.execute(insert(Site.__table__).returning(Site.__table__.c.id), [{
            "site_id": SITE_CODE, "name": "ベンチ現場", "prime_employer_id": prime, "approved": True,
            "hazardous_substances": False, "accumulation_start": today - datetime.timedelta(days=400),
            "accumulation_end": today + datetime.timedelta(days=365)}]).scalar_one()
        links = [{"site_id": site, "upper_employer_id": prime, "lower_employer_id": f, "tier": 1, "status": "承認済"}
                 for f in firsts]
        links += [{"site_id": site, "upper_employer_id": firsts[i % 2], "lower_employer_id": e, "tier": 2,
                   "status": "承認済"} for i, e in enumerate(seconds)]
        s.execute(insert(StructureLink.__table__), links)
        codes_ = [f"{80000000000 + i:011d}021" for i in range(workers)]
        worker_ids = s.execute(insert(Worker.__table__).returning(Worker.__table__.c.id, Worker.__table__.c.worker_id), [
            {"worker_id": c, "name": f"技能者{i}", "level": 1, "registration_type": "詳細型", "identity_document": True}
            for i, c in enumerate(codes_)]).all()
        worker_ids.sort(key=lambda r: r[1])
        employer_of = {w: emp_ids[1 + i % 6] for i, (w, _c) in enumerate(worker_ids)}
        s.execute(insert(Affiliation.__table__), [{"worker_id": w, "employer_id": e, "status": "承認済", "is_primary": True}
                                                  for w, e in employer_of.items()])
        s.execute(insert(SiteWorkerRegistration.__table__), [
            {"site_id": site, "worker_id": w, "employer_id": e, "trade_id": trade_ids[w % len(trade_ids)],
             "position": "職長" if w % 10 == 0 else "一般", "work_content": "躯体工事", "hazardous_work": False,
             "start_date": today - datetime.timedelta(days=400)} for w, e in employer_of.items()])
        s.execute(insert(WorkerQualification.__table__), [
            {"worker_id": w, "qualification_id": qual_ids[w % len(qual_ids)], "proof_attached": True}
            for w, _e in employer_of.items() if w % 4])
        s.commit()
    engine.dispose()
    return {"site_code": SITE_CODE, "worker_codes": codes_}


def register_devices(url: str, n: int) -> list[str]:
    """n devices of the core `api` type on the benchmark site; their keys."""
    from portal.app.db import ScopedSession
    from portal.devices.keys import register_device
    from portal.devices import DeviceType
    from portal.people.scoping import ALL, using_scope

    engine = create_engine(url)
    keys = []
    with ScopedSession(engine) as s, using_scope(s, ALL):
        for i in range(n):
            _d, key = register_device(s, SITE_CODE, "api", f"ベンチ機器{i}",
                                      installed={"api": DeviceType("api", "外部システム連携", "API")})
            keys.append(key)
        s.commit()
    engine.dispose()
    return keys
