"""A gate scanner posts the worker QR it read as the credential: the core asks ccus_resolve_worker; a genuine QR
names the worker; a forged, altered, foreign, expired or revoked one is refused: answered `rejected` with its code
(the gate shows red) and kept for the audit, not counted. Revocation from the worker's and the employer's screens."""
from __future__ import annotations

import datetime
import time

from ccus_qr import tokens
from portal.devices import testing
from qr_helpers import (
    MEGURO, SITE_A, decode_png, employer_login_of, logged_in, other_employer_login, register_qr_device,
)

HIROO = "17788930382321"


def _post(app, device_pk, key, credentials):
    """POST /api/v1/events as the gate scanner does, with its device key."""
    now = datetime.datetime.now(datetime.timezone.utc).astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    events = [{"event_id": f"gate-{i}", "credential": c, "site_id": SITE_A, "kind": "entry",
               "time": now.isoformat(), "method": "QR"} for i, c in enumerate(credentials)]
    r = app.test_client().post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    stored = sorted(testing.events_of(app, device_pk), key=lambda e: e.device_event_id)
    answers = [(x["result"], x.get("code")) for x in r.get_json()["results"]]
    return answers, [(e.worker_id, e.credential_hash is not None, e.refusal) for e in stored]


def test_gate_scanner_posts_worker_qrs(demo_app):
    device_pk, device_key = register_qr_device(demo_app, settings={"max_age_days": 7})
    key = tokens.qr_key(demo_app.config)
    genuine = tokens.sign_worker(key, MEGURO)
    expired = tokens.sign_worker(key, MEGURO, issued=int(time.time()) - 8 * 86400)
    foreign = tokens.sign_worker(tokens.qr_key({"SECRET_KEY": "an attacker's key"}), MEGURO)
    parts = genuine.split(".")
    altered = ".".join([*parts[:2], HIROO, *parts[3:]])  # another worker's ID under a genuine signature
    results, stored = _post(demo_app, device_pk, device_key, [genuine, expired, foreign, altered, "not a code"])
    assert results == [("accepted", None), ("rejected", "expired"), ("rejected", "foreign"), ("rejected", "forged"),
                       ("rejected", "malformed")]
    assert stored == [(MEGURO, False, None), (None, True, "expired"), (None, True, "foreign"), (None, True, "forged"),
                      (None, True, "malformed")]  # all kept for the audit; only the genuine one names the worker


def test_revoked_codes_are_refused_from_the_workers_and_the_employers_screens(demo_app):
    device_pk, device_key = register_qr_device(demo_app)
    key = tokens.qr_key(demo_app.config)
    before = tokens.sign_worker(key, MEGURO, issued=int(time.time()) - 60)
    worker = logged_in(demo_app, next(e for e in demo_app.logins if e["role"] == "worker" and e["worker_id"] == MEGURO))
    assert "これまでのQRコードを失効する" in worker.get("/qr/mine/").get_data(as_text=True)
    r = worker.post("/qr/mine/revoke", follow_redirects=True)
    assert "失効しました" in r.get_data(as_text=True)
    employer = logged_in(demo_app, employer_login_of(demo_app, MEGURO))
    [after] = decode_png(employer.get(f"/qr/print/qr.png?worker_id={MEGURO}").data)  # issued after the revocation
    results, _ = _post(demo_app, device_pk, device_key, [before, after])
    assert results == [("rejected", "revoked"), ("accepted", None)]
    assert "失効しました" in employer.post(f"/qr/print/revoke?worker_id={MEGURO}",
                                         follow_redirects=True).get_data(as_text=True)
    results, _ = _post(demo_app, device_pk, device_key, [after])  # the printed sticker is void now
    assert results == [("rejected", "revoked")]
    other = logged_in(demo_app, other_employer_login(demo_app, MEGURO))
    r = other.post(f"/qr/print/revoke?worker_id={MEGURO}", follow_redirects=True)
    assert "失効しました" not in r.get_data(as_text=True)  # another employer's worker is answered as unknown

