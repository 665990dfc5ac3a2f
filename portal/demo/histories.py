"""Demo entry/exit events of the last two months on the demo sites, sent through the one write path
(portal.ingest), so the demo shows histories: counted ones, and not-counted ones of every kind the demo can show
(an unapproved site, workers not on the roster, a late device buffer for a closed month (補正期限経過); a missing
tier in the structure is shown by the tests). Each week's taps are sent that week, as devices would have, so the
days of a month that has closed since were received in time and stay as they were."""
from __future__ import annotations

import datetime
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.devices.keys import register_device
from portal.history.histories import TOKYO
from portal.ingest import Limits, ingest
from portal.models import SiteWorkerRegistration, Worker
from portal.people.scoping import ALL, using_scope

DEVICE_TYPES = ["cardreader", "face", "qr", "phone", "api"]  # one per demo site, where installed


def _plugins():
    try:
        from flask import current_app

        return current_app.extensions.get("ccus_plugins")
    except RuntimeError:  # outside an app context
        return None


def demo_events(session: Session, sites, *, today: datetime.date, seed: int = 20211101, batch: int = 500) -> int:
    """Send the demo's events; returns how many were stored."""
    from portal.devices import DeviceType, device_types

    rng = random.Random(seed)
    pm = _plugins()
    installed = device_types(pm) if pm is not None else {"api": DeviceType("api", "外部システム連携", "API")}
    first_day = max(sites[0].accumulation_start or today, today - datetime.timedelta(days=61))
    days = [first_day + datetime.timedelta(days=n) for n in range((today - first_day).days)]
    workdays = [d for d in days if d.weekday() < 6]  # Monday to Saturday
    stored = 0
    with using_scope(session, ALL):
        regs = session.execute(select(SiteWorkerRegistration.site_id, Worker.worker_id).join(
            Worker, Worker.id == SiteWorkerRegistration.worker_id).order_by(SiteWorkerRegistration.id)).all()
        roster: dict[int, list[str]] = {}
        for site_id, code in regs:
            roster.setdefault(site_id, []).append(code)
        strangers = [c for c in session.execute(select(Worker.worker_id).order_by(Worker.id)).scalars()
                     if c not in roster.get(sites[0].id, [])][:3]
        now = datetime.datetime.combine(today, datetime.time(23, 59), TOKYO)
        limits = Limits(max_age=datetime.timedelta(days=120))
        for n, site in enumerate(sites):
            wanted = DEVICE_TYPES[n % len(DEVICE_TYPES)]
            device_type = wanted if wanted in installed else "api"
            device, _key = register_device(session, site, device_type, f"デモ {installed[device_type].label}",
                                           installed=installed)
            session.commit()
            workers = roster.get(site.id, []) + (strangers if n == 0 else [])
            events = []  # (received on, event)
            for day in workdays:
                for code in workers:
                    if rng.random() > 0.7:
                        continue
                    start = rng.randrange(7 * 60, 8 * 60 + 45)
                    end = rng.randrange(16 * 60 + 30, 19 * 60)
                    for kind, minute in (("entry", start), ("exit", end)):
                        if kind == "exit" and rng.random() < 0.05:
                            continue  # a forgotten exit tap: the day still counts
                        at = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), TOKYO)
                        events.append((day, {"event_id": f"demo-{site.site_id}-{code}-{day:%Y%m%d}-{kind}",
                                             "worker_id": code, "site_id": site.site_id, "kind": kind,
                                             "time": at.isoformat()}))
            # sent as the devices would have, each week's taps that week (received before the days closed)
            weeks: dict = {}
            for day, e in events:
                weeks.setdefault(day - datetime.timedelta(days=day.weekday()), []).append(e)
            for monday, week in sorted(weeks.items()):
                sent_at = min(now, datetime.datetime.combine(monday + datetime.timedelta(days=6), datetime.time(23, 59),
                                                             TOKYO))
                for i in range(0, len(week), batch):
                    out = ingest(session, device, week[i:i + batch], plugins=pm, limits=limits, now=sent_at)
                    stored += len(out.stored_ids)
            if n == 0 and strangers:
                stored += _late_tap(session, device, strangers[0], days, today, pm, limits, now)
    return stored


def _late_tap(session, device, code: str, days, today, pm, limits, now) -> int:
    """A device buffer sent long after the fact: a Sunday of a closed month, tapped by a worker with no other taps
    that day, arrives today. It is stored and shown as not counted (補正期限経過)."""
    from portal.history.histories import is_closed

    closed = [d for d in days if d.weekday() == 6 and is_closed(d, today)]
    if not closed:
        return 0
    at = datetime.datetime.combine(closed[-1], datetime.time(8, 0), TOKYO)
    out = ingest(session, device, [{"event_id": f"demo-late-{code}-{closed[-1]:%Y%m%d}", "worker_id": code,
                                    "site_id": device.site.site_id, "kind": "entry", "time": at.isoformat()}],
                 plugins=pm, limits=limits, now=now)
    return len(out.stored_ids)
