"""Shared helpers of the ingest and history tests: a device on a demo site, events sent through the one write
path, histories read back under the ALL scope."""
from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.devices.credentials import keys_from_config
from portal.app.db import db
from portal.devices.keys import register_device
from portal.devices import device_types
from portal.ingest import Limits, ingest
from portal.models import Device, EntryExitEvent, Site, Worker, WorkHistory
from portal.people.scoping import ALL, using_scope

TOKYO = ZoneInfo("Asia/Tokyo")
SITE_A = "36265810102371"
MEGURO = "30154216388821"  # 鉄筋工・職長 on site A, qualified
HIROO = "17788930382321"
MIRAI = "93845751166921"  # on site A without a trade, no qualification
_ids = itertools.count(1)


def tokyo(day: datetime.date, hh: int, mm: int = 0) -> str:
    return datetime.datetime.combine(day, datetime.time(hh, mm), TOKYO).isoformat()


def recent_day(n: int = 3) -> datetime.date:
    """The n-th most recent Sunday before yesterday: the demo records no taps on Sundays, so a test's own taps
    are the only ones that day (the days after and before may have demo taps)."""
    day = datetime.datetime.now(TOKYO).date() - datetime.timedelta(days=2)
    day -= datetime.timedelta(days=(day.weekday() + 1) % 7)
    return day - datetime.timedelta(weeks=n - 1)


def quiet_worker(app) -> str:
    """A worker with no events at all (not on any roster of the demo)."""
    with app.app_context(), using_scope(db.session, ALL):
        tapped = select(EntryExitEvent.worker_id).where(EntryExitEvent.worker_id.is_not(None))
        return db.session.execute(select(Worker.worker_id).where(Worker.id.not_in(tapped))
                                  .order_by(Worker.id.desc())).scalars().first()


def new_device(app, site_code: str = SITE_A, device_type: str = "api") -> tuple[int, str]:
    with app.app_context(), using_scope(db.session, ALL):
        installed = device_types(app.extensions["ccus_plugins"])
        device, key = register_device(db.session, site_code, device_type, "テスト機器", installed=installed)
        db.session.commit()
        return device.id, key


def event(worker: str | None, day: datetime.date, hh: int, kind: str = "entry", site: str = SITE_A, mm: int = 0,
          **extra) -> dict:
    e = {"event_id": f"e{next(_ids)}", "site_id": site, "kind": kind, "time": tokyo(day, hh, mm), "method": "API"}
    if worker is not None:
        e["worker_id"] = worker
    e.update(extra)
    return e


def send(app, device_id: int, events: list, **kw):
    with app.app_context():
        with using_scope(db.session, ALL):
            device = db.session.get(Device, device_id)
        return ingest(db.session, device, events, plugins=app.extensions["ccus_plugins"],
                      credential_keys=keys_from_config(app.config), limits=kw.pop("limits", Limits()), **kw)


def pk(app, model, column: str, value):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(model.id).where(getattr(model, column) == value)).scalar_one()


def worker_pk(app, code: str) -> int:
    return pk(app, Worker, "worker_id", code)


def site_pk(app, code: str) -> int:
    return pk(app, Site, "site_id", code)


def history(app, worker: str, site: str, day: datetime.date) -> dict | None:
    with app.app_context(), using_scope(db.session, ALL):
        h = db.session.execute(select(WorkHistory).join(Worker, Worker.id == WorkHistory.worker_id)
                               .join(Site, Site.id == WorkHistory.site_id)
                               .where(Worker.worker_id == worker, Site.site_id == site,
                                      WorkHistory.work_date == day)).scalar_one_or_none()
        if h is None:
            return None
        row = {c.name: getattr(h, c.name) for c in WorkHistory.__table__.columns}
        row["trade_code"] = h.trade.code if h.trade else None
        return row


def count(app, model) -> int:
    from sqlalchemy import func

    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def snapshot(app) -> tuple:
    """Everything ingest may change, to prove a refused request changed nothing."""
    with app.app_context(), using_scope(db.session, ALL):
        events = db.session.execute(select(EntryExitEvent.__table__).order_by(EntryExitEvent.id)).all()
        hist = db.session.execute(select(WorkHistory.__table__).order_by(WorkHistory.id)).all()
        return [tuple(r) for r in events], [tuple(r) for r in hist]
