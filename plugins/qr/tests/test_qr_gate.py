"""A gate scanner posts the worker QR it read as the credential: the core asks ccus_resolve_worker; a genuine QR
names the worker, a forged or expired one names nobody and the event is kept, not counted."""
from __future__ import annotations

import datetime
import time

from sqlalchemy import select

from ccus_qr import tokens
from portal import ingest
from portal.credentials import keys_from_config
from portal.db import db
from portal.models import Device, EntryExitEvent
from portal.scoping import ALL, using_scope
from qr_helpers import MEGURO, SITE_A, register_qr_device


def _post(app, device_pk, credentials):
    now = datetime.datetime.now(datetime.timezone.utc)
    events = [{"event_id": f"gate-{i}", "credential": c, "site_id": SITE_A, "kind": "entry",
               "time": now.isoformat(), "method": "QR"} for i, c in enumerate(credentials)]
    with app.test_request_context():
        with using_scope(db.session, ALL):
            device = db.session.get(Device, device_pk)
        outcome = ingest.ingest(db.session, device, events, plugins=app.extensions["ccus_plugins"],
                                credential_keys=keys_from_config(app.config))
    with app.app_context(), using_scope(db.session, ALL):
        stored = db.session.execute(select(EntryExitEvent).where(EntryExitEvent.device_id == device_pk)
                                    .order_by(EntryExitEvent.device_event_id)).scalars().all()
        return [r["result"] for r in outcome.results], [(e.worker_code, e.credential_hash is not None) for e in stored]


def test_gate_scanner_posts_worker_qrs(demo_app):
    device_pk, _key = register_qr_device(demo_app, settings={"max_age_days": 7})
    key = tokens.qr_key(demo_app.config)
    genuine = tokens.sign_worker(key, MEGURO)
    expired = tokens.sign_worker(key, MEGURO, issued=int(time.time()) - 8 * 86400)
    forged = tokens.sign_worker(tokens.qr_key({"SECRET_KEY": "an attacker's key"}), MEGURO)
    results, stored = _post(demo_app, device_pk, [genuine, expired, forged])
    assert results == ["accepted"] * 3  # nothing malformed: all kept
    assert stored == [(MEGURO, False), (None, True), (None, True)]  # only the genuine one names the worker

