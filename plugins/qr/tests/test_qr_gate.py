"""A gate scanner posts the worker QR it read as the credential: the core asks ccus_resolve_worker; a genuine QR
names the worker, a forged or expired one names nobody and the event is kept, not counted."""
from __future__ import annotations

import datetime
import time

from sqlalchemy import select

from ccus_qr import tokens
from portal.db import db
from portal.models import EntryExitEvent
from portal.scoping import ALL, using_scope
from qr_helpers import MEGURO, SITE_A, register_qr_device


def _post(app, device_pk, key, credentials):
    """POST /api/v1/events as the gate scanner does, with its device key."""
    now = datetime.datetime.now(datetime.timezone.utc).astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    events = [{"event_id": f"gate-{i}", "credential": c, "site_id": SITE_A, "kind": "entry",
               "time": now.isoformat(), "method": "QR"} for i, c in enumerate(credentials)]
    r = app.test_client().post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    with app.app_context(), using_scope(db.session, ALL):
        stored = db.session.execute(select(EntryExitEvent).where(EntryExitEvent.device_id == device_pk)
                                    .order_by(EntryExitEvent.device_event_id)).scalars().all()
        return [x["result"] for x in r.get_json()["results"]], [(e.worker_code, e.credential_hash is not None) for e in stored]


def test_gate_scanner_posts_worker_qrs(demo_app):
    device_pk, device_key = register_qr_device(demo_app, settings={"max_age_days": 7})
    key = tokens.qr_key(demo_app.config)
    genuine = tokens.sign_worker(key, MEGURO)
    expired = tokens.sign_worker(key, MEGURO, issued=int(time.time()) - 8 * 86400)
    forged = tokens.sign_worker(tokens.qr_key({"SECRET_KEY": "an attacker's key"}), MEGURO)
    results, stored = _post(demo_app, device_pk, device_key, [genuine, expired, forged])
    assert results == ["accepted"] * 3  # nothing malformed: all kept
    assert stored == [(MEGURO, False), (None, True), (None, True)]  # only the genuine one names the worker

